"""Translation with a trained (or public) generator: the test set both ways, or any image/folder at full size."""

from __future__ import annotations

import contextlib
import copy
import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import torch
import torch.nn.functional as F
from PIL import Image
from pydantic import Field
from tqdm import tqdm

from core.config import TEST, ConfigError
from core.images import load_rgb
from core.items import ItemFailure, isolate
from core.settings import Bool, Cli, DatasetSettings, Hidden, PositiveInt
from model.checkpoint import load_generator
from model.config import Device, Precision, RunName, pick_device, pick_precision
from model.data import IMAGE_EXTS, Skipped, domain_dirs, list_images, to_image, to_tensor
from model.engine import AMP_DTYPES
from model.layout import TRANSLATION_METRICS, RunDir
from model.logs import image_grid, write_metrics
from model.metrics import checkerboard_energy, structure
from model.networks import ResnetBlock
from model.tiling import MIN_TILE, TiledGenerator

TranslateDirection = Literal["A2B", "B2A", "both"]
GRID_ROWS, GRID_HEIGHT = 8, 192
MIN_SIDE = 8  # the generator's smallest input side: 2 px at its quarter-resolution layers
METRICS_SIDE = 1024  # checkerboard and structure of a translation are measured on its central crop of this side
INDEX_LIMIT = 2**31  # elements: CUDA kernels that index with int32 refuse (or misindex) tensors this large
# Peak memory of a whole-image pass over what the shapes alone give (`forward_cost`): CUDA's allocator and cuDNN's
# workspace; on the CPU the measured peak RSS was 1.5-3.75x the shapes' count (12-30 bytes per pixel and ngf channel).
MEMORY_MARGIN = {"cuda": 1.25, "cpu": 3.0}


class TranslateConfig(DatasetSettings):
    """Translation settings: which run or weights, device and precision, batch, memory. Without `inputs` the dataset's
    test set is translated both ways into <run>/translations/{A2B,B2A}/ with side-by-side grids."""

    weights: str | None = Field(
        None, description="run folder, checkpoint, exported generator, or a public netG_A2B.pth / latest_net_G_A.pth"
    )
    inputs: Annotated[tuple[str, ...], Cli(skip=True)] = Field((), description="image files and/or folders")
    out_dir: str | None = Field(None, description="output folder (default: <run>/translations)")
    direction: TranslateDirection = Field("A2B", description="for inputs: A2B or B2A; the test set does both")
    run: Annotated[RunName | None, Cli(flags=("--run-name",))] = Field(
        None, description="run whose generators to use (default: the newest run of the dataset)"
    )
    device: Device = Field("auto", description="auto, cpu, cuda or cuda:N")
    precision: Precision = Field("fp32", description="fp32, bf16, fp16 (CUDA) or auto")
    batch_size: PositiveInt = Field(4, description="same-size images translated together (as many as fit)")
    memory_mb: PositiveInt | None = Field(
        None,
        description="memory one translation may use; an image that needs more is translated layer by layer in tiles, "
        "with the same result (default: 0.8 of the free GPU memory, or half the available RAM)",
    )
    tile: Annotated[PositiveInt | None, Field(ge=MIN_TILE, multiple_of=4)] = Field(
        None, description="tile side for images translated in tiles (default: the largest that fits the memory)"
    )
    grids: Bool = Field(True, description="write side-by-side pages of input | translation")
    progress_bar: Hidden[Bool] = Field(True, description="show a progress bar")


@dataclass(frozen=True)
class TranslateResult:
    """Files written per direction, failures (file + reason), throughput, and the artifact measures of what was
    written (`metrics`: checkerboard / structure per direction and overall, images translated in tiles)."""

    out_dir: Path
    written: dict[str, list[Path]]
    grids: list[Path]
    failed: list[Skipped] = field(default_factory=list)
    seconds: float = 0.0
    images_per_s: float = 0.0
    generators: dict[str, dict] = field(default_factory=dict)
    metrics: dict[str, float | int] = field(default_factory=dict)


