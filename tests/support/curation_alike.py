"""Three more generators of alike street photos (a road to a vanishing point, canopies on both sides), written apart
from `curation_streets` and from each other, each with its own choices of blur, texture, palette, lens and sky, so
that verification is judged on sets it was not tuned to. `soft_avenue` is the tuning set; `noise_canopy` and
`hazy_lane` are held out. Each is `make(domain, seed) -> Image` (A: green trees, B: cherry blossoms)."""

from __future__ import annotations

import io
import random

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter

_BLOSSOM = [(250, 205, 220), (244, 180, 200), (255, 232, 240), (232, 160, 186), (252, 222, 228)]
_LEAF = [(58, 118, 48), (84, 140, 62), (40, 92, 44), (104, 150, 70), (70, 110, 58)]


def _palette(domain: str) -> list[tuple[int, int, int]]:
    if domain not in ("A", "B"):
        raise ValueError(f"domain: got {domain!r}; allowed: A or B")
    return _LEAF if domain == "A" else _BLOSSOM


def _shade(rng: random.Random, c: tuple[int, int, int], amount: int) -> tuple[int, int, int]:
    return tuple(max(0, min(255, v + rng.randint(-amount, amount))) for v in c)  # type: ignore[return-value]


def soft_avenue(domain: str, seed: int) -> Image.Image:
    """Phone-photo softness: a straight road to a central vanishing point under two canopy masses of overlapping
    blossom or leaf blobs whose lower edge follows the perspective, a pale sky, then a strong Gaussian blur (2-3.5 px
    at 800 px), a little sharpening and fine sensor noise. Low detail, one composition."""
    palette = _palette(domain)
    rng = random.Random(f"soft-{domain}-{seed}")
    w, h = rng.choice([(800, 600), (960, 640), (720, 540), (600, 800)])
    vx, vy = w * rng.uniform(0.44, 0.56), h * rng.uniform(0.42, 0.52)
    im = Image.new("RGB", (w, h), _shade(rng, (214, 222, 232), 10))
    d = ImageDraw.Draw(im)
    d.rectangle([0, vy, w, h], fill=_shade(rng, (150, 146, 140), 8))
    d.polygon([(vx - 2, vy), (vx + 2, vy), (w * 0.85, h), (w * 0.15, h)], fill=_shade(rng, (92, 92, 96), 6))
    for side in (-1, 1):
        for _ in range(rng.randint(350, 550)):
            t = rng.random() ** 0.7  # depth: 0 at the vanishing point, 1 at the camera
            edge = vx + side * (20 + t * w * 0.55)
            x = edge + side * rng.uniform(-0.1, 0.6) * t * w * 0.6
            y = vy + rng.uniform(-1.05 * vy, 0.35 * (h - vy)) * t
            r = (4 + 38 * t) * rng.uniform(0.6, 1.3)
            d.ellipse([x - r, y - r, x + r, y + r], fill=_shade(rng, rng.choice(palette), 14))
        for i in range(rng.randint(5, 9)):  # trunks
            t = (i + rng.uniform(0.3, 1.0)) / 9
            x, base = vx + side * (25 + t * w * 0.42), vy + (h - vy) * t * 0.9
            d.line([(x, base), (x, base - 160 * t)], fill=_shade(rng, (70, 58, 50), 8), width=max(1, int(10 * t)))
    im = im.filter(ImageFilter.GaussianBlur(rng.uniform(2.0, 3.5) * w / 800))
    im = im.filter(ImageFilter.UnsharpMask(radius=2, percent=rng.randint(40, 90), threshold=2))
    noise = np.random.default_rng(seed).normal(0, rng.uniform(1.0, 2.5), (h, w, 1))
    return Image.fromarray(np.clip(np.asarray(im, np.float32) + noise, 0, 255).astype(np.uint8))


