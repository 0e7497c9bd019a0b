"""Distinct street photos that share one composition, and transformed copies of them, made from a seed.

Every picture is a road running to a vanishing point between two rows of trees (domain A: green street trees, B:
cherry blossoms): what real photos of one subject look like to a perceptual hash. Unlike `sakura.synthetic`, each
varies what a photographer and a street vary: camera height and heading, road and pavement widths, how many trees
and how far apart, canopy shape and density (a tunnel of branches or sparse crowns), buildings behind, parked cars,
people, lamp posts, road markings, sky (clear, overcast, dusk), light and shadows, petals on the ground, grain.
`transformed` makes the copies a duplicate finder must find (re-saved, recompressed, resized, brightened, cropped,
mirrored, rotated, padded). Used by tests/test_curation_verify.py and benchmarks/bench_curation.py.
"""

from __future__ import annotations

import io
import math
import random
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter

GREENS = [(46, 110, 38), (70, 135, 50), (35, 90, 40), (95, 150, 60), (60, 120, 70), (110, 140, 55), (30, 70, 35)]
PINKS = [(248, 183, 205), (255, 210, 225), (236, 150, 180), (250, 228, 236), (240, 200, 215), (255, 240, 245)]
SKIES = {
    "clear": ((90, 150, 225), (195, 220, 245)),
    "overcast": ((175, 180, 190), (220, 222, 226)),
    "dusk": ((70, 80, 140), (245, 170, 120)),
    "haze": ((200, 210, 220), (235, 235, 230)),
}
# Transformed copies, by kind: what each one is, for the benchmark's table.
KINDS = {
    "exact": "the same pixels saved again with other metadata",
    "q30": "recompressed at JPEG quality 30",
    "resize": "resized to a shorter side of 320 px",
    "bright": "brightness x1.25",
    "crop5": "5% of each side's length cut, at a random offset",
    "crop10": "10% cut, at a random offset",
    "crop20": "20% cut, at a random offset",
    "hflip": "mirrored left to right",
    "rot5": "rotated 5 degrees, cropped to the largest upright rectangle inside",
    "rot15": "rotated 15 degrees, cropped likewise",
    "pad": "letterboxed: a plain border of 6-12% added on two opposite sides",
}
TARGET_KINDS = ("exact", "q30", "resize", "bright", "crop5", "crop10", "hflip")  # recall >= 97% asked of these


def _jit(rng: random.Random, c: tuple[int, int, int], amount: int) -> tuple[int, int, int]:
    return tuple(max(0, min(255, v + rng.randint(-amount, amount))) for v in c)  # type: ignore[return-value]


def _mix(a, b, t: float) -> tuple[int, int, int]:
    return tuple(int(x + (y - x) * t) for x, y in zip(a, b, strict=True))  # type: ignore[return-value]


def _size(rng: random.Random) -> tuple[int, int]:
    w = rng.randint(512, 1024)
    h = int(min(1024, max(512, w * rng.uniform(0.6, 0.85))))
    return (w, h) if rng.random() < 0.8 else (h, w)


def _sky(draw: ImageDraw.ImageDraw, rng: random.Random, w: int, horizon: int) -> None:
    top, bottom = SKIES[rng.choice(list(SKIES))]
    top, bottom = _jit(rng, top, 20), _jit(rng, bottom, 15)
    for y in range(horizon + 1):
        draw.line([(0, y), (w, y)], fill=_mix(top, bottom, (y / max(1, horizon)) ** rng.uniform(0.6, 1.6)))
    for _ in range(rng.randint(0, 6)):  # clouds
        cx, cy, r = rng.uniform(0, w), rng.uniform(0, horizon * 0.8), rng.uniform(20, 90)
        colour = _jit(rng, (240, 240, 242), 12)
        for _ in range(5):
            dx, dy, rr = rng.gauss(0, r), rng.gauss(0, r / 4), r * rng.uniform(0.4, 0.9)
            draw.ellipse([cx + dx - rr, cy + dy - rr / 2.5, cx + dx + rr, cy + dy + rr / 2.5], fill=colour)


