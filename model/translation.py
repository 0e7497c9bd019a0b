"""Translation with a trained (or public) generator: the test set both ways, or any image/folder at full size."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import torch
import torch.nn.functional as F
from PIL import Image, UnidentifiedImageError
from pydantic import Field, model_validator
from tqdm import tqdm

from core.config import ConfigError
from core.images import load_rgb
from core.settings import Bool, Cli, Hidden, NonNegativeInt, PositiveInt, Settings, invalid
from model.checkpoint import load_generator
from model.config import DatasetName, Device, Precision, RunName, data_dir, pick_device, pick_precision
from model.data import IMAGE_EXTS, Skipped, domain_dirs, list_images, to_image, to_tensor
from model.engine import AMP_DTYPES
from model.layout import RunDir
from model.logs import image_grid

TranslateDirection = Literal["A2B", "B2A", "both"]
GRID_ROWS, GRID_HEIGHT = 8, 192


class TranslateConfig(Settings):
    """Translation settings: which run or weights, device and precision, batch, tiling. Without `inputs` the dataset's
    test set is translated both ways into <run>/translations/{A2B,B2A}/ with side-by-side grids."""

    weights: str | None = Field(
        None, description="run folder, checkpoint, exported generator, or a public netG_A2B.pth / latest_net_G_A.pth"
    )
    inputs: Annotated[tuple[str, ...], Cli(skip=True)] = Field((), description="image files and/or folders")
    out_dir: str | None = Field(None, description="output folder (default: <run>/translations)")
    direction: TranslateDirection = Field("A2B", description="for inputs: A2B or B2A; the test set does both")
    dataset: Hidden[DatasetName | None] = Field(
        None, description="dataset name under the data root (default: the name in the domains file)"
    )
    dataset_dir: Hidden[str | None] = Field(None, description="dataset folder; overrides --dataset")
    run: Annotated[RunName | None, Cli(flags=("--run-name",))] = Field(
        None, description="run whose generators to use (default: the newest run of the dataset)"
    )
    device: Device = Field("auto", description="auto, cpu, cuda or cuda:N")
    precision: Precision = Field("fp32", description="fp32, bf16, fp16 (CUDA) or auto")
    batch_size: PositiveInt = Field(4, description="same-size images translated together")
    tile: Annotated[PositiveInt, Field(ge=32, multiple_of=4)] = Field(
        512, description="images larger than this are translated in overlapping, blended tiles"
    )
    overlap: NonNegativeInt = Field(64, description="pixels shared by neighbouring tiles")
    grids: Bool = Field(True, description="write side-by-side pages of input | translation")
    progress_bar: Hidden[Bool] = Field(True, description="show a progress bar")

    @model_validator(mode="after")
    def _overlap_fits(self) -> TranslateConfig:
        if self.overlap > self.tile // 2:
            raise invalid("overlap", self.overlap, f"0..tile/2 = {self.tile // 2}")
        return self


@dataclass(frozen=True)
class TranslateResult:
    """Files written per direction, failures (file + reason), throughput."""

    out_dir: Path
    written: dict[str, list[Path]]
    grids: list[Path]
    failed: list[Skipped] = field(default_factory=list)
    seconds: float = 0.0
    images_per_s: float = 0.0
    generators: dict[str, dict] = field(default_factory=dict)


def pad_to_multiple(x: torch.Tensor, m: int = 4) -> tuple[torch.Tensor, tuple[int, int]]:
    """Pad (N, C, H, W) on the bottom/right to multiples of m (reflect, replicate for tiny sides)."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % m, (-w) % m
    if ph or pw:
        mode = "reflect" if h > ph and w > pw else "replicate"
        x = F.pad(x, (0, pw, 0, ph), mode=mode)
    return x, (h, w)


def tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    """Start offsets of tiles of `tile` covering [0, length) with at least `overlap` shared between neighbours."""
    if length <= tile:
        return [0]
    stride = tile - overlap
    starts = list(range(0, length - tile, stride)) + [length - tile]
    return sorted(set(starts))


