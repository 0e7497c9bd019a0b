"""Exact tiled inference of the ResNet generator: layer by layer over the whole image, tile by tile on the device.

A translation in independent tiles differs from the whole-image one, because instance norm normalises each tile with
its own statistics (and the tiles then need blending). Here every layer's whole feature map stays in host memory; the
convolutions run tile by tile on the device, each tile gathered with the halo its kernel needs (the network's own
reflect or zero padding at the true image borders only), and each instance norm takes its mean and variance over the
whole map. The result is the whole-image forward pass up to float rounding, in any number of tiles, with no seams.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from model.networks import ResizeConv, ResnetBlock

MIN_TILE = 16
TILE_SAFETY = 3  # device memory per tile: input + output tile and the convolution's own workspace


def _border(r: torch.Tensor, n: int, mode: str) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Indices `r` (may run past [0, n)) mapped into [0, n): mirrored (reflect, as nn.ReflectionPad2d) or clamped
    with a mask of the valid ones (zero padding; None when all are valid)."""
    if mode == "reflect":
        r = r.abs()
        return torch.where(r >= n, 2 * (n - 1) - r, r), None
    valid = (r >= 0) & (r < n)
    return r.clamp(0, n - 1), (None if bool(valid.all()) else valid)


@dataclass(frozen=True)
class _Conv:
    """A Conv2d (stride s, kernel k, padding p of `mode`) on the input upsampled `up` times (nearest)."""

    weight: torch.Tensor
    bias: torch.Tensor | None
    k: int
    s: int
    p: int
    mode: str
    up: int = 1

    @classmethod
    def of(cls, m: nn.Conv2d, pad: int | None = None, mode: str | None = None, up: int = 1) -> _Conv:
        p = m.padding[0] if pad is None else pad
        mode = mode or ("zeros" if m.padding_mode == "zeros" else m.padding_mode)
        return cls(m.weight, m.bias, m.kernel_size[0], m.stride[0], p, mode, up)

    def out_size(self, n: int) -> int:
        return (n * self.up + 2 * self.p - self.k) // self.s + 1

    def axis(self, o0: int, o1: int, n: int):
        """(input indices, valid mask, crop of the raw output) for output positions [o0, o1) of an axis of n."""
        r = torch.arange(o0 * self.s - self.p, (o1 - 1) * self.s - self.p + self.k)
        idx, valid = _border(r, n * self.up, self.mode)
        return idx // self.up, valid, (0, o1 - o0)

    def raw(self, t: torch.Tensor) -> torch.Tensor:
        return F.conv2d(t, self.weight.to(t.dtype), None, stride=self.s)