def _buildings(draw: ImageDraw.ImageDraw, rng: random.Random, w: int, h: int, vx: float, horizon: int) -> None:
    for side in (-1, 1):
        if rng.random() < 0.35:
            continue
        x = vx + side * rng.uniform(20, 60)
        while 0 < x < w:
            bw, bh = rng.uniform(40, 160), rng.uniform(60, 260) * h / 600
            x2 = x + side * bw
            top = horizon - bh * rng.uniform(0.5, 1.2)
            colour = _jit(rng, rng.choice([(180, 170, 160), (150, 140, 135), (200, 195, 185), (120, 110, 105)]), 20)
            draw.rectangle([min(x, x2), top, max(x, x2), horizon + rng.uniform(0, 40)], fill=colour)
            for _ in range(rng.randint(2, 10)):  # windows
                wx, wy = rng.uniform(min(x, x2), max(x, x2)), rng.uniform(top, horizon)
                draw.rectangle(
                    [wx, wy, wx + rng.uniform(4, 12), wy + rng.uniform(5, 14)], fill=_jit(rng, (70, 80, 95), 25)
                )
            x = x2 + side * rng.uniform(0, 15)


def _ground(draw: ImageDraw.ImageDraw, rng: random.Random, w: int, h: int, vx: float, horizon: int) -> float:
    """Pavement, road and markings; returns the road's half width at the bottom edge."""
    draw.rectangle(
        [0, horizon, w, h], fill=_jit(rng, rng.choice([(150, 145, 135), (120, 120, 115), (170, 160, 150)]), 15)
    )
    half = rng.uniform(0.2, 0.55) * w
    road = _jit(rng, rng.choice([(70, 70, 75), (95, 92, 90), (55, 58, 62)]), 10)
    draw.polygon([(vx - 3, horizon), (vx + 3, horizon), (w / 2 + half, h), (w / 2 - half, h)], fill=road)
    if rng.random() < 0.7:  # centre line: dashes, closer together near the horizon
        n = rng.randint(4, 9)
        for i in range(n):
            t0, t1 = (i / n) ** 1.6, ((i + rng.uniform(0.3, 0.6)) / n) ** 1.6
            y0, y1 = horizon + (h - horizon) * t0, horizon + (h - horizon) * t1
            draw.line([(vx + (w / 2 - vx) * t0, y0), (vx + (w / 2 - vx) * t1, y1)], fill=(230, 220, 170),
                      width=max(1, int(7 * t1)))  # fmt: skip
    if rng.random() < 0.3:  # a crossing near the camera
        y = horizon + (h - horizon) * rng.uniform(0.7, 0.9)
        for k in range(-6, 7):
            x = w / 2 + k * half / 6
            draw.rectangle([x - half / 20, y, x + half / 20, y + (h - horizon) * 0.06], fill=(225, 225, 220))
    return half


def _shadows(im: Image.Image, rng: random.Random, horizon: int) -> Image.Image:
    """Bands of tree shadow across the road and pavement."""
    w, h = im.size
    mask = Image.new("L", (w, h), 0)
    d = ImageDraw.Draw(mask)
    for _ in range(rng.randint(0, 8)):
        y = rng.uniform(horizon, h)
        th = rng.uniform(4, 40) * (y - horizon) / (h - horizon + 1)
        d.polygon([(0, y), (w, y + rng.uniform(-30, 30)), (w, y + th + 20), (0, y + th)], fill=rng.randint(40, 110))
    mask = mask.filter(ImageFilter.GaussianBlur(6))
    dark = ImageEnhance.Brightness(im).enhance(0.55)
    return Image.composite(dark, im, mask)


def _tree(draw: ImageDraw.ImageDraw, rng: random.Random, x: float, base: float, s: float, palette, style: str) -> None:
    trunk = _jit(rng, rng.choice([(80, 60, 45), (60, 50, 45), (100, 85, 70)]), 10)
    th = rng.uniform(40, 90) * s
    lean = rng.uniform(-0.3, 0.3)
    draw.line([(x, base), (x + lean * th, base - th)], fill=trunk, width=max(1, int(rng.uniform(5, 10) * s)))
    for _ in range(rng.randint(2, 5)):  # branches
        a = rng.uniform(-2.4, -0.7)
        bx, by = x + lean * th * 0.8, base - th * 0.8
        ln = rng.uniform(20, 60) * s
        draw.line([(bx, by), (bx + math.cos(a) * ln, by + math.sin(a) * ln)], fill=trunk, width=max(1, int(3 * s)))
    cx, cy = x + lean * th, base - th - rng.uniform(10, 30) * s
    spread = {"tunnel": 2.2, "round": 1.0, "sparse": 1.4, "tall": 0.7}[style]
    blobs = {"tunnel": 70, "round": 45, "sparse": 18, "tall": 40}[style]
    for _ in range(blobs):
        r = rng.uniform(6, 22) * s
        dx = rng.gauss(0, 30 * s * spread)
        dy = rng.gauss(0, 22 * s * (1.8 if style == "tall" else 1.0))
        colour = _jit(rng, rng.choice(palette), 16)
        draw.ellipse([cx + dx - r, cy + dy - r, cx + dx + r, cy + dy + r], fill=colour)