def _value_noise(rng: np.random.Generator, h: int, w: int, octaves: int) -> np.ndarray:
    """(h, w) fractal value noise in 0..1: random grids from 4 cells up, bicubically upsampled and summed."""
    total = np.zeros((h, w), np.float32)
    amp, norm = 1.0, 0.0
    for o in range(octaves):
        cells = 4 * 2**o
        grid = Image.fromarray((rng.random((cells, cells)) * 255).astype(np.uint8))
        total += amp * np.asarray(grid.resize((w, h), Image.Resampling.BICUBIC), np.float32) / 255
        norm += amp
        amp *= 0.55
    return total / norm


def _lens(a: np.ndarray, rng: random.Random) -> np.ndarray:
    """Barrel distortion, a vignette and lateral chromatic aberration (red and blue scaled apart) on (h, w, 3)."""
    h, w, _ = a.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    nx, ny = (xx - w / 2) / (w / 2), (yy - h / 2) / (h / 2)
    r2 = nx * nx + ny * ny
    k, ca = rng.uniform(0.04, 0.12), rng.uniform(0.002, 0.006)
    out = np.empty_like(a)
    for c, s in enumerate((1 + ca, 1.0, 1 - ca)):
        f = (1 + k * r2) * s / (1 + k)
        sx = np.clip(nx * f * (w / 2) + w / 2, 0, w - 1).astype(np.int32)
        sy = np.clip(ny * f * (h / 2) + h / 2, 0, h - 1).astype(np.int32)
        out[..., c] = a[sy, sx, c]
    return out * (1 - rng.uniform(0.2, 0.45) * r2[..., None] / 2)


def noise_canopy(domain: str, seed: int) -> Image.Image:
    """Rendered in numpy: canopies of fractal value-noise texture cut by a perspective mask (the canopy thins toward
    a vanishing point that drifts off centre), a clear sky with a sun glare, a colour ramp between two palette shades
    per pixel, then a wide-angle lens (barrel distortion, vignette, chromatic aberration) and a slight defocus."""
    palette = _palette(domain)
    rng = random.Random(f"noise-{domain}-{seed}")
    nrng = np.random.default_rng(rng.randrange(1 << 32))
    w, h = rng.choice([(768, 512), (900, 600), (640, 640), (560, 840)])
    vx, vy = w * rng.uniform(0.35, 0.65), h * rng.uniform(0.38, 0.55)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    sky_top, sky_low = np.array([70, 130, 215], np.float32), np.array([200, 222, 245], np.float32)
    a = sky_top + (sky_low - sky_top) * (yy / h)[..., None]
    sun = np.exp(-(((xx - w * rng.uniform(0.1, 0.9)) ** 2 + (yy - h * 0.1) ** 2) / (2 * (0.15 * w) ** 2)))
    a = a + 60 * sun[..., None]
    ground = yy > vy
    road = ground & (np.abs(xx - vx) < (yy - vy) * rng.uniform(0.6, 1.0))
    a[ground] = [138, 132, 124]
    a[road] = [84, 84, 90]
    side = np.clip(np.abs(xx - vx) / (w * 0.5), 0, 1.2)  # 0 at the vanishing point, 1 at the frame's side
    depth = np.clip(side + np.clip(vy - yy, 0, None) / h, 0, 1.5)  # far -> near
    tex = _value_noise(nrng, h, w, 6)
    canopy = (yy < vy + 0.45 * (h - vy) * side**1.5) & (tex > 0.6 - 0.3 * depth) & (side > 0.05)
    lo, hi = (np.array(c, np.float32) for c in rng.sample(palette, 2))
    ramp = _value_noise(nrng, h, w, 4)[..., None]
    light = 0.7 + 0.6 * _value_noise(nrng, h, w, 7)[..., None]  # leaf-scale light and shade
    a = np.where(canopy[..., None], (lo + (hi - lo) * ramp) * light, a)
    a = _lens(a.astype(np.float32), rng)
    im = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(rng.uniform(0.8, 1.6)))
    return ImageEnhance.Color(im).enhance(rng.uniform(0.9, 1.25))


