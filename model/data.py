"""Unaligned two-domain image data: layouts, robust image loading, the recipe's transforms and the loaders."""

from __future__ import annotations

import math
import shutil
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset, DistributedSampler, Sampler
from torchvision.transforms import InterpolationMode
from torchvision.transforms import functional as TF

from core.config import SPLITS, ConfigError, UserError
from core.images import load_rgb
from core.items import ItemFailure, isolate
from curation.layout import DatasetLayout

IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif")


def to_tensor(im: Image.Image) -> torch.Tensor:
    """RGB PIL image -> (3, H, W) float in [-1, 1]."""
    return TF.to_tensor(im).mul_(2).sub_(1)


def to_image(t: torch.Tensor) -> Image.Image:
    """(3, H, W) in [-1, 1] on any device -> RGB PIL image."""
    arr = t.detach().float().clamp(-1, 1).add(1).mul(127.5).round().to(torch.uint8).cpu()
    return Image.fromarray(arr.permute(1, 2, 0).numpy())


def domain_dirs(root: Path, split: str) -> tuple[Path, Path]:
    """The A and B folders of a split in either layout curation writes (`curation.layout`)."""
    return DatasetLayout(Path(root)).split_dirs(split)


def dataset_files(root: Path) -> list[Path]:
    """Every image file training and evaluation read: both splits, both domains (what a training cache keys on)."""
    files = []
    for split in SPLITS:
        try:
            dirs = domain_dirs(root, split)
        except ConfigError:
            continue
        files += [p for d in dirs for p in sorted(d.iterdir()) if p.is_file() and p.suffix.lower() in IMAGE_EXTS]
    return files


@dataclass(frozen=True)
class Skipped:
    """A file that is not used, and why."""

    path: str
    reason: str


class NoImagesLeftError(UserError):
    """Every image of a domain failed to load: there is nothing left to train on."""


def _verify(path: Path) -> None:
    with Image.open(path) as im:
        im.verify()


def list_images(folder: Path) -> tuple[list[Path], list[Skipped]]:
    """Image files in `folder` (sorted), checked to open; unreadable ones are returned with the reason."""
    files, skipped = [], []
    for p in sorted(folder.iterdir()):
        if not p.is_file() or p.suffix.lower() not in IMAGE_EXTS:
            continue
        failure = isolate(_verify, p)
        if isinstance(failure, ItemFailure):
            skipped.append(Skipped(str(p), str(failure)))
        else:
            files.append(p)
    return files, skipped


def train_transform(im: Image.Image, load_size: int, crop: int, g: torch.Generator) -> torch.Tensor:
    """Resize the shorter side to load_size (bicubic), random crop `crop` x `crop`, random h-flip, to [-1, 1]."""
    im = TF.resize(im, load_size, interpolation=InterpolationMode.BICUBIC)
    w, h = im.size
    top = int(torch.randint(0, h - crop + 1, (1,), generator=g))
    left = int(torch.randint(0, w - crop + 1, (1,), generator=g))
    im = TF.crop(im, top, left, crop, crop)
    if torch.rand(1, generator=g).item() < 0.5:
        im = TF.hflip(im)
    return to_tensor(im)


def eval_transform(im: Image.Image, size: int) -> torch.Tensor:
    """Resize the shorter side to `size` (bicubic) and centre-crop a square: fixed-size evaluation images."""
    im = TF.resize(im, size, interpolation=InterpolationMode.BICUBIC)
    return to_tensor(TF.center_crop(im, size))


class UnalignedDataset(Dataset):
    """Pairs image i of domain A with a random image of domain B. Indexed by (epoch, i): the random crop, flip and
    B partner are a pure function of (seed, epoch, i), so any worker count and a resumed run see the same data.

    An image that fails to load (in the main process or a DataLoader worker) is replaced by the next one of its domain
    that loads, and named in the sample's "failed" field ("path<TAB>reason" lines) for the loop to report; when none
    of a domain's images loads, NoImagesLeftError names the domain and a file."""

    def __init__(self, files_A: list[Path], files_B: list[Path], load_size: int, crop: int, seed: int = 0) -> None:
        if not files_A or not files_B:
            raise ConfigError(f"dataset: need images in both domains; got A={len(files_A)}, B={len(files_B)}")
        self.files_A, self.files_B = files_A, files_B
        self.load_size, self.crop, self.seed = load_size, crop, seed
        self._bad: dict[Path, str] = {}  # files this process found unreadable (skipped without reading again)

    def __len__(self) -> int:
        return len(self.files_A)

    def __getitem__(self, key: tuple[int, int]) -> dict[str, torch.Tensor | str]:
        epoch, i = key
        g = torch.Generator().manual_seed((self.seed * 1_000_003 + epoch) * 10_000_019 + i)
        j = int(torch.randint(0, len(self.files_B), (1,), generator=g))
        failed: list[str] = []
        real_A = self._load(self.files_A, i, g, failed, "A")  # (3, crop, crop)
        real_B = self._load(self.files_B, j, g, failed, "B")
        return {"A": real_A, "B": real_B, "failed": "\n".join(failed)}

    def _load(self, files: list[Path], k: int, g: torch.Generator, failed: list[str], domain: str) -> torch.Tensor:
        """files[k] transformed, else the next file (cyclically) that loads; each failure noted in `failed`."""
        for step in range(len(files)):
            path = files[(k + step) % len(files)]
            if path in self._bad:
                continue
            out = isolate(lambda p: train_transform(load_rgb(p), self.load_size, self.crop, g), path)
            if not isinstance(out, ItemFailure):
                return out
            self._bad[path] = str(out)
            failed.append(f"{path}\t{out}")
        example = next(p for p in files if p in self._bad)
        reason = self._bad[example]
        raise NoImagesLeftError(
            f"dataset: none of the {len(files)} training images of domain {domain} could be loaded "
            f"(e.g. {example}: {reason})"
        )