def _objects(draw: ImageDraw.ImageDraw, rng: random.Random, w: int, h: int, vx: float, horizon: int, half: float):
    items = []
    for _ in range(rng.randint(0, 5)):  # parked cars
        t = rng.uniform(0.1, 1.0)
        side = rng.choice((-1, 1))
        y = horizon + (h - horizon) * t
        x = vx + (w / 2 - vx) * t + side * half * t * rng.uniform(0.6, 0.9)
        items.append((t, "car", x, y))
    for _ in range(rng.randint(0, 6)):  # people on the pavement
        t = rng.uniform(0.1, 0.9)
        side = rng.choice((-1, 1))
        y = horizon + (h - horizon) * t
        x = vx + (w / 2 - vx) * t + side * (half * t + rng.uniform(5, 60) * t)
        items.append((t, "person", x, y))
    if rng.random() < 0.5:  # lamp posts
        side, gap = rng.choice((-1, 1)), rng.uniform(0.15, 0.3)
        t = gap
        while t < 1:
            y = horizon + (h - horizon) * t
            items.append((t, "lamp", vx + (w / 2 - vx) * t + side * (half * t * 1.05), y))
            t += gap
    for t, kind, x, y in sorted(items):  # far things first
        s = 0.2 + 1.8 * t * w / 700
        if kind == "car":
            colour = _jit(
                rng, rng.choice([(180, 30, 30), (230, 230, 235), (30, 30, 35), (40, 70, 150), (150, 150, 155)]), 15
            )
            cw, ch = rng.uniform(40, 60) * s, rng.uniform(20, 28) * s
            draw.rectangle([x - cw / 2, y - ch, x + cw / 2, y], fill=colour)
            draw.rectangle([x - cw / 3, y - ch * 1.6, x + cw / 3, y - ch], fill=_mix(colour, (60, 80, 100), 0.5))
            for wx in (x - cw / 3, x + cw / 3):
                draw.ellipse([wx - 6 * s, y - 6 * s, wx + 6 * s, y + 6 * s], fill=(20, 20, 20))
        elif kind == "person":
            colour = _jit(rng, rng.choice([(40, 40, 60), (200, 60, 60), (230, 220, 200), (60, 110, 160)]), 25)
            draw.ellipse([x - 5 * s, y - 36 * s, x + 5 * s, y], fill=colour)
            draw.ellipse([x - 3.5 * s, y - 45 * s, x + 3.5 * s, y - 37 * s], fill=_jit(rng, (220, 180, 150), 25))
        else:
            draw.line([(x, y), (x, y - 110 * s)], fill=(50, 55, 60), width=max(1, int(3 * s)))
            draw.ellipse([x - 5 * s, y - 116 * s, x + 5 * s, y - 106 * s], fill=(240, 235, 200))


def street(domain: str, seed: int, size: tuple[int, int] | None = None) -> Image.Image:
    """One distinct photo-like tree-lined street in perspective; `domain` A = green trees, B = cherry blossoms."""
    if domain not in ("A", "B"):
        raise ValueError(f"domain: got {domain!r}; allowed: A or B")
    rng = random.Random(f"street-{domain}-{seed}")
    w, h = size or _size(rng)
    im = Image.new("RGB", (w, h))
    draw = ImageDraw.Draw(im)
    horizon = int(h * rng.uniform(0.3, 0.6))
    vx = w * rng.uniform(0.25, 0.75)
    _sky(draw, rng, w, horizon)
    _buildings(draw, rng, w, h, vx, horizon)
    half = _ground(draw, rng, w, h, vx, horizon)
    palette = rng.sample(GREENS if domain == "A" else PINKS, k=rng.randint(2, 4))
    if domain == "B" and rng.random() < 0.3:
        palette.append(rng.choice(GREENS))  # leaves coming out
    style = rng.choice(["tunnel", "round", "sparse", "tall"])
    trees = []
    for side in (-1, 1):
        if rng.random() < 0.1:
            continue  # a row of trees on one side only
        n = rng.randint(4, 12)
        offset = rng.uniform(1.0, 1.3)
        for i in range(n):
            t = ((i + rng.uniform(0.5, 1.0)) / n) ** rng.uniform(0.8, 1.4)
            base = horizon + (h - horizon) * t
            x = vx + (w / 2 - vx) * t + side * (half * t * offset + 8)
            trees.append((t, x, base))
    for t, x, base in sorted(trees):  # far trees first, so nearer ones overlap them
        _tree(draw, rng, x, base, 0.15 + 2.0 * t * w / 640, palette, style)
    _objects(draw, rng, w, h, vx, horizon, half)
    if domain == "B" and rng.random() < 0.5:  # petals on the ground
        for _ in range(rng.randint(100, 600)):
            x, y = rng.uniform(0, w), rng.uniform(horizon, h)
            r = rng.uniform(1, 3)
            draw.ellipse([x - r, y - r, x + r, y + r], fill=_jit(rng, rng.choice(PINKS), 10))
    im = _shadows(im, rng, horizon)
    im = im.filter(ImageFilter.GaussianBlur(rng.uniform(0.4, 1.0)))
    im = ImageEnhance.Brightness(im).enhance(rng.uniform(0.8, 1.15))
    im = ImageEnhance.Contrast(im).enhance(rng.uniform(0.85, 1.2))
    im = ImageEnhance.Color(im).enhance(rng.uniform(0.8, 1.2))
    nrng = np.random.default_rng(rng.randrange(1 << 32))
    grain = nrng.normal(0, rng.uniform(2, 7), (h, w, 1)).astype(np.float32)
    return Image.fromarray(np.clip(np.asarray(im, np.float32) + grain, 0, 255).astype(np.uint8))