def network_side(n: int) -> int:
    """The side the generator gets for an image side of n: a multiple of 4 (two stride-2 steps), at least MIN_SIDE
    (reflection padding and instance norm need a few pixels at the smallest scale)."""
    return max(MIN_SIDE, n + (-n) % 4)


def pad_for_network(x: torch.Tensor) -> tuple[torch.Tensor, tuple[int, int]]:
    """Pad (N, C, H, W) on the bottom/right up to `network_side` (reflect; replicate where the image is too thin to
    mirror, e.g. 1 x 300); returns it and (H, W) to crop back to."""
    h, w = x.shape[-2:]
    ph, pw = network_side(h) - h, network_side(w) - w
    if ph or pw:
        mode = "reflect" if h > ph and w > pw else "replicate"
        x = F.pad(x, (0, pw, 0, ph), mode=mode)
    return x, (h, w)


def available_ram() -> int:
    """Bytes of memory the system can give without swapping (MemAvailable), or 4 GiB where it is not known."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 4 * 2**30


def memory_budget(device: torch.device) -> int:
    """Bytes one translation may use: 80% of the free memory of a CUDA device, half the available RAM on the CPU."""
    if device.type == "cuda":
        return int(torch.cuda.mem_get_info(device)[0] * 0.8)
    return available_ram() // 2


@dataclass(frozen=True)
class ForwardCost:
    """What a whole-image forward pass needs: `bytes`, the most activation memory alive at once (fp32, shapes only),
    and `elements`, the size of its largest tensor (a padded map included)."""

    bytes: int
    elements: int


def forward_cost(G: torch.nn.Module, n: int, h: int, w: int) -> ForwardCost:
    """The cost of G over n images of h x w (sides as the network needs them), from a forward pass on the meta
    device (shapes, no memory, milliseconds): at each layer its input, its output, a reflect-padded copy a
    convolution makes inside, and the input a residual block holds for its sum."""
    meta = _meta_copy(G)
    state = {"held": 0, "peak": 0, "elements": 0}
    nbytes = lambda t: t.numel() * 4  # noqa: E731 - fp32

    def leaf(m: torch.nn.Module, args: tuple, out: torch.Tensor) -> None:
        x = args[0]
        padded = 0
        if isinstance(m, torch.nn.Conv2d) and m.padding_mode != "zeros":
            ph, pw = m.padding
            padded = x.shape[0] * x.shape[1] * (x.shape[2] + 2 * ph) * (x.shape[3] + 2 * pw)
        live = state["held"] + nbytes(x) + (0 if out is x else nbytes(out)) + padded * 4
        state["peak"] = max(state["peak"], live)
        state["elements"] = max(state["elements"], x.numel(), out.numel(), padded)

    def hold(m: torch.nn.Module, args: tuple) -> None:
        state["held"] += nbytes(args[0])

    def release(m: torch.nn.Module, args: tuple, out: torch.Tensor) -> None:
        state["held"] -= nbytes(args[0])

    for m in meta.modules():
        if isinstance(m, ResnetBlock):
            m.register_forward_pre_hook(hold)
            m.register_forward_hook(release)
        elif not list(m.children()):
            m.register_forward_hook(leaf)
    with torch.inference_mode():
        meta(torch.empty(n, 3, h, w, device="meta"))
    return ForwardCost(state["peak"], state["elements"])


@functools.lru_cache(maxsize=8)
def _meta_generator(key: tuple) -> torch.nn.Module:
    from model.networks import NetConfig, ResnetGenerator

    with torch.device("meta"):
        return ResnetGenerator(NetConfig(**dict(key)))


def _meta_copy(G: torch.nn.Module) -> torch.nn.Module:
    """G's structure on the meta device (no weights; hooks go on a fresh copy each time)."""
    cfg = getattr(G, "cfg", None)
    if cfg is not None:
        return copy.deepcopy(_meta_generator(tuple(sorted(cfg.to_dict().items()))))
    return copy.deepcopy(G).to("meta")


