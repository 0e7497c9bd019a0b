"""A CPU stand-in for device memory: a tensor whose every host read (what makes the CPU wait for a GPU) raises."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch


class HostReadError(AssertionError):
    """A value derived from device data was read on the host."""


_READS = {
    torch.Tensor.item, torch.Tensor.tolist, torch.Tensor.numpy, torch.Tensor.cpu, torch.Tensor.__bool__,
    torch.Tensor.__float__, torch.Tensor.__int__, torch.Tensor.__index__, torch.Tensor.is_nonzero, torch.Tensor.nonzero,
    torch.nonzero, torch.Tensor.equal, torch.equal, torch.Tensor.allclose, torch.allclose, torch.Tensor.masked_select,
    torch.masked_select, torch.Tensor.unique, torch.unique, torch.Tensor.__repr__, torch.Tensor.__format__,
}  # fmt: skip


_allowed = False


@contextlib.contextmanager
def host_reads_allowed() -> Iterator[None]:
    """Where reading device values is meant (a LossLog's read: the one sync per many steps)."""
    global _allowed
    _allowed = True
    try:
        yield
    finally:
        _allowed = False


class OnDevice(torch.Tensor):
    """Every tensor computed from an OnDevice one is OnDevice too (__torch_function__ keeps the subclass), so a step
    fed OnDevice images raises HostReadError at the first .item(), .cpu(), bool(), nonzero(), ... of anything
    derived from them: the reads that are host syncs on CUDA."""

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        if func in _READS and not _allowed:
            raise HostReadError(f"{getattr(func, '__name__', func)} read a device value on the host")
        return super().__torch_function__(func, types, args, kwargs or {})


def on_device(x: torch.Tensor) -> torch.Tensor:
    """x marked as device memory (shares its storage)."""
    return x.as_subclass(OnDevice)
