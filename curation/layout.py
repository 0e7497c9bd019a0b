"""Where curation reads and writes in a dataset folder (the only module that spells these paths).

It reads `raw/<A|B>/` (every regular, non-hidden file, whatever its name) and `curation/excluded.txt`; it writes
the split folders `{train,test}/{A,B}/` (and, in the official layout, `trainA/trainB/testA/testB/`) and its own
records under `curation/`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.config import DOMAIN_KEYS, SPLITS, ConfigError
from scraper.layout import RawLayout


@dataclass(frozen=True)
class RawFile:
    """One raw file: its domain, absolute path, path relative to `raw/`, size and modification time."""

    domain: str
    path: Path
    relpath: str
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class DatasetLayout:
    """One dataset folder as curation sees it."""

    root: Path

    @property
    def raw(self) -> RawLayout:
        return RawLayout.of(self.root)

    @property
    def curation_dir(self) -> Path:
        return self.root / "curation"

    @property
    def manifest(self) -> Path:
        """manifest.csv: one row per raw file with its status, reason, group, split and output."""
        return self.curation_dir / "manifest.csv"

    @property
    def report(self) -> Path:
        return self.curation_dir / "report.json"

    @property
    def state(self) -> Path:
        """state.sqlite: cached analyses and every split ever assigned."""
        return self.curation_dir / "state.sqlite"

    @property
    def staged(self) -> Path:
        """Resized copies the outputs are hard-linked from."""
        return self.curation_dir / "staged"

    @property
    def sheets(self) -> Path:
        return self.curation_dir / "sheets"

    @property
    def excluded(self) -> Path:
        """excluded.txt: image ids a reviewer left out."""
        return self.curation_dir / "excluded.txt"

    @property
    def review_record(self) -> Path:
        """review.json: the fingerprint of the dataset a reviewer approved last."""
        return self.curation_dir / "review.json"

    def output_dirs(self, split: str, domain: str, official: bool) -> list[Path]:
        """Folders an image of this split and domain is written to: `<split>/<domain>`, and `<split><domain>`."""
        dirs = [self.root / split / domain]
        if official:
            dirs.append(self.root / f"{split}{domain}")
        return dirs

    def all_output_dirs(self) -> list[Path]:
        """Every split folder of both layouts."""
        return [d for s in SPLITS for k in DOMAIN_KEYS for d in self.output_dirs(s, k, True)]

    def split_dirs(self, split: str) -> tuple[Path, Path]:
        """The A and B folders of a split: `<split>/{A,B}` (this project) or `<split>{A,B}` (the official layout)."""
        ours, official = zip(*(self.output_dirs(split, k, True) for k in DOMAIN_KEYS), strict=True)
        for a, b in (ours, official):
            if a.is_dir() and b.is_dir():
                return a, b
        raise ConfigError(
            f"dataset: no {split} images in {self.root}; expected {split}/A and {split}/B (or {split}A and {split}B)"
        )

    def raw_files(self) -> list[RawFile]:
        """What curation analyses: every regular, non-hidden file under raw/A and raw/B (subfolders included),
        sorted by domain and path."""
        files = []
        for domain in DOMAIN_KEYS:
            base = self.raw.domain_dir(domain)
            if not base.is_dir():
                continue
            for p in base.rglob("*"):
                if p.name.startswith(".") or not p.is_file():
                    continue
                try:
                    st = p.stat()
                    size, mtime_ns = st.st_size, st.st_mtime_ns
                except OSError:  # gone or unreadable since it was listed: analysed (and reported) all the same
                    size, mtime_ns = -1, -1
                files.append(RawFile(domain, p, _printable(p.relative_to(self.raw.root).as_posix()), size, mtime_ns))
        return sorted(files, key=lambda f: (f.domain, f.relpath))

    def inputs(self) -> list[Path]:
        """Every file curation analyses: the raw files and, when present, the exclusions (what its cache keys on).
        Provenance is only looked up in raw/manifest.sqlite, which every scrape touches: it is not an input."""
        return [f.path for f in self.raw_files()] + ([self.excluded] if self.excluded.is_file() else [])


def _printable(relpath: str) -> str:
    """A path as text that can be stored and printed: bytes of a name that is not valid UTF-8 (which Python keeps as
    lone surrogates) written as backslash escapes, e.g. `A/caf\\xe9.jpg`."""
    try:
        relpath.encode("utf-8")
    except UnicodeEncodeError:
        return relpath.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return relpath