def blend_window(h: int, w: int, overlap: int) -> torch.Tensor:
    """(1, 1, h, w) weights ramping linearly from ~0 to 1 over `overlap` pixels at every edge."""

    def ramp(n: int) -> torch.Tensor:
        r = torch.ones(n)
        if overlap > 0:
            edge = torch.linspace(1 / (overlap + 1), 1, overlap)
            k = min(overlap, n // 2)
            r[:k], r[n - k :] = edge[:k], edge[:k].flip(0)
        return r

    return (ramp(h)[:, None] * ramp(w)[None, :])[None, None]


class Translator:
    """Runs one generator over images of any size: whole (padded to a multiple of 4) or as blended tiles."""

    def __init__(self, G: torch.nn.Module, device: torch.device, precision: str, tile: int, overlap: int,
                 batch_size: int) -> None:  # fmt: skip
        self.G = G.to(device).eval()
        self.device, self.precision = device, precision
        self.tile, self.overlap, self.batch_size = tile, overlap, batch_size

    def _autocast(self):
        if self.precision == "fp32":
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=AMP_DTYPES[self.precision])

    @torch.no_grad()
    def run(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) in [-1, 1] (any H, W) -> same shape, on the CPU, float32."""
        xp, (h, w) = pad_to_multiple(x)
        with self._autocast():
            y = self.G(xp.to(self.device))
        return y[..., :h, :w].float().cpu()

    @torch.no_grad()
    def run_tiled(self, x: torch.Tensor) -> torch.Tensor:
        """(1, 3, H, W) larger than the tile: overlapping tiles in batches, blended with edge-ramped weights."""
        _, c, h, w = x.shape
        th, tw = min(self.tile, h), min(self.tile, w)
        boxes = [(t, lf) for t in tile_starts(h, th, self.overlap) for lf in tile_starts(w, tw, self.overlap)]
        out = torch.zeros(1, c, h, w)
        weight = torch.zeros(1, 1, h, w)
        win = blend_window(th, tw, self.overlap)
        for i in range(0, len(boxes), self.batch_size):
            chunk = boxes[i : i + self.batch_size]
            y = self.run(torch.cat([x[..., t : t + th, lf : lf + tw] for t, lf in chunk]))
            for (t, lf), tile_out in zip(chunk, y, strict=True):
                out[..., t : t + th, lf : lf + tw] += tile_out * win[0]
                weight[..., t : t + th, lf : lf + tw] += win[0]
        return out / weight

    def translate_images(self, images: list[Image.Image]) -> list[Image.Image]:
        """Translate PIL RGB images at full resolution: same-size small ones batched, large ones tiled."""
        results: list[Image.Image | None] = [None] * len(images)
        small: dict[tuple[int, int], list[int]] = {}
        for i, im in enumerate(images):
            if im.width > self.tile or im.height > self.tile:
                results[i] = to_image(self.run_tiled(to_tensor(im)[None])[0])
            else:
                small.setdefault(im.size, []).append(i)
        for idxs in small.values():
            for k in range(0, len(idxs), self.batch_size):
                chunk = idxs[k : k + self.batch_size]
                y = self.run(torch.stack([to_tensor(images[j]) for j in chunk]))
                for j, t in zip(chunk, y, strict=True):
                    results[j] = to_image(t)
        return results


def collect_inputs(inputs: tuple[str, ...]) -> list[Path]:
    """Image files given directly or found (not recursively) in given folders; a missing path is a ConfigError."""
    files: list[Path] = []
    for raw in inputs:
        p = Path(raw)
        if p.is_dir():
            files += sorted(f for f in p.iterdir() if f.is_file() and f.suffix.lower() in IMAGE_EXTS)
        elif p.is_file():
            files.append(p)
        else:
            raise ConfigError(f"inputs: {p} does not exist")
    return files


def find_run(cfg: TranslateConfig) -> RunDir | None:
    """The run whose generators translate: cfg.run, else the newest trained run of the dataset; None when only
    `weights` were given."""
    if cfg.weights and not (cfg.dataset or cfg.dataset_dir or cfg.run):
        return None
    ds = data_dir(cfg.dataset, cfg.dataset_dir)
    return RunDir.of(ds, cfg.run) if cfg.run else RunDir.newest(ds)


def translate(cfg: TranslateConfig, progress: Callable[[int, int], None] | None = None) -> TranslateResult:
    """Translate cfg.inputs (full resolution) or, without inputs, the dataset's test set in both directions."""
    device = pick_device(cfg.device)
    precision = pick_precision(cfg.precision, device)
    run = find_run(cfg)
    weights = Path(cfg.weights) if cfg.weights else run.path
    if cfg.inputs:
        jobs = {cfg.direction if cfg.direction != "both" else "A2B": collect_inputs(cfg.inputs)}
        default_out = (run.translations / "custom") if run else Path("translations")
    else:
        if run is None:
            raise ConfigError("inputs: give images/folders to translate, or a dataset whose test set to translate")
        test_A, test_B = domain_dirs(run.dataset_dir, "test")
        jobs = {"A2B": list_images(test_A)[0], "B2A": list_images(test_B)[0]}
        default_out = run.translations
    out_dir = Path(cfg.out_dir) if cfg.out_dir else default_out
    written: dict[str, list[Path]] = {}
    grids: list[Path] = []
    failed: list[Skipped] = []
    gens: dict[str, dict] = {}
    total, done, t0 = sum(len(v) for v in jobs.values()), 0, time.perf_counter()
    bar = tqdm(total=total, desc="translate", unit="img", disable=not cfg.progress_bar, dynamic_ncols=True)
    for direction, files in jobs.items():
        G, info = load_generator(weights, direction)
        gens[direction] = info
        tr = Translator(G, device, precision, cfg.tile, cfg.overlap, cfg.batch_size)
        target = out_dir / direction if not cfg.inputs else out_dir
        written[direction], pairs, used = [], [], set()
        for k in range(0, len(files), cfg.batch_size):
            chunk = files[k : k + cfg.batch_size]
            ok, ims = [], []
            for f in chunk:
                try:
                    ims.append(load_rgb(f))
                    ok.append(f)
                except (UnidentifiedImageError, OSError, ValueError) as e:
                    failed.append(Skipped(str(f), f"{type(e).__name__}: {e}"))
            for f, im, out in zip(ok, ims, tr.translate_images(ims), strict=True):
                written[direction].append(_save(out, target, f, used))
                pairs.append((im, out))
            done += len(chunk)
            bar.update(len(chunk))
            if progress is not None:
                progress(done, total)
        if cfg.grids and pairs:
            grids += _grids(pairs, out_dir / "grids", direction)
    bar.close()
    seconds = time.perf_counter() - t0
    n = sum(len(v) for v in written.values())
    if failed:
        names = "; ".join(f.path for f in failed)
        print(f"translate: {len(failed)} file(s) could not be read: {names}", file=sys.stderr)
    return TranslateResult(out_dir, written, grids, failed, seconds, n / seconds if seconds else 0.0, gens)


def _save(im: Image.Image, folder: Path, src: Path, used: set[Path]) -> Path:
    """Save as <stem>.png; a second input with the same stem in this call gets <stem>_1.png, ..."""
    folder.mkdir(parents=True, exist_ok=True)
    path, k = folder / f"{src.stem}.png", 1
    while path in used:
        path, k = folder / f"{src.stem}_{k}.png", k + 1
    used.add(path)
    im.save(path)
    return path


def _grids(pairs: list[tuple[Image.Image, Image.Image]], folder: Path, direction: str) -> list[Path]:
    """Pages of GRID_ROWS rows: input | translation, scaled to GRID_HEIGHT px high."""
    paths = []
    for page, k in enumerate(range(0, len(pairs), GRID_ROWS), start=1):
        rows = []
        for src, out in pairs[k : k + GRID_ROWS]:
            w = max(1, round(src.width * GRID_HEIGHT / src.height))
            rows.append([to_tensor(im.resize((w, GRID_HEIGHT), Image.BICUBIC)) for im in (src, out)])
        paths.append(image_grid(rows, folder / f"{direction}_{page:03d}.png"))
    return paths
