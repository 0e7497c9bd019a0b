"""The demo's synthetic street scenes written as JPEG files, for tests."""

from __future__ import annotations

from pathlib import Path

from sakura.synthetic import street_scene


def write_scenes(
    out_dir: str | Path, domain: str, count: int, start: int = 0, size: tuple[int, int] = (512, 384), quality: int = 90
) -> list[Path]:
    """Write `count` JPEG scenes of one domain to `out_dir`; return their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for seed in range(start, start + count):
        path = out / f"{domain.lower()}_{seed:05d}.jpg"
        street_scene(domain, seed, size).save(path, quality=quality)
        paths.append(path)
    return paths