class FolderDataset(Dataset):
    """Fixed-size evaluation images of one folder's files (resize + centre crop)."""

    def __init__(self, files: list[Path], size: int) -> None:
        self.files, self.size = files, size

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i: int) -> torch.Tensor:
        return eval_transform(load_rgb(self.files[i]), self.size)

    def load_all(self) -> tuple[torch.Tensor, list[Skipped]]:
        """(N, 3, size, size) of every file that loads, and the ones that did not, with the reason."""
        images, skipped = [], []
        for i, path in enumerate(self.files):
            out = isolate(self.__getitem__, i)
            if isinstance(out, ItemFailure):
                skipped.append(Skipped(str(path), str(out)))
            else:
                images.append(out)
        stack = torch.stack(images) if images else torch.zeros(0, 3, self.size, self.size)
        return stack, skipped


class EpochSampler(Sampler):
    """DistributedSampler (1 replica when not distributed) yielding (epoch, index) keys; `skip` drops the first
    indices of an epoch (resuming mid-epoch) and `limit` caps the indices per epoch."""

    def __init__(self, n: int, num_replicas: int = 1, rank: int = 0, seed: int = 0, limit: int | None = None):
        self.inner = DistributedSampler(range(n), num_replicas=num_replicas, rank=rank, shuffle=True, seed=seed)
        self.epoch, self.skip, self.limit = 0, 0, limit

    def set_epoch(self, epoch: int, skip: int = 0) -> None:
        self.epoch, self.skip = epoch, skip
        self.inner.set_epoch(epoch)

    def per_epoch(self) -> int:
        """Indices in a whole epoch for this rank."""
        n = len(self.inner)
        return n if self.limit is None else min(n, self.limit)

    def __len__(self) -> int:
        return max(0, self.per_epoch() - self.skip)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        idx = list(self.inner)[: self.per_epoch()]
        return iter([(self.epoch, i) for i in idx[self.skip :]])


def make_loader(
    dataset: Dataset, sampler: Sampler | None, batch_size: int, num_workers: int, cuda: bool, shuffle: bool = False
) -> DataLoader:
    """A DataLoader with pinned memory and persistent workers on CUDA; workers share memory through files when
    /dev/shm is too small for tensors (the usual cause of worker crashes in containers)."""
    if num_workers > 0 and _shm_bytes() < 512 * 2**20:
        torch.multiprocessing.set_sharing_strategy("file_system")
        warnings.warn("/dev/shm is under 512 MiB: DataLoader workers share tensors through files instead", stacklevel=2)
    return DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=sampler,
        shuffle=shuffle if sampler is None else False,
        num_workers=num_workers,
        pin_memory=cuda,
        persistent_workers=num_workers > 0,
        drop_last=False,
    )


def _shm_bytes() -> int:
    try:
        return shutil.disk_usage("/dev/shm").free
    except OSError:
        return 0


def first_batch_or_explain(loader: DataLoader) -> tuple[Iterator, dict | None]:
    """Start iterating; if the worker processes themselves fail (not an image), raise an error that says what
    failed and how to run without workers."""
    it = iter(loader)
    return it, next_batch(it, loader)


def next_batch(it: Iterator, loader: DataLoader) -> dict | None:
    """The next batch (None at the end). A NoImagesLeftError from a worker comes back as itself with its own message
    (not the worker's traceback); worker processes that die raise an error saying how to run without them."""
    try:
        return next(it)
    except StopIteration:
        return None
    except NoImagesLeftError as e:
        lines = [line for line in str(e).splitlines() if line.strip()]
        message = lines[-1].removeprefix(f"{__name__}.").removeprefix("NoImagesLeftError: ") if lines else str(e)
        raise NoImagesLeftError(message) from None
    except RuntimeError as e:
        if loader.num_workers > 0 and "worker" in str(e).lower():
            raise RuntimeError(
                f"DataLoader workers failed: {str(e).splitlines()[0]} (num_workers={loader.num_workers}). "
                "Run with --num-workers 0 to load images in the main process."
            ) from e
        raise


def batch_failures(batch: dict) -> list[Skipped]:
    """The images a batch had to replace (the samples' "failed" fields), as Skipped records."""
    out = []
    for text in batch.get("failed", ()):
        for line in filter(None, text.split("\n")):
            path, _, reason = line.partition("\t")
            out.append(Skipped(path, reason))
    return out


def iterations(n_items: int, batch_size: int) -> int:
    """Batches needed for n_items."""
    return math.ceil(n_items / batch_size)
