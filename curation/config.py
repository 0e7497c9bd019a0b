"""CurationConfig: every setting of the curation stage, validated on construction."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from sakura.config import DATASET_NAME_RE, require
from sakura.paths import dataset_dir

OUTPUT_FORMATS = ("jpg", "png")
RESAMPLE_FILTERS = ("bicubic", "lanczos")
ANIMATED_POLICIES = ("reject", "first_frame")
CROSS_DOMAIN_POLICIES = ("drop", "A", "B")
# Pillow refuses to open anything above twice its MAX_IMAGE_PIXELS; a larger limit could never take effect.
PIL_HARD_LIMIT = 2 * (Image.MAX_IMAGE_PIXELS or 89_478_485)


def default_workers() -> int:
    """Worker processes for decoding: the CPUs this process may use, at most 8."""
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        n = os.cpu_count() or 1
    return max(1, min(n, 8))


@dataclass(frozen=True)
class CurationConfig:
    """Settings of one curation run; `dataset` names the folder under the data root unless `root` is given."""

    dataset: str = "street2sakura"
    root: Path | None = None
    # validation
    min_side: int = 256
    max_aspect: float = 2.5
    max_pixels: int = 64_000_000
    min_std: float = 4.0
    reject_grayscale: bool = True
    grayscale_max_chroma: float = 8.0
    animated: str = "reject"
    # deduplication
    threshold: int = 8
    cross_domain: str = "drop"
    # output
    load_size: int = 286
    resample: str = "bicubic"
    output_format: str = "jpg"
    jpeg_quality: int = 95
    official_layout: bool = False
    # split
    test_fraction: float = 0.1
    seed: int = 0
    # execution and review
    workers: int = 0
    sheet_thumb: int = 128
    sheet_max_images: int = 300

    def __post_init__(self) -> None:
        require(
            isinstance(self.dataset, str) and bool(DATASET_NAME_RE.match(self.dataset)),
            "dataset",
            self.dataset,
            "a dataset name: lowercase letters, digits, '-' and '_'",
        )
        _int_in(self, "min_side", 1, 100_000)
        require(
            isinstance(self.max_aspect, int | float) and self.max_aspect >= 1.0,
            "max_aspect",
            self.max_aspect,
            "a number >= 1.0 (long side / short side)",
        )
        _int_in(self, "max_pixels", 1, PIL_HARD_LIMIT)
        require(
            isinstance(self.min_std, int | float) and 0 <= self.min_std < 128,
            "min_std",
            self.min_std,
            "a grey-level standard deviation in [0, 128)",
        )
        require(isinstance(self.reject_grayscale, bool), "reject_grayscale", self.reject_grayscale, "true or false")
        require(
            isinstance(self.grayscale_max_chroma, int | float) and 0 <= self.grayscale_max_chroma < 255,
            "grayscale_max_chroma",
            self.grayscale_max_chroma,
            "a chroma level in [0, 255)",
        )
        require(self.animated in ANIMATED_POLICIES, "animated", self.animated, " or ".join(ANIMATED_POLICIES))
        _int_in(self, "threshold", 0, 32)
        require(
            self.cross_domain in CROSS_DOMAIN_POLICIES,
            "cross_domain",
            self.cross_domain,
            "'drop' (remove from both domains) or the domain that keeps it, 'A' or 'B'",
        )
        _int_in(self, "load_size", 16, 4096)
        require(self.resample in RESAMPLE_FILTERS, "resample", self.resample, " or ".join(RESAMPLE_FILTERS))
        require(self.output_format in OUTPUT_FORMATS, "output_format", self.output_format, " or ".join(OUTPUT_FORMATS))
        _int_in(self, "jpeg_quality", 1, 100)
        require(isinstance(self.official_layout, bool), "official_layout", self.official_layout, "true or false")
        require(
            isinstance(self.test_fraction, int | float) and 0 <= self.test_fraction < 1,
            "test_fraction",
            self.test_fraction,
            "a fraction in [0, 1)",
        )
        _int_in(self, "seed", 0, 2**63 - 1)
        _int_in(self, "workers", 0, 256)
        _int_in(self, "sheet_thumb", 32, 512)
        _int_in(self, "sheet_max_images", 1, 100_000)
        require(self.root is None or isinstance(self.root, str | Path), "root", self.root, "a folder path or None")
        if self.root is not None:
            object.__setattr__(self, "root", Path(self.root))

    @property
    def dataset_dir(self) -> Path:
        """The dataset folder: `root` if given, else the named dataset under the data root."""
        return self.root if self.root is not None else dataset_dir(self.dataset)

    @property
    def n_workers(self) -> int:
        """Decoding processes to use (`workers` = 0 means one per available CPU, at most 8)."""
        return self.workers or default_workers()

    @property
    def decode_key(self) -> str:
        """The settings that change what decoding produces; cached analyses made under others are redone."""
        return f"v2:{self.load_size}:{self.resample}:{self.output_format}:{self.jpeg_quality}:{self.max_pixels}"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy, stored beside every artifact this config produced."""
        d = asdict(self)
        d["root"] = None if self.root is None else str(self.root)
        return d


def _int_in(cfg: CurationConfig, field: str, lo: int, hi: int) -> None:
    value = getattr(cfg, field)
    ok = isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi
    require(ok, field, value, f"an integer in [{lo}, {hi}]")