class Translator:
    """Runs one generator over images of any size: whole (padded to what the network needs, cropped back) when the
    forward pass fits the memory budget and CUDA's int32 indexing, otherwise layer by layer in tiles
    (`model.tiling`, the same result). No autograd (inference_mode); channels_last on CUDA."""

    def __init__(self, G: torch.nn.Module, device: torch.device, precision: str, batch_size: int = 4,
                 memory_bytes: int | None = None, tile: int | None = None) -> None:  # fmt: skip
        self.memory_format = torch.channels_last if device.type == "cuda" else torch.contiguous_format
        self.G = G.to(device, memory_format=self.memory_format).eval()
        self.device, self.precision, self.batch_size = device, precision, batch_size
        self.budget = memory_bytes or memory_budget(device)
        self.tiled = TiledGenerator(self.G, device, self._autocast, tile, self.budget)
        self.tiled_images = 0
        self._costs: dict[tuple[int, int], ForwardCost] = {}

    def _autocast(self):
        if self.precision == "fp32":
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=AMP_DTYPES[self.precision])

    def cost(self, h: int, w: int) -> ForwardCost:
        """The forward cost of one h x w image (any sides; padded as the network needs), cached per size."""
        key = (network_side(h), network_side(w))
        if key not in self._costs:
            self._costs[key] = forward_cost(self.G, 1, *key)
        return self._costs[key]

    def forward_bytes(self, n: int, h: int, w: int) -> int:
        """Estimated peak memory of the whole-image forward pass of n images of h x w: the shapes' count
        (`forward_cost`) times the device's MEMORY_MARGIN."""
        return int(n * self.cost(h, w).bytes * MEMORY_MARGIN.get(self.device.type, 3.0))

    def batch_limit(self, h: int, w: int) -> int:
        """How many h x w images go through together: at most batch_size, within the memory budget, and with no
        tensor of INDEX_LIMIT elements or more (0: not even one; translate it in tiles)."""
        by_memory = self.budget // max(1, self.forward_bytes(1, h, w))
        by_index = (INDEX_LIMIT - 1) // max(1, self.cost(h, w).elements)
        return min(self.batch_size, by_memory, by_index)

    def fits(self, n: int, h: int, w: int) -> bool:
        return n <= self.batch_limit(h, w)

    @torch.inference_mode()
    def run(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) in [-1, 1] (any H, W) -> same shape, on the CPU, float32: the whole images at once."""
        xp, (h, w) = pad_for_network(x)
        xp = xp.to(self.device, non_blocking=True).contiguous(memory_format=self.memory_format)
        with self._autocast():
            y = self.G(xp)
        return y[..., :h, :w].float().cpu()

    def run_tiled(self, x: torch.Tensor) -> torch.Tensor:
        """(1, 3, H, W) that does not fit: the same result as `run`, layer by layer in tiles. MemoryError when even
        the host cannot hold the layers' feature maps."""
        xp, (h, w) = pad_for_network(x)
        need = self.cost(h, w).bytes
        if need > available_ram():
            raise MemoryError(f"a {w}x{h} image needs about {need / 2**30:.1f} GiB of RAM for tiled translation; "
                              f"{available_ram() / 2**30:.1f} GiB are available")  # fmt: skip
        self.tiled_images += 1
        return self.tiled(xp)[..., :h, :w]

    def translate_images(self, images: list[Image.Image]) -> list[Image.Image]:
        """Translate PIL RGB images at full resolution: same-size ones batched as far as they fit, the rest alone
        (whole or tiled)."""
        results: list[Image.Image | None] = [None] * len(images)
        by_size: dict[tuple[int, int], list[int]] = {}
        for i, im in enumerate(images):
            by_size.setdefault(im.size, []).append(i)
        for (w, h), idxs in by_size.items():
            n = max(1, self.batch_limit(h, w))
            for k in range(0, len(idxs), n):
                chunk = idxs[k : k + n]
                x = torch.stack([to_tensor(images[j]) for j in chunk])
                y = self.run(x) if self.fits(len(chunk), h, w) else self.run_tiled(x)
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
    ds = cfg.data_dir()
    return RunDir.of(ds, cfg.run) if cfg.run else RunDir.newest(ds)


