"""Tests for curation.layout: what curation reads (every non-hidden raw file) and where it writes."""

from __future__ import annotations

import pytest

from core.config import ConfigError
from curation.layout import DatasetLayout


def test_raw_files_lists_both_domains_and_skips_hidden(tmp_path):
    for rel in ("A/1.jpg", "A/sub/2.png", "B/3.jpg", "A/.partial.tmp", "C/4.jpg", "B/no-suffix", "A/x.JFIF"):
        (tmp_path / "raw" / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "raw" / rel).write_bytes(b"x")
    (tmp_path / "raw" / "manifest.sqlite").write_bytes(b"")
    layout = DatasetLayout(tmp_path)
    files = layout.raw_files()
    assert [(f.domain, f.relpath) for f in files] == [
        ("A", "A/1.jpg"), ("A", "A/sub/2.png"), ("A", "A/x.JFIF"), ("B", "B/3.jpg"), ("B", "B/no-suffix")
    ]  # fmt: skip
    assert files[0].size == 1 and files[0].mtime_ns > 0
    assert layout.inputs() == [f.path for f in files]
    layout.excluded.parent.mkdir()
    layout.excluded.write_text("0123456789ab\n")
    assert layout.inputs()[-1] == layout.excluded


@pytest.mark.parametrize("official", [False, True])
def test_split_dirs_in_either_layout(tmp_path, official):
    layout = DatasetLayout(tmp_path)
    for d in layout.output_dirs("train", "A", official)[-1:] + layout.output_dirs("train", "B", official)[-1:]:
        d.mkdir(parents=True)
    a, b = layout.split_dirs("train")
    assert (a.name, b.name) == (("trainA", "trainB") if official else ("A", "B"))
    with pytest.raises(ConfigError, match="no test images"):
        layout.split_dirs("test")
