"""Where the scraper writes: `<dataset>/raw/` (the only module that spells these paths)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.config import DOMAIN_KEYS

RAW = "raw"
RAW_PREFIX = f"{RAW}/"  # before a path relative to raw/, it makes the path relative to the dataset folder


@dataclass(frozen=True)
class RawLayout:
    """`<dataset>/raw/`: `<A|B>/<sha256>.<ext>` files, `manifest.sqlite`, `.partial/` temp files, `debug/<run>/`."""

    root: Path

    @classmethod
    def of(cls, dataset_dir: str | Path) -> RawLayout:
        """The raw folder of a dataset folder."""
        return cls(Path(dataset_dir) / RAW)

    @property
    def manifest(self) -> Path:
        return self.root / "manifest.sqlite"

    @property
    def partial_dir(self) -> Path:
        """Temp files live outside raw/A and raw/B, so readers never see a partial file."""
        return self.root / ".partial"

    def domain_dir(self, domain: str) -> Path:
        return self.root / domain

    def domain_dirs(self) -> list[Path]:
        return [self.domain_dir(d) for d in DOMAIN_KEYS]

    def image_relpath(self, domain: str, sha256: str, ext: str) -> str:
        """A stored file's path relative to raw/ (as the manifest records it): named by its content."""
        return f"{domain}/{sha256}.{ext}"

    def debug_dir(self, run_id: str) -> Path:
        """Page sources and screenshots of searches that found nothing, per run."""
        return self.root / "debug" / run_id