def jpeg(im: Image.Image, quality: int = 90, **kw) -> bytes:
    """`im` as JPEG bytes."""
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=quality, **kw)
    return buf.getvalue()


def _rotated(im: Image.Image, degrees: float) -> Image.Image:
    """Rotated, then cropped to the largest upright rectangle of the same aspect inside (no corners)."""
    w, h = im.size
    a = math.radians(abs(degrees))
    scale = 1 / (math.cos(a) + math.sin(a) * max(w / h, h / w))
    r = im.rotate(degrees, Image.Resampling.BICUBIC, expand=False)
    cw, ch = w * scale, h * scale
    return r.crop((round((w - cw) / 2), round((h - ch) / 2), round((w + cw) / 2), round((h + ch) / 2)))


def window(im: Image.Image, cut: float, at: tuple[float, float]) -> Image.Image:
    """The crop keeping `1 - cut` of each side's length, placed at `at` (0..1 of the room left, across and down)."""
    w, h = im.size
    cw, ch = round(w * (1 - cut)), round(h * (1 - cut))
    x0, y0 = round((w - cw) * at[0]), round((h - ch) * at[1])
    return im.crop((x0, y0, x0 + cw, y0 + ch))


def brightened(im: Image.Image, factor: float) -> Image.Image:
    """Every channel times `factor`, clipped to 0-255."""
    return Image.fromarray(np.clip(np.asarray(im, np.float32) * factor, 0, 255).astype(np.uint8))


def transformed(im: Image.Image, kind: str, rng: random.Random) -> bytes:
    """A copy of `im` of one of `KINDS`, as JPEG bytes."""
    w, h = im.size
    if kind == "exact":
        return jpeg(im, comment=b"the same pixels, other bytes")
    if kind == "q30":
        return jpeg(im, 30)
    if kind == "resize":
        f = 320 / min(w, h)
        return jpeg(im.resize((round(w * f), round(h * f)), Image.Resampling.LANCZOS))
    if kind == "bright":
        return jpeg(brightened(im, 1.25))
    if kind.startswith("crop"):
        f = int(kind[4:]) / 100
        cw, ch = round(w * (1 - f)), round(h * (1 - f))
        x0, y0 = rng.randint(0, w - cw), rng.randint(0, h - ch)
        return jpeg(im.crop((x0, y0, x0 + cw, y0 + ch)))
    if kind == "hflip":
        return jpeg(im.transpose(Image.Transpose.FLIP_LEFT_RIGHT))
    if kind.startswith("rot"):
        return jpeg(_rotated(im, int(kind[3:]) * rng.choice((-1, 1))))
    if kind == "pad":
        f = rng.uniform(0.06, 0.12)
        colour = rng.choice([(0, 0, 0), (255, 255, 255), (30, 30, 30)])
        if rng.random() < 0.5:
            out = Image.new("RGB", (w, round(h * (1 + 2 * f))), colour)
            out.paste(im, (0, round(h * f)))
        else:
            out = Image.new("RGB", (round(w * (1 + 2 * f)), h), colour)
            out.paste(im, (round(w * f), 0))
        return jpeg(out)
    raise ValueError(f"kind: got {kind!r}; allowed: {', '.join(KINDS)}")


def write_streets(out_dir: str | Path, domain: str, count: int, start: int = 0) -> list[Path]:
    """`count` distinct street photos of one domain as JPEGs in `out_dir`; returns their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for seed in range(start, start + count):
        path = out / f"street_{domain}_{seed:05d}.jpg"
        path.write_bytes(jpeg(street(domain, seed)))
        paths.append(path)
    return paths