def hazy_lane(domain: str, seed: int) -> Image.Image:
    """A narrow lane that curves toward its vanishing point, trunks as tapering lines, crowns as clusters of small
    dots (petal-sized), an overcast flat sky, fog that fades everything toward a haze colour with distance, a
    horizontal motion blur, desaturation and a baked-in JPEG at quality 55-75 with coarse grain."""
    palette = _palette(domain)
    rng = random.Random(f"hazy-{domain}-{seed}")
    w, h = rng.choice([(820, 560), (700, 700), (1000, 660), (600, 860)])
    vy = h * rng.uniform(0.35, 0.48)
    bend = rng.uniform(-0.25, 0.25) * w
    im = Image.new("RGB", (w, h), _shade(rng, (205, 205, 208), 6))
    d = ImageDraw.Draw(im)
    d.rectangle([0, vy, w, h], fill=_shade(rng, (120, 126, 110), 10))

    def lane_x(t: float) -> float:  # t: 0 at the vanishing point, 1 at the camera
        return w / 2 + bend * (1 - t) ** 2

    for i in range(40):  # the lane, as strips from far to near
        t0, t1 = i / 40, (i + 1) / 40
        y0, y1 = vy + (h - vy) * t0, vy + (h - vy) * t1
        d.polygon([(lane_x(t0) - t0 * w * 0.3, y0), (lane_x(t0) + t0 * w * 0.3, y0),
                   (lane_x(t1) + t1 * w * 0.3, y1), (lane_x(t1) - t1 * w * 0.3, y1)], fill=(150, 140, 125))  # fmt: skip
    trees = sorted((rng.uniform(0.05, 1.0), side) for side in (-1, 1) for _ in range(rng.randint(6, 14)))
    fog = _shade(rng, (215, 212, 210), 5)
    for t, side in trees:  # far first
        base = vy + (h - vy) * t
        x = lane_x(t) + side * (t * w * 0.3 + 15 + rng.uniform(0, 40) * t)
        mix = (1 - t) ** 1.5 * 0.8  # fog
        top = base - 260 * t - 20
        trunk = tuple(int(c + (f - c) * mix) for c, f in zip((60, 52, 46), fog, strict=True))
        d.polygon([(x - 6 * t - 1, base), (x + 6 * t + 1, base), (x + 1, top), (x - 1, top)], fill=trunk)
        for _ in range(int(120 + 500 * t)):
            px, py = x + rng.gauss(0, 70 * t + 6), top + rng.gauss(0, 45 * t + 4)
            r = rng.uniform(1.0, 2.5) + 3 * t
            c = rng.choice(palette)
            c = tuple(int(v + (f - v) * mix) for v, f in zip(c, fog, strict=True))
            d.ellipse([px - r, py - r, px + r, py + r], fill=c)
    k = rng.randint(3, 7)
    a = np.asarray(im, np.float32)
    a = sum(np.roll(a, s - k // 2, axis=1) for s in range(k)) / k  # horizontal motion blur of k px
    grain = np.random.default_rng(seed + 7).normal(0, rng.uniform(3, 6), ((h + 1) // 2, (w + 1) // 2, 1))
    a = a + grain.repeat(2, 0).repeat(2, 1)[:h, :w]  # coarse grain, 2 px a grain
    im = ImageEnhance.Color(Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))).enhance(rng.uniform(0.6, 0.85))
    return _baked_jpeg(im, rng.randint(55, 75))


def _baked_jpeg(im: Image.Image, quality: int) -> Image.Image:
    """`im` after one JPEG round trip at `quality` (what a phone or a site did to it)."""
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


GENERATORS = {"soft_avenue": soft_avenue, "noise_canopy": noise_canopy, "hazy_lane": hazy_lane}
TUNING = "soft_avenue"  # verification was tuned on this one only; the others are held out
HELD_OUT = ("noise_canopy", "hazy_lane")