def translate(cfg: TranslateConfig, progress: Callable[[int, int], None] | None = None) -> TranslateResult:
    """Translate cfg.inputs (full resolution) or, without inputs, the dataset's test set in both directions. Each image
    is read, translated and written on its own: one that fails is listed in `failed` with the reason, the others go
    on, and every image is on disk as soon as it is translated."""
    device = pick_device(cfg.device)
    precision = pick_precision(cfg.precision, device)
    run = find_run(cfg)
    weights = Path(cfg.weights) if cfg.weights else run.path
    jobs, default_out = _jobs(cfg, run)
    out_dir = Path(cfg.out_dir) if cfg.out_dir else default_out
    sink = _Sink(out_dir)
    nets = {direction: load_generator(weights, direction) for direction in jobs}  # a bad file stops before any work
    total, done, t0 = sum(len(v) for v in jobs.values()), 0, time.perf_counter()
    bar = tqdm(total=total, desc="translate", unit="img", disable=not cfg.progress_bar, dynamic_ncols=True)
    tiled = 0
    for direction, files in jobs.items():
        G, sink.generators[direction] = nets[direction]
        memory = cfg.memory_mb * 2**20 if cfg.memory_mb else None
        tr = Translator(G, device, precision, cfg.batch_size, memory, cfg.tile)
        target = out_dir / direction if not cfg.inputs else out_dir
        for k in range(0, len(files), cfg.batch_size):
            chunk = files[k : k + cfg.batch_size]
            _translate_chunk(tr, chunk, direction, target, sink)
            done += len(chunk)
            bar.update(len(chunk))
            if progress is not None:
                progress(done, total)
        tiled += tr.tiled_images
        if cfg.grids and sink.thumbs.get(direction):
            sink.grids += _grids(sink.thumbs[direction], out_dir / "grids", direction)
    bar.close()
    seconds = time.perf_counter() - t0
    n = sum(len(v) for v in sink.written.values())
    metrics = {**sink.summary(), "tiled_images": tiled}
    if n:
        write_metrics(out_dir / TRANSLATION_METRICS, {"metrics": metrics, "failed": [vars(f) for f in sink.failed]})
    return TranslateResult(out_dir, sink.written, sink.grids, sink.failed, seconds, n / seconds if seconds else 0.0,
                           sink.generators, metrics)  # fmt: skip


def _jobs(cfg: TranslateConfig, run: RunDir | None) -> tuple[dict[str, list[Path]], Path]:
    """{direction: files} and the default output folder: the given inputs one way, or the test set both ways."""
    if cfg.inputs:
        jobs = {cfg.direction if cfg.direction != "both" else "A2B": collect_inputs(cfg.inputs)}
        return jobs, (run.translations / "custom") if run else Path("translations")
    if run is None:
        raise ConfigError("inputs: give images/folders to translate, or a dataset whose test set to translate")
    test_A, test_B = domain_dirs(run.dataset_dir, TEST)
    return {"A2B": list_images(test_A)[0], "B2A": list_images(test_B)[0]}, run.translations


def _translate_chunk(tr: Translator, files: list[Path], direction: str, target: Path, sink: _Sink) -> None:
    """Read, translate and write up to a batch of files, each on its own (`core.items.isolate`): a file that cannot
    be read, translated or written is recorded and the others go on; a batch that fails is retried image by image."""
    loaded: list[tuple[Path, Image.Image]] = []
    for f in files:
        im = isolate(load_rgb, f)
        if isinstance(im, ItemFailure):
            sink.fail(f, "cannot read", im)
        else:
            loaded.append((f, im))
    if not loaded:
        return
    outs = isolate(tr.translate_images, [im for _, im in loaded])
    if isinstance(outs, ItemFailure):
        outs = [isolate(lambda im: tr.translate_images([im])[0], im) for _, im in loaded]
    for (f, im), out in zip(loaded, outs, strict=True):
        if isinstance(out, ItemFailure):
            sink.fail(f, "translation failed", out)
            continue
        saved = isolate(sink.save, out, target, f)
        if isinstance(saved, ItemFailure):
            sink.fail(f, "cannot write", saved)
        else:
            sink.done(direction, saved, im, out)


