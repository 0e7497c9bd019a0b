"""Raw folders for the curation benchmarks, made from seeds: varied pictures or alike street photos, with planted
copies of every kind (tests/support/curation_streets.py) whose pairs the benchmarks score."""

from __future__ import annotations

import io
import random
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sakura.synthetic import street_scene  # noqa: E402
from tests.support import curation_streets as cs  # noqa: E402

KINDS = (*cs.KINDS, "exif")  # every kind of planted copy
TARGET_KINDS = cs.TARGET_KINDS  # recall >= 97% is asked of these together
Planted = set[frozenset[str]]  # pairs of file names (original, copy)


def scene(seed: int) -> Image.Image:
    """A distinct 512-1024 px picture with photo-like noise (so it costs what a photo costs to decode)."""
    rng = np.random.default_rng(seed)
    w = int(rng.integers(512, 1025))
    h = int(np.clip(w * rng.uniform(0.6, 1.0), 512, 1024))
    w, h = (w, h) if rng.random() < 0.7 else (h, w)
    im = Image.fromarray((rng.random((6, 8, 3)) * 255).astype(np.uint8)).resize((w, h), Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(im)
    for _ in range(8):
        x0, y0 = int(rng.integers(0, w - 40)), int(rng.integers(0, h - 40))
        box = (x0, y0, x0 + int(rng.integers(20, w // 2)), y0 + int(rng.integers(20, h // 2)))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=colour)
    a = np.asarray(im, dtype=np.int16) + rng.normal(0, 6, (h, w, 1)).astype(np.int16)
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))


def copy_of(im: Image.Image, kind: str, seed: int) -> bytes:
    """A planted copy of `im` of one of KINDS, as JPEG bytes."""
    if kind != "exif":
        return cs.transformed(im, kind, random.Random(seed))
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated 90 degrees, shown upright
    buf = io.BytesIO()
    im.transpose(Image.Transpose.ROTATE_90).save(buf, "JPEG", quality=90, exif=exif.tobytes())
    return buf.getvalue()


MAKERS: dict[str, Callable[[str, int], Image.Image]] = {
    "varied": lambda domain, seed: scene(seed),
    "streets": cs.street,
    "synthetic": street_scene,
}


def _make(job: tuple[str, str, int, str | None, str]) -> list[tuple[str, str, bytes]]:
    """(domain, name, bytes) of one original and, if asked, its copy (in `copy_domain`)."""
    maker, domain, seed, kind, copy_domain = job
    im = MAKERS[maker](domain, seed)
    out = [(domain, f"{domain}{seed:05d}_orig.jpg", cs.jpeg(im))]
    if kind:
        out.append((copy_domain, f"{domain}{seed:05d}_{kind}.jpg", copy_of(im, kind, seed)))
    return out


def generate(raw: Path, jobs: list[tuple[str, str, int, str | None, str]], workers: int) -> Planted:
    """Write the jobs' files under raw/A and raw/B; return the planted pairs."""
    planted = set()
    with ProcessPoolExecutor(workers) as pool:
        for files in pool.map(_make, jobs, chunksize=8):
            for domain, name, data in files:
                (raw / domain).mkdir(parents=True, exist_ok=True)
                (raw / domain / name).write_bytes(data)
            if len(files) == 2:
                planted.add(frozenset(f[1] for f in files))
    return planted


def varied_jobs(n: int, share: float = 0.15, kinds: tuple[str, ...] = KINDS) -> list:
    """`n` files: distinct varied pictures in both domains, `share` of them planted copies cycling through `kinds`,
    a third of the copies in the other domain."""
    n_copies = int(n * share)
    jobs = []
    for s in range(n - n_copies):
        domain = "A" if s % 2 else "B"
        kind = kinds[s % len(kinds)] if s < n_copies else None
        jobs.append(("varied", domain, s, kind, ("B" if domain == "A" else "A") if s % 3 == 0 else domain))
    return jobs


def alike_jobs(maker: str, per_domain: int, copies_per_kind: int, kinds: tuple[str, ...] = KINDS) -> list:
    """Alike pictures (`maker`: streets or synthetic), `per_domain` distinct ones in each domain, the first
    `copies_per_kind * len(kinds)` of each domain with one copy each, in their own domain."""
    jobs = []
    for domain in "AB":
        for s in range(per_domain):
            kind = kinds[s % len(kinds)] if s < copies_per_kind * len(kinds) else None
            jobs.append((maker, domain, s, kind, domain))
    return jobs


def score(found: Planted, planted: Planted) -> tuple[float, int]:
    """(recall of the planted pairs, number of found pairs that were not planted)."""
    return len(found & planted) / max(1, len(planted)), len(found - planted)


def kind_of(name: str) -> str:
    return name.rsplit("_", 1)[1].removesuffix(".jpg")


def by_kind(found: Planted, planted: Planted, kinds: tuple[str, ...] = KINDS) -> dict[str, float]:
    """Recall per kind of planted copy."""
    out = {}
    for k in kinds:
        mine = {p for p in planted if any(kind_of(n) == k for n in p)}
        if mine:
            out[k] = score(found, mine)[0]
    return out


def target_recall(found: Planted, planted: Planted) -> float:
    """Recall over the target kinds together."""
    return score(found, {p for p in planted if any(kind_of(n) in TARGET_KINDS for n in p)})[0]


@lru_cache(maxsize=64)
def _heavy_source(k: int) -> Image.Image:
    """Photo k of the duplicate-heavy set: the real photos scikit-image ships, then street photos of both kinds."""
    from tests.support.curation_alike import real_photos

    photos = list(real_photos().values())
    if k < len(photos):
        return photos[k]
    k -= len(photos)
    return (cs.street if k % 2 else street_scene)("AB"[k // 2 % 2], 5000 + k)


def _heavy_copy(job: tuple[int, int, int]) -> tuple[str, str, bytes]:
    """(domain, name, bytes) of file `i` of the duplicate-heavy set: photo `k` as it is, or a copy of it made by a
    random 55-95% crop, a colour and brightness shift, perhaps a mirror, saved at JPEG quality 70-95."""
    k, i, seed = job
    im = _heavy_source(k).convert("RGB")
    rng = np.random.default_rng(seed)
    domain = "AB"[int(rng.integers(0, 2))]
    if i == 0:
        return domain, f"H{k:03d}_orig.jpg", cs.jpeg(im, 95)
    w, h = im.size
    keep = rng.uniform(0.55, 0.95)
    cw, ch = int(w * keep), int(h * keep)
    x, y = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
    im = im.crop((x, y, x + cw, y + ch))
    a = np.asarray(im, dtype=np.float32) * rng.uniform(0.8, 1.2, 3) * rng.uniform(0.85, 1.15)
    im = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))
    if rng.random() < 0.3:
        im = im.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return domain, f"H{k:03d}_copy{i:04d}.jpg", cs.jpeg(im, int(rng.integers(70, 96)))


def heavy(raw: Path, n: int, photos: int = 40, workers: int = 2, start: int = 0) -> None:
    """`n` duplicate-heavy JPEGs under raw/A and raw/B: `photos` photos (real ones, then street photos) and copies of
    them (`_heavy_copy`), spread over both domains; `start` > 0 adds more files to a set already written."""
    jobs = [(j % photos, j // photos, 7919 * j) for j in range(start, start + n)]
    with ProcessPoolExecutor(workers) as pool:
        for domain, name, data in pool.map(_heavy_copy, jobs, chunksize=16):
            (raw / domain).mkdir(parents=True, exist_ok=True)
            (raw / domain / name).write_bytes(data)