@dataclass(frozen=True)
class _ConvT:
    """A ConvTranspose2d (stride s, kernel k, padding p, output_padding op)."""

    weight: torch.Tensor
    bias: torch.Tensor | None
    k: int
    s: int
    p: int
    op: int
    up: int = 1

    @classmethod
    def of(cls, m: nn.ConvTranspose2d) -> _ConvT:
        return cls(m.weight, m.bias, m.kernel_size[0], m.stride[0], m.padding[0], m.output_padding[0])

    def out_size(self, n: int) -> int:
        return (n - 1) * self.s - 2 * self.p + self.k + self.op

    def axis(self, o0: int, o1: int, n: int):
        """Input positions that contribute to outputs [o0, o1) (none beyond the map: a transposed convolution has no
        padding to fill), and where those outputs lie in the tile's raw (unpadded) result."""
        lo = max(0, math.ceil((o0 + self.p - self.k + 1) / self.s))
        hi = min(n, (o1 + self.p - 1) // self.s + 1)
        return torch.arange(lo, hi), None, (o0 + self.p - self.s * lo, o1 + self.p - self.s * lo)

    def raw(self, t: torch.Tensor) -> torch.Tensor:
        return F.conv_transpose2d(t, self.weight.to(t.dtype), None, stride=self.s)


class TiledGenerator:
    """Runs a ResnetGenerator's layers over (N, C, H, W) host tensors in tiles of at most `tile` x `tile` output
    pixels per layer (None: the largest that fits `tile_bytes` of device memory)."""

    def __init__(self, G: nn.Module, device: torch.device, autocast: Callable[[], contextlib.AbstractContextManager],
                 tile: int | None = None, tile_bytes: int = 2**30) -> None:  # fmt: skip
        self.G, self.device, self.autocast = G, device, autocast
        self.tile, self.tile_bytes = tile, tile_bytes
        self.tiles_run = 0

    @torch.inference_mode()
    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W) float32 on the host, sides as the network needs them -> the generator's output, on the host."""
        x = x.float().cpu()
        return self.G.compose(self._run(self.G.model, x), x)

    def _run(self, modules: nn.Sequential, x: torch.Tensor) -> torch.Tensor:
        mods = list(modules)
        i = 0
        while i < len(mods):
            m = mods[i]
            if isinstance(m, nn.ReflectionPad2d) and i + 1 < len(mods) and isinstance(mods[i + 1], nn.Conv2d):
                x, i = self._spatial(_Conv.of(mods[i + 1], pad=int(m.padding[0]), mode="reflect"), x), i + 2
                continue
            if isinstance(m, nn.Conv2d):
                x = self._spatial(_Conv.of(m), x)
            elif isinstance(m, nn.ConvTranspose2d):
                x = self._spatial(_ConvT.of(m), x)
            elif isinstance(m, ResizeConv):
                x = self._spatial(_Conv.of(m.conv, up=2), x)
            elif isinstance(m, nn.InstanceNorm2d):
                x = instance_norm_(x, m.eps)
            elif isinstance(m, ResnetBlock):
                x = self._run(m.conv_block, x).add_(x)
            elif isinstance(m, nn.Sequential):
                x = self._run(m, x)
            elif isinstance(m, nn.ReLU | nn.Tanh | nn.LeakyReLU | nn.Identity):
                x = m(x)
            else:
                raise TypeError(f"tiled translation: no tiled form of {type(m).__name__}")
            i += 1
        return x

    def _side(self, op, c_in: int, c_out: int) -> int:
        if self.tile is not None:
            return self.tile
        per_pixel = (c_out + c_in * (op.s / op.up) ** 2 if isinstance(op, _Conv) else c_out + c_in / op.s**2) * 4
        side = int(math.sqrt(self.tile_bytes / TILE_SAFETY / per_pixel))
        return max(MIN_TILE, side - side % 4)

    def _spatial(self, op: _Conv | _ConvT, x: torch.Tensor) -> torch.Tensor:
        n, c_in, h, w = x.shape
        c_out = op.weight.shape[0] if isinstance(op, _Conv) else op.weight.shape[1]
        ho, wo = op.out_size(h), op.out_size(w)
        y = torch.empty(n, c_out, ho, wo)
        side = self._side(op, c_in, c_out)
        bias = None if op.bias is None else op.bias.detach().float().cpu().view(1, -1, 1, 1)
        band_bytes = max(1, self.tile_bytes // TILE_SAFETY)  # device memory for finished tiles awaiting their copy
        for o0 in range(0, ho, side):
            o1 = min(ho, o0 + side)
            ri, rv, (r0, r1) = op.axis(o0, o1, h)
            band: list[torch.Tensor] = []  # this row's finished tiles, on the device, left to right from q_start
            q_start = 0
            for q0 in range(0, wo, side):
                q1 = min(wo, q0 + side)
                ci, cv, (c0, c1) = op.axis(q0, q1, w)
                if len(ri) == 0 or len(ci) == 0:  # outputs no input reaches (only an output_padding's bias)
                    raw = torch.zeros(n, c_out, r1, c1, device=self.device)
                else:
                    with self.autocast():
                        raw = op.raw(_gather(x, ri, rv, ci, cv).to(self.device, non_blocking=True))
                if r1 > raw.shape[2] or c1 > raw.shape[3]:  # rows only an output_padding adds (bias alone)
                    raw = F.pad(raw, (0, max(0, c1 - raw.shape[3]), 0, max(0, r1 - raw.shape[2])))
                band.append(raw[..., r0:r1, c0:c1])
                self.tiles_run += 1
                if sum(t.numel() for t in band) * 4 >= band_bytes or q1 == wo:  # one copy to the host per band
                    y[..., o0:o1, q_start:q1] = torch.cat(band, dim=3).float().cpu()
                    band, q_start = [], q1
        return y if bias is None else y.add_(bias)


def _gather(x: torch.Tensor, ri: torch.Tensor, rv: torch.Tensor | None, ci: torch.Tensor,
            cv: torch.Tensor | None) -> torch.Tensor:  # fmt: skip
    """x[..., ri, ci], with the positions outside the map (zero padding) set to 0. Slices the bounding box first and
    gathers only where the indices are not one run (at the image borders, or repeated for nearest upsampling)."""
    r0, r1, c0, c1 = int(ri.min()), int(ri.max()) + 1, int(ci.min()), int(ci.max()) + 1
    t = x[..., r0:r1, c0:c1]
    if len(ri) != r1 - r0 or bool((ri[1:] - ri[:-1] != 1).any()):
        t = t.index_select(2, ri - r0)
    if len(ci) != c1 - c0 or bool((ci[1:] - ci[:-1] != 1).any()):
        t = t.index_select(3, ci - c0)
    if rv is None and cv is None:
        return t
    rows = rv if rv is not None else torch.ones(len(ri), dtype=torch.bool)
    cols = cv if cv is not None else torch.ones(len(ci), dtype=torch.bool)
    return t * (rows[:, None] & cols[None, :])


def instance_norm_(x: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """nn.InstanceNorm2d (no affine, no running stats) in place, over each image's whole (H, W), channel by channel
    to bound the temporary memory."""
    for c in range(x.shape[1]):
        xc = x[:, c : c + 1]
        var, mean = torch.var_mean(xc, dim=(2, 3), keepdim=True, correction=0)
        xc.sub_(mean).mul_(torch.rsqrt(var + eps))
    return x