class _Sink:
    """What a translation call has produced so far: files per direction, failures, grid thumbnails, measures."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.written: dict[str, list[Path]] = {}
        self.failed: list[Skipped] = []
        self.grids: list[Path] = []
        self.generators: dict[str, dict] = {}
        self.thumbs: dict[str, list[tuple[Image.Image, Image.Image]]] = {}
        self.scores: dict[str, list[tuple[float, float]]] = {}
        self._used: set[Path] = set()

    def fail(self, path: Path, stage: str, failure: ItemFailure) -> None:
        self.failed.append(Skipped(str(path), f"{stage}: {failure}"))

    def save(self, im: Image.Image, folder: Path, src: Path) -> Path:
        """Save as <stem>.png; a second input with the same stem in this call gets <stem>_1.png, ..."""
        folder.mkdir(parents=True, exist_ok=True)
        path, k = folder / f"{src.stem}.png", 1
        while path in self._used:
            path, k = folder / f"{src.stem}_{k}.png", k + 1
        im.save(path)
        self._used.add(path)
        return path

    def done(self, direction: str, path: Path, src: Image.Image, out: Image.Image) -> None:
        """Record a written translation: its path, a grid thumbnail pair, its checkerboard and structure."""
        self.written.setdefault(direction, []).append(path)
        self.thumbs.setdefault(direction, []).append((_thumb(src), _thumb(out)))
        a, b = (to_tensor(_centre(im, METRICS_SIDE))[None] for im in (src, out))
        self.scores.setdefault(direction, []).append((checkerboard_energy(a, b).item(), structure(a, b).item()))

    def summary(self) -> dict[str, float | int]:
        """checkerboard_<dir> (geometric mean), structure_<dir> (mean) and images_<dir> for each direction, and the
        same over all images."""
        out: dict[str, float | int] = {}
        every = [s for v in self.scores.values() for s in v]
        for name, scores in (*self.scores.items(), ("", every)):
            if scores:
                key = f"_{name}" if name else ""
                cb = torch.tensor([c for c, _ in scores]).log().mean().exp().item()
                out[f"checkerboard{key}"], out[f"structure{key}"] = cb, sum(s for _, s in scores) / len(scores)
                out[f"images{key}"] = len(scores)
        return out


def _thumb(im: Image.Image) -> Image.Image:
    """GRID_HEIGHT px high, or at most 4 x GRID_HEIGHT wide for a panorama or a 300x1 strip."""
    scale = min(GRID_HEIGHT / im.height, 4 * GRID_HEIGHT / im.width)
    return im.resize((max(1, round(im.width * scale)), max(1, round(im.height * scale))), Image.BICUBIC)


def _centre(im: Image.Image, side: int) -> Image.Image:
    """The central side x side crop (or the whole image where it is smaller): where the measures are taken."""
    left, top = max(0, (im.width - side) // 2), max(0, (im.height - side) // 2)
    return im.crop((left, top, min(im.width, left + side), min(im.height, top + side)))


def _grids(pairs: list[tuple[Image.Image, Image.Image]], folder: Path, direction: str) -> list[Path]:
    """Pages of GRID_ROWS rows: input | translation (thumbnails GRID_HEIGHT px high)."""
    paths = []
    for page, k in enumerate(range(0, len(pairs), GRID_ROWS), start=1):
        rows = [[to_tensor(src), to_tensor(out)] for src, out in pairs[k : k + GRID_ROWS]]
        paths.append(image_grid(rows, folder / f"{direction}_{page:03d}.png"))
    return paths
