"""Alike but distinct street photos from generators written independently of the verification they test (and
before it was tuned), plus the real photos scikit-image ships; and the copies a duplicate finder must group.

Every generator draws one composition, a road to a vanishing point between two rows of canopies (domain A: green, B:
cherry blossoms), each with choices of its own that tests/support/curation_streets.py and sakura.synthetic do not
make:

- `hazy`: phone photos on a grey day; soft overlapping crowns of pastel blobs, atmospheric haze towards the horizon,
  a strong blur (1.2-2.6 px), low contrast, a white sky. The set verification was tuned on.
- `textured`: numpy-rendered; canopies from fractal value noise inside a perspective envelope, speckled leaf and
  petal texture at pixel scale, asphalt grain, saturated colours, clear skies, barrel lens distortion. Held out.
- `telephoto`: a long lens at dusk; compressed perspective (a high horizon, crowns stacked close together), a sunset
  gradient with a sun glow, vignetting, chromatic aberration, sometimes a little motion blur, colour noise and a
  tone curve. Held out.
- `rainy`: a wet street under a dark sky, often in portrait; crowns of small dots mirrored in the road, rain streaks,
  muted colours. Held out, and unseen until the design was final (`UNSEEN`).
- `dotted`: square, sharpened, a tilted horizon, a road curving away, crowns of fine dots, saved at JPEG quality 60.
  Held out, and unseen until the design was final.
- `glare`: overexposed midday, high key, crowns as smooth very soft shapes (a 2.5-4 px blur), clipped highlights.
  Held out, unseen until the third design was final.
- `night`: dark, under lamps, heavy sensor noise, pools of warm light, crowns lit from below. Held out, unseen until
  the third design was final.
- `flat`: flat vector art, a few colours, hard edges, no blur or noise, crowns as big polygons; `fog`: dense fog,
  everything but the nearest trees faded to one pale grey. Held out, unseen until the fourth design was final.
- `painted`: a watercolour, not a photo: Beer-Lambert glazes of mottled, granulating washes with frayed edges and
  dark drying rims, crowns of brush dabs with paper between them, a darker colour bled into them, clouds of paper left
  white, pencil underdrawing, an unpainted margin. Held out, unseen until the fifth design was final.
- `bokeh`: shallow depth of field: a sharp branch in leaf or blossom across a top corner, the street behind it an
  8-14 px blur, bokeh discs with bright rims turning to cat's eyes towards the corners. Held out, unseen until the
  fifth design was final.
- `panorama`: a phone's sweep panorama, 2.05-2.35 : 1, hard sun: house fronts, tall crowns arching over the road with
  dappled shadows across it, a bowed horizon, stitched frames showing as steps of exposure, white balance and
  vignetting. Held out, unseen until the fifth design was final.
"""

from __future__ import annotations

import io
import math
import random
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

GREENS = [(58, 104, 52), (84, 128, 66), (41, 86, 47), (102, 140, 78), (70, 112, 88)]
PINKS = [(242, 196, 210), (250, 214, 226), (228, 170, 192), (246, 226, 232), (236, 186, 204)]
# Copies whose grouping the acceptance asks for (issue 21), and what each one is.
COPY_KINDS = {
    "hflip": "mirrored left to right",
    "crop10": "10% of each side's length cut, at a random offset",
    "resize75": "resized to 75% of each side",
    "q30": "recompressed at JPEG quality 30",
    "bright": "brightness x1.25",
}


def _mix(a, b, t: float) -> tuple[int, int, int]:
    return tuple(int(x + (y - x) * t) for x, y in zip(a, b, strict=True))  # type: ignore[return-value]


def _jit(rng: random.Random, c, amount: int) -> tuple[int, int, int]:
    return tuple(max(0, min(255, v + rng.randint(-amount, amount))) for v in c)  # type: ignore[return-value]


def _palette(rng: random.Random, domain: str) -> list[tuple[int, int, int]]:
    if domain not in ("A", "B"):
        raise ValueError(f"domain: got {domain!r}; allowed: A or B")
    return rng.sample(GREENS if domain == "A" else PINKS, k=3)


def hazy(domain: str, seed: int) -> Image.Image:
    """A soft, hazy phone photo of a blossom (B) or green (A) street."""
    rng = random.Random(f"hazy-{domain}-{seed}")
    palette = _palette(rng, domain)
    w = rng.choice([640, 720, 800])
    h = int(w * rng.uniform(0.66, 0.78))
    horizon, vx = int(h * rng.uniform(0.4, 0.5)), w * rng.uniform(0.4, 0.6)
    sky = _jit(rng, (226, 228, 232), 8)
    im = Image.new("RGB", (w, h), sky)
    d = ImageDraw.Draw(im)
    d.rectangle([0, horizon, w, h], fill=_jit(rng, (150, 146, 140), 10))
    half = w * rng.uniform(0.3, 0.45)
    d.polygon([(vx - 2, horizon), (vx + 2, horizon), (w / 2 + half, h), (w / 2 - half, h)],
              fill=_jit(rng, (98, 96, 98), 8))  # fmt: skip
    crowns = []
    for side in (-1, 1):
        n = rng.randint(6, 10)
        for i in range(n):
            t = ((i + rng.uniform(0.3, 1.0)) / n) ** 1.2
            x = vx + (w / 2 - vx) * t + side * (half * t * 1.15 + 6)
            y = horizon + (h - horizon) * t
            crowns.append((t, x, y))
    for t, x, y in sorted(crowns):  # far first
        s = 0.1 + 1.6 * t * w / 640
        haze = 0.65 * (1 - t) ** 1.5  # far crowns fade into the sky
        trunk = _mix(_jit(rng, (78, 64, 56), 8), sky, haze)
        d.line([(x, y), (x, y - 70 * s)], fill=trunk, width=max(1, int(7 * s)))
        for _ in range(rng.randint(30, 50)):
            r = rng.uniform(10, 26) * s
            cx, cy = x + rng.gauss(0, 40 * s), y - 90 * s + rng.gauss(0, 26 * s)
            colour = _mix(_jit(rng, rng.choice(palette), 10), sky, haze)
            d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=colour)
    im = im.filter(ImageFilter.GaussianBlur(rng.uniform(1.2, 2.6)))
    a = np.asarray(im, np.float32)
    a = 128 + (a - 128) * rng.uniform(0.7, 0.9) + rng.uniform(5, 20)  # low contrast, lifted blacks
    a += np.random.default_rng(seed).normal(0, 1.5, a.shape[:2])[..., None]
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))


def _value_noise(g: np.random.Generator, h: int, w: int, octaves: int = 5) -> np.ndarray:
    """(h, w) fractal value noise in 0..1: bicubic upsampled random grids, halving amplitude per octave."""
    out = np.zeros((h, w), np.float32)
    amp, total = 1.0, 0.0
    for o in range(octaves):
        cells = 3 * 2**o
        grid = Image.fromarray((g.random((cells, cells)) * 255).astype(np.uint8))
        out += amp * np.asarray(grid.resize((w, h), Image.Resampling.BICUBIC), np.float32) / 255
        total += amp
        amp /= 2
    return out / total


def _barrel(a: np.ndarray, k: float) -> np.ndarray:
    """`a` (h, w, 3) with barrel distortion r' = r (1 + k r^2), nearest sampling."""
    h, w = a.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    nx, ny = (xx - w / 2) / (w / 2), (yy - h / 2) / (h / 2)
    f = 1 + k * (nx**2 + ny**2)
    sx = np.clip((nx * f / (1 + k)) * (w / 2) + w / 2, 0, w - 1).astype(np.int32)
    sy = np.clip((ny * f / (1 + k)) * (h / 2) + h / 2, 0, h - 1).astype(np.int32)
    return a[sy, sx]


def textured(domain: str, seed: int) -> Image.Image:
    """A sharp, saturated street with fractal canopies and pixel-scale texture, through a wide-angle lens."""
    rng = random.Random(f"textured-{domain}-{seed}")
    g = np.random.default_rng(rng.randrange(1 << 32))
    palette = np.array(_palette(rng, domain), np.float32)
    w = rng.choice([600, 680, 760, 840])
    h = int(w * rng.uniform(0.62, 0.8))
    horizon, vx = h * rng.uniform(0.35, 0.55), w * rng.uniform(0.3, 0.7)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    top, bottom = np.array(_jit(rng, (60, 130, 230), 20), np.float32), np.array((200, 225, 250), np.float32)
    t = np.clip(yy / horizon, 0, 1)[..., None]
    a = top * (1 - t) + bottom * t  # (h, w, 3) sky
    depth = np.clip((yy - horizon) / (h - horizon), 0, 1)  # 0 at the horizon, 1 at the bottom edge
    ground = yy >= horizon
    a[ground] = np.array(_jit(rng, (140, 132, 120), 12), np.float32)
    half = rng.uniform(0.25, 0.5) * w
    centre = vx + (w / 2 - vx) * depth
    road = ground & (np.abs(xx - centre) < half * depth + 2)
    grain = g.normal(0, 9, (h, w)).astype(np.float32)
    a[road] = np.array(_jit(rng, (80, 80, 84), 8), np.float32) + grain[road][:, None]
    # canopies: a band above each pavement, growing towards the camera, cut by fractal noise
    noise = _value_noise(g, h, w)
    reach = (horizon - yy) / np.maximum(1, horizon)  # 1 at the top edge, 0 at the horizon
    side_dist = np.abs(xx - vx) / w
    envelope = np.clip(2.4 * side_dist - 0.2 + 0.35 * reach * rng.uniform(0.6, 1.2), 0, 1)
    envelope *= (yy < horizon + (h - horizon) * (1.2 * side_dist - 0.05)).astype(np.float32)
    canopy = noise * envelope > rng.uniform(0.18, 0.28)
    pick = (noise * 37 % 1 * len(palette)).astype(np.int32) % len(palette)
    speckle = g.normal(0, 18, (h, w)).astype(np.float32)
    a[canopy] = palette[pick[canopy]] + speckle[canopy][:, None]
    for _ in range(rng.randint(6, 14)):  # trunks under the canopy
        td = rng.uniform(0.05, 1.0)
        side = rng.choice((-1, 1))
        x = vx + (w / 2 - vx) * td + side * (half * td * 1.2 + 5)
        y = horizon + (h - horizon) * td
        tw = max(1, int(8 * td * w / 640))
        cols = slice(max(0, int(x - tw)), max(1, int(x + tw)))
        rows = slice(max(0, int(y - 120 * td)), max(1, int(y)))
        a[rows, cols] = (70, 52, 40)
    a = _barrel(np.clip(a, 0, 255), rng.uniform(0.06, 0.16))
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))


def telephoto(domain: str, seed: int) -> Image.Image:
    """A long-lens dusk shot: stacked crowns, a sunset sky, vignette, colour fringes and noise."""
    rng = random.Random(f"telephoto-{domain}-{seed}")
    palette = _palette(rng, domain)
    w = rng.choice([660, 740, 820])
    h = int(w * rng.uniform(0.6, 0.75))
    horizon, vx = int(h * rng.uniform(0.22, 0.32)), w * rng.uniform(0.45, 0.55)
    im = Image.new("RGB", (w, h))
    d = ImageDraw.Draw(im)
    top, low = _jit(rng, (60, 50, 110), 15), _jit(rng, (250, 160, 100), 15)
    for y in range(horizon + 1):
        d.line([(0, y), (w, y)], fill=_mix(top, low, (y / horizon) ** 0.8))
    sx, sr = rng.uniform(0.2, 0.8) * w, rng.uniform(12, 30)
    d.ellipse([sx - sr, horizon - sr * 1.5, sx + sr, horizon + sr * 0.5], fill=(255, 230, 180))
    d.rectangle([0, horizon, w, h], fill=_jit(rng, (110, 90, 90), 10))
    half = w * rng.uniform(0.12, 0.2)
    d.polygon([(vx - 6, horizon), (vx + 6, horizon), (w / 2 + half, h), (w / 2 - half, h)],
              fill=_jit(rng, (70, 62, 68), 6))  # fmt: skip
    warm = (255, 170, 110)
    for side in (-1, 1):
        n = rng.randint(10, 16)
        rows = sorted(((i + rng.uniform(0.2, 1.0)) / n) ** 0.9 for i in range(n))
        for t in rows:  # far first; a long lens makes near and far crowns about the same size
            x = vx + (w / 2 - vx) * t + side * (half * t + 30 + 40 * t)
            y = horizon + (h - horizon) * t * 0.9
            s = (0.6 + 0.8 * t) * w / 700
            d.line([(x, y), (x, y - 50 * s)], fill=(45, 35, 35), width=max(1, int(5 * s)))
            for _ in range(rng.randint(18, 28)):
                r = rng.uniform(8, 20) * s
                cx, cy = x + side * abs(rng.gauss(0, 30 * s)) - side * 10 * s, y - 70 * s + rng.gauss(0, 22 * s)
                colour = _mix(_jit(rng, rng.choice(palette), 14), warm, rng.uniform(0.1, 0.3))
                d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=colour)
    if rng.random() < 0.4:
        im = im.filter(ImageFilter.BoxBlur(rng.uniform(0.6, 1.5)))
    a = np.asarray(im, np.float32)
    shift = rng.choice((1, 2))  # chromatic aberration: red and blue a pixel or two apart
    a[:, shift:, 0], a[:, :-shift, 2] = a[:, :-shift, 0].copy(), a[:, shift:, 2].copy()
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r2 = ((xx - w / 2) / (w / 2)) ** 2 + ((yy - h / 2) / (h / 2)) ** 2
    a *= (1 - rng.uniform(0.25, 0.45) * r2 / 2)[..., None]  # vignette
    a = 255 * (np.clip(a, 0, 255) / 255) ** rng.uniform(0.8, 1.1)  # tone curve
    a += np.random.default_rng(seed + 7).normal(0, rng.uniform(3, 6), a.shape)  # colour noise
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))


def rainy(domain: str, seed: int) -> Image.Image:
    """A wet street under a dark overcast sky, often in portrait: crowns of small dots mirrored in the road, rain
    streaks, muted colours, a moderate blur."""
    rng = random.Random(f"rainy-{domain}-{seed}")
    palette = [_mix(c, (128, 128, 128), 0.35) for c in _palette(rng, domain)]
    w, h = rng.choice([(560, 760), (600, 800), (800, 600), (760, 560)])
    horizon, vx = int(h * rng.uniform(0.45, 0.6)), w * rng.uniform(0.35, 0.65)
    im = Image.new("RGB", (w, h), _jit(rng, (96, 100, 108), 10))
    d = ImageDraw.Draw(im)
    for y in range(horizon):
        d.line([(0, y), (w, y)], fill=_mix((70, 74, 84), (150, 154, 160), y / horizon))
    half = w * rng.uniform(0.3, 0.5)
    d.polygon([(vx - 3, horizon), (vx + 3, horizon), (w / 2 + half, h), (w / 2 - half, h)],
              fill=_jit(rng, (58, 60, 66), 6))  # fmt: skip
    for side in (-1, 1):
        for _ in range(rng.randint(5, 9)):
            t = rng.uniform(0.05, 0.8)
            x = vx + (w / 2 - vx) * t + side * (half * t * 1.1 + 10)
            y = horizon + (h - horizon) * t
            s = 0.15 + 1.4 * t * w / 600
            d.line([(x, y), (x, y - 80 * s)], fill=(40, 36, 34), width=max(1, int(5 * s)))
            for _ in range(int(250 * s) + 40):
                r = rng.uniform(1.5, 4.5) * max(0.5, s)
                cx, cy = x + rng.gauss(0, 45 * s), y - 110 * s + rng.gauss(0, 35 * s)
                d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=_jit(rng, rng.choice(palette), 12))
    a = np.asarray(im, np.float32)
    below = a[2 * horizon - h : horizon][::-1] if 2 * horizon >= h else None
    if below is not None:  # the wet road mirrors what stands above the horizon, dimmed and smeared
        smear = np.asarray(Image.fromarray(below.astype(np.uint8)).filter(ImageFilter.BoxBlur(3)), np.float32)
        road = a[horizon:] * 0.6 + smear * 0.4
        a[horizon:] = road
    im = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))
    d = ImageDraw.Draw(im)
    slant = rng.uniform(-0.3, 0.3)
    for _ in range(rng.randint(150, 400)):  # rain
        x, y, ln = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(8, 25)
        d.line([(x, y), (x + slant * ln, y + ln)], fill=(190, 195, 205), width=1)
    return im.filter(ImageFilter.GaussianBlur(rng.uniform(0.6, 1.2)))


def dotted(domain: str, seed: int) -> Image.Image:
    """A square, sharpened shot with a tilted horizon and a road curving away, crowns of thousands of fine dots,
    saved at JPEG quality 60 by the camera."""
    rng = random.Random(f"dotted-{domain}-{seed}")
    palette = _palette(rng, domain)
    side_px = rng.choice([600, 700, 800])
    w = h = side_px
    horizon, vx = h * rng.uniform(0.35, 0.5), w * rng.uniform(0.3, 0.7)
    im = Image.new("RGB", (w, h), _jit(rng, (170, 200, 235), 15))
    d = ImageDraw.Draw(im)
    d.rectangle([0, horizon, w, h], fill=_jit(rng, (125, 135, 110), 12))
    bend = rng.uniform(-0.4, 0.4) * w  # the road's curve: its centre line is a quadratic from the camera to vx
    half = w * rng.uniform(0.25, 0.4)
    steps = 40
    left, right = [], []
    for k in range(steps + 1):
        t = k / steps  # 0 at the horizon
        cx = vx + (w / 2 - vx) * t + bend * t * (1 - t)
        y = horizon + (h - horizon) * t
        left.append((cx - half * t - 2, y))
        right.append((cx + half * t + 2, y))
    d.polygon(left + right[::-1], fill=_jit(rng, (88, 84, 82), 8))
    for k in range(2, steps, 3):  # crowns along both edges
        t = k / steps
        for edge, sign in ((left, -1), (right, 1)):
            x, y = edge[k]
            s = 0.2 + 1.3 * t * w / 700
            x += sign * 30 * s
            d.line([(x, y), (x, y - 60 * s)], fill=(66, 50, 40), width=max(1, int(4 * s)))
            for _ in range(int(500 * s)):
                r = rng.uniform(0.8, 2.2)
                px, py = x + rng.gauss(0, 32 * s), y - 85 * s + rng.gauss(0, 24 * s)
                d.ellipse([px - r, py - r, px + r, py + r], fill=_jit(rng, rng.choice(palette), 25))
    im = im.rotate(rng.uniform(-5, 5), Image.Resampling.BICUBIC, expand=False, fillcolor=(120, 120, 120))
    m = rng.uniform(0.06, 0.1)  # crop away the corners the tilt left
    im = im.crop((round(w * m), round(h * m), round(w * (1 - m)), round(h * (1 - m))))
    im = im.filter(ImageFilter.UnsharpMask(radius=2, percent=rng.randint(60, 140), threshold=2))
    return Image.open(io.BytesIO(jpeg(im, 60))).convert("RGB")


def glare(domain: str, seed: int) -> Image.Image:
    """Midday glare: an overexposed, high-key street whose crowns are smooth, very soft gradients (a 2.5-4 px blur),
    highlights clipped to white."""
    rng = random.Random(f"glare-{domain}-{seed}")
    palette = _palette(rng, domain)
    w = rng.choice([620, 700, 780])
    h = int(w * rng.uniform(0.65, 0.8))
    horizon, vx = int(h * rng.uniform(0.38, 0.52)), w * rng.uniform(0.35, 0.65)
    im = Image.new("RGB", (w, h), (246, 246, 250))
    d = ImageDraw.Draw(im)
    d.rectangle([0, horizon, w, h], fill=_jit(rng, (200, 196, 188), 10))
    half = w * rng.uniform(0.28, 0.42)
    d.polygon([(vx - 2, horizon), (vx + 2, horizon), (w / 2 + half, h), (w / 2 - half, h)],
              fill=_jit(rng, (150, 150, 154), 8))  # fmt: skip
    for side in (-1, 1):
        for _ in range(rng.randint(4, 7)):
            t = rng.uniform(0.1, 0.95)
            x = vx + (w / 2 - vx) * t + side * (half * t * 1.2 + 10)
            y = horizon + (h - horizon) * t
            s = 0.15 + 1.5 * t * w / 640
            d.line([(x, y), (x, y - 60 * s)], fill=(110, 96, 90), width=max(1, int(6 * s)))
            r = rng.uniform(50, 90) * s
            d.ellipse([x - r * 1.4, y - 60 * s - r, x + r * 1.4, y - 60 * s + r * 0.6], fill=rng.choice(palette))
    im = im.filter(ImageFilter.GaussianBlur(rng.uniform(2.5, 4.0)))
    a = np.asarray(im, np.float32) * rng.uniform(1.15, 1.35) + np.random.default_rng(seed).normal(0, 2, (h, w, 1))
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))


def night(domain: str, seed: int) -> Image.Image:
    """A street at night under lamps: dark, heavy sensor noise, pools of light, crowns lit from below."""
    rng = random.Random(f"night-{domain}-{seed}")
    palette = _palette(rng, domain)
    w = rng.choice([640, 720, 800])
    h = int(w * rng.uniform(0.6, 0.75))
    horizon, vx = int(h * rng.uniform(0.4, 0.55)), w * rng.uniform(0.4, 0.6)
    im = Image.new("RGB", (w, h), _jit(rng, (14, 16, 30), 6))
    d = ImageDraw.Draw(im)
    d.rectangle([0, horizon, w, h], fill=_jit(rng, (30, 28, 30), 5))
    half = w * rng.uniform(0.25, 0.4)
    d.polygon([(vx - 2, horizon), (vx + 2, horizon), (w / 2 + half, h), (w / 2 - half, h)], fill=(22, 22, 26))
    glow = Image.new("L", (w, h), 0)
    g = ImageDraw.Draw(glow)
    for side in (-1, 1):
        for _ in range(rng.randint(5, 9)):
            t = rng.uniform(0.08, 0.95)
            x = vx + (w / 2 - vx) * t + side * (half * t * 1.1 + 8)
            y = horizon + (h - horizon) * t
            s = 0.15 + 1.5 * t * w / 640
            d.line([(x, y), (x, y - 80 * s)], fill=(40, 36, 34), width=max(1, int(4 * s)))
            for _ in range(rng.randint(15, 30)):
                r = rng.uniform(8, 22) * s
                cx, cy = x + rng.gauss(0, 35 * s), y - 100 * s + rng.gauss(0, 25 * s)
                lit = rng.uniform(0.25, 0.7)
                d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=_mix((10, 10, 20), rng.choice(palette), lit))
            if rng.random() < 0.5:  # a lamp and its pool of light
                lx, ly = x - side * 20 * s, y - 120 * s
                g.ellipse([lx - 60 * s, ly - 60 * s, lx + 60 * s, ly + 200 * s], fill=rng.randint(60, 140))
                d.ellipse([lx - 4 * s, ly - 4 * s, lx + 4 * s, ly + 4 * s], fill=(255, 240, 200))
    warm = Image.new("RGB", (w, h), (255, 200, 130))
    im = Image.composite(warm, im, glow.filter(ImageFilter.GaussianBlur(30)).point(lambda v: v // 2))
    a = np.asarray(im, np.float32) + np.random.default_rng(seed + 3).normal(0, rng.uniform(6, 11), (h, w, 3))
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))


def flat(domain: str, seed: int) -> Image.Image:
    """Flat vector art: a handful of colours, hard edges, no blur and no noise; crowns as a few big polygons."""
    rng = random.Random(f"flat-{domain}-{seed}")
    palette = _palette(rng, domain)
    w = rng.choice([640, 720, 800])
    h = int(w * rng.uniform(0.62, 0.78))
    horizon, vx = int(h * rng.uniform(0.4, 0.55)), w * rng.uniform(0.35, 0.65)
    im = Image.new("RGB", (w, h), rng.choice([(150, 200, 240), (250, 220, 180), (200, 210, 230)]))
    d = ImageDraw.Draw(im)
    d.rectangle([0, horizon, w, h], fill=rng.choice([(120, 170, 90), (170, 160, 140), (140, 140, 150)]))
    half = w * rng.uniform(0.25, 0.4)
    d.polygon([(vx - 2, horizon), (vx + 2, horizon), (w / 2 + half, h), (w / 2 - half, h)], fill=(80, 80, 90))
    for side in (-1, 1):
        for i in range(rng.randint(3, 6)):
            t = (i + rng.uniform(0.5, 1.0)) / 6
            x = vx + (w / 2 - vx) * t + side * (half * t * 1.2 + 12)
            y = horizon + (h - horizon) * t
            s = 0.2 + 1.4 * t * w / 640
            d.rectangle([x - 4 * s, y - 70 * s, x + 4 * s, y], fill=(90, 60, 40))
            n = rng.randint(5, 8)
            angles = [2 * math.pi * k / n for k in range(n)]
            rx, ry = 55 * s, 40 * s
            pts = [(x + math.cos(a) * rx * rng.uniform(0.7, 1.2),
                    y - 100 * s + math.sin(a) * ry * rng.uniform(0.7, 1.2))
                   for a in angles]  # fmt: skip
            d.polygon(pts, fill=rng.choice(palette))
    return im


def fog(domain: str, seed: int) -> Image.Image:
    """Dense morning fog: everything but the nearest trees fades to one pale grey; very low contrast."""
    rng = random.Random(f"fog-{domain}-{seed}")
    palette = _palette(rng, domain)
    w = rng.choice([640, 700, 760])
    h = int(w * rng.uniform(0.65, 0.78))
    horizon, vx = int(h * rng.uniform(0.42, 0.55)), w * rng.uniform(0.4, 0.6)
    grey = _jit(rng, (205, 208, 210), 6)
    im = Image.new("RGB", (w, h), grey)
    d = ImageDraw.Draw(im)
    half = w * rng.uniform(0.3, 0.45)
    crowns = []
    for side in (-1, 1):
        for _ in range(rng.randint(6, 10)):
            crowns.append((rng.uniform(0.05, 1.0), side))
    d.polygon([(vx - 2, horizon), (vx + 2, horizon), (w / 2 + half, h), (w / 2 - half, h)],
              fill=_mix((120, 120, 124), grey, 0.5))  # fmt: skip
    for t, side in sorted(crowns):
        x = vx + (w / 2 - vx) * t + side * (half * t * 1.15 + 8)
        y = horizon + (h - horizon) * t
        s = 0.12 + 1.5 * t * w / 640
        fade = 0.9 * (1 - t) ** 0.7
        d.line([(x, y), (x, y - 70 * s)], fill=_mix((60, 50, 45), grey, fade), width=max(1, int(6 * s)))
        for _ in range(rng.randint(20, 35)):
            r = rng.uniform(10, 24) * s
            cx, cy = x + rng.gauss(0, 38 * s), y - 95 * s + rng.gauss(0, 25 * s)
            d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=_mix(_jit(rng, rng.choice(palette), 8), grey, fade))
    im = im.filter(ImageFilter.GaussianBlur(rng.uniform(0.8, 1.6)))
    a = np.asarray(im, np.float32)
    noise = np.random.default_rng(seed + 11).normal(0, 1.2, a.shape[:2])[..., None]
    a = np.float32(grey) + (a - np.float32(grey)) * rng.uniform(0.5, 0.7) + noise
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))


def _dab(d: ImageDraw.ImageDraw, x: float, y: float, length: float, angle: float, width: float, fill=255) -> None:
    """One brush stroke into a wash's mask (or, with fill 0, lifted out of it): a line with round ends."""
    dx, dy, r = math.cos(angle) * length / 2, math.sin(angle) * length / 2, width / 2
    d.line([(x - dx, y - dy), (x + dx, y + dy)], fill=fill, width=max(1, round(width)))
    for ex, ey in ((x - dx, y - dy), (x + dx, y + dy)):
        d.ellipse([ex - r, ey - r, ex + r, ey + r], fill=fill)


def _wash(mask: Image.Image, ragged: np.ndarray, bleed: float, rim: float) -> np.ndarray:
    """(h, w) pigment density of a watercolour wash over `mask` (L): its edge frayed by `ragged` (h, w) noise in
    0..1 and bled `bleed` px, with the darker rim a drying wash leaves, up to 1 + `rim` times its middle."""
    soft = np.asarray(mask.filter(ImageFilter.GaussianBlur(bleed + 1.5)), np.float32) / 255
    wet = np.clip((soft - 0.5 + 0.5 * (ragged - 0.5)) * 5 + 0.5, 0, 1)
    inner = np.asarray(Image.fromarray((wet * 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(2 * bleed + 3)))
    return wet * (1 + rim * np.clip(3 * (wet - inner / np.float32(255)), 0, 1))


def _painted_trees(rng: random.Random, palette, w: int, h: int, horizon: float, vx: float, half: float) -> dict:
    """The masks of a watercolour's trees, by wash: trunks, shade under the crowns, and crown dabs by (colour, band)."""
    masks = {k: Image.new("L", (w, h)) for k in ("trunk", "shade", "accent")}
    masks |= {(c, band): Image.new("L", (w, h)) for c in range(len(palette)) for band in ("far", "near")}
    draw = {k: ImageDraw.Draw(m) for k, m in masks.items()}
    hand = rng.uniform(-0.9, -0.3)  # the painter's stroke direction
    for side in (-1, 1):
        n = rng.randint(6, 9)
        for i in range(n):
            t = min(1.0, ((i + rng.uniform(0.2, 0.9)) / n) ** 1.15)
            x = vx + (w / 2 - vx) * t + side * (half * t * 1.15 + 8)
            y = horizon + (h - horizon) * t
            s = 0.12 + 1.5 * t * w / 700
            trunk = [(x - 3 * s, y), (x - 1.2 * s, y - 80 * s), (x + 1.2 * s, y - 80 * s), (x + 3 * s, y)]
            draw["trunk"].polygon(trunk, fill=255)
            if t > 0.3:  # the crown's shadow across the pavement and the road
                sx, rx, ry = x - side * 45 * s, 60 * s, 7 * s
                draw["shade"].ellipse([sx - rx, y - ry, sx + rx, y + ry], fill=255)
            band = "far" if t < 0.45 else "near"
            for _ in range(rng.randint(4, 7)):
                cx, cy = x + rng.gauss(0, 34 * s), y - 100 * s + rng.gauss(0, 24 * s)
                colour = rng.randrange(len(palette))
                for _ in range(rng.randint(8, 16)):
                    px, py = cx + rng.gauss(0, 16 * s), cy + rng.gauss(0, 12 * s)
                    _dab(draw[(colour, band)], px, py, rng.uniform(4, 24) * s, hand + rng.gauss(0, 0.5),
                         rng.uniform(3, 11) * s)  # fmt: skip
                if rng.random() < 0.5:  # a drop of a darker colour into the wet crown, left to spread
                    r = rng.uniform(8, 16) * s
                    draw["accent"].ellipse([cx - r, cy + 4 * s, cx + r, cy + 4 * s + r * 1.2], fill=255)
    return masks


def painted(domain: str, seed: int) -> Image.Image:
    """A watercolour on cold-pressed paper: transparent, mottled washes glazed over each other, frayed edges with the
    dark rim a drying wash leaves, clouds of paper left white, crowns of brush dabs with paper between them, a darker
    colour bled into the wet crowns, pencil underdrawing, granulation in the paper's tooth, an unpainted margin."""
    rng = random.Random(f"painted-{domain}-{seed}")
    g = np.random.default_rng(rng.randrange(1 << 32))
    palette = _palette(rng, domain)
    w = rng.choice([640, 720, 800])
    h = int(w * rng.uniform(0.7, 0.82))
    horizon, vx, half = h * rng.uniform(0.44, 0.56), w * rng.uniform(0.38, 0.62), w * rng.uniform(0.28, 0.42)
    yy = np.mgrid[0:h, 0:w][0].astype(np.float32)
    sky_c = _jit(rng, (128, 172, 210), 14)
    layers = {k: Image.new("L", (w, h)) for k in ("sky", "ground", "road")}
    wobble = [(x, horizon + rng.uniform(-4, 4)) for x in range(0, w + 40, 40)]
    sky = ImageDraw.Draw(layers["sky"])
    sky.polygon([(0, 0), (w, 0), *wobble[::-1]], fill=255)
    for _ in range(rng.randint(1, 4)):  # streaks of cloud: paper left unpainted
        cx, cy, r = rng.uniform(0, w), rng.uniform(0.1, 0.7) * horizon, rng.uniform(0.04, 0.09) * w
        for _ in range(rng.randint(2, 5)):
            ox, oy, rr = cx + rng.uniform(-2, 2) * r, cy + rng.uniform(-0.3, 0.3) * r, r * rng.uniform(0.5, 1.2)
            _dab(sky, ox, oy, rr * 2, rng.uniform(-0.15, 0.15), rr * rng.uniform(0.3, 0.6), fill=0)
    ImageDraw.Draw(layers["ground"]).polygon([*wobble, (w, h), (0, h)], fill=255)
    road = [(vx - 3, horizon), (vx + 3, horizon), (w / 2 + half, h), (w / 2 - half, h)]
    ImageDraw.Draw(layers["ground"]).polygon(road, fill=0)
    ImageDraw.Draw(layers["road"]).polygon([(px + rng.uniform(-4, 4), py) for px, py in road], fill=255)
    ragged = _value_noise(g, h, w, octaves=7)
    grade = np.clip(1.1 - yy / horizon, 0.2, 1) * rng.uniform(0.6, 0.9)  # a graded wash, paler to the horizon
    masks = _painted_trees(rng, palette, w, h, horizon, vx, half)
    deep = _mix(palette[0], (60, 30, 60), 0.45)  # the darker colour dropped into the wet crowns
    washes = [(_wash(layers["sky"], ragged, 1.0, 0.5) * grade, sky_c),
              (_wash(layers["ground"], ragged, 1.0, 0.8) * rng.uniform(0.4, 0.7), _jit(rng, (206, 184, 140), 12)),
              (_wash(layers["road"], ragged, 1.0, 0.9) * rng.uniform(0.5, 0.8), _jit(rng, (156, 152, 166), 10)),
              (_wash(masks["trunk"], ragged, 0.5, 0.3) * 0.9, _jit(rng, (128, 92, 70), 10)),
              (_wash(masks["shade"], ragged, 2.0, 0.6) * 0.4, _jit(rng, (150, 146, 184), 8)),
              (_wash(masks["accent"], ragged, rng.uniform(5, 8), 0) * 0.8, deep)]  # fmt: skip
    for (c, band), mask in ((k, m) for k, m in masks.items() if isinstance(k, tuple)):
        colour = _mix(palette[c], sky_c, 0.35) if band == "far" else palette[c]
        washes.append((_wash(mask, ragged, rng.uniform(0.8, 2.5), 0.9) * (0.6 if band == "far" else 0.95), colour))
    pencil = Image.new("L", (w, h))
    pd = ImageDraw.Draw(pencil)
    for px, py in road[2:]:
        pd.line([(vx + rng.uniform(-6, 6), horizon), (px + rng.uniform(-10, 10), py)], fill=150, width=1)
    pd.line([(0, horizon + rng.uniform(-3, 3)), (w, horizon + rng.uniform(-3, 3))], fill=150, width=1)
    tooth = np.asarray(Image.fromarray(g.integers(0, 256, (h, w), dtype=np.uint8)).filter(ImageFilter.BoxBlur(1)))
    tooth = tooth.astype(np.float32) / 255
    my, mx = int(h * rng.uniform(0.04, 0.08)), int(w * rng.uniform(0.04, 0.08))
    area = np.zeros((h, w), np.float32)
    area[my : h - my, mx : w - mx] = 1  # masking tape kept the margin white
    log = np.log(np.array(_jit(rng, (247, 241, 226), 4), np.float32) / 255) * np.ones((h, w, 1), np.float32)
    for density, colour in washes:  # Beer-Lambert: each glaze multiplies what is under it
        uneven = _value_noise(g, h, w, octaves=3) * 0.8 + 0.6 + 0.9 * (tooth - 0.5)  # mottled, granulating
        log += (density * area * uneven)[..., None] * np.log(np.array(colour, np.float32) / 255)
    log += (np.asarray(pencil, np.float32) / 255 * area * (tooth > 0.45))[..., None] * np.log(np.float32(0.62))
    a = 255 * np.exp(log) * (0.95 + 0.1 * tooth[..., None])
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))


def _out_of_focus_street(rng: random.Random, palette, w: int, h: int, blur: float) -> tuple[np.ndarray, np.ndarray]:
    """The street behind a near branch, far out of focus, (h, w, 3), drawn at half size, blurred and scaled up; and
    where its crowns are, (h, w) bool, the places light comes through leaves."""
    sw, sh = w // 2, h // 2
    horizon, vx, half = sh * rng.uniform(0.45, 0.6), sw * rng.uniform(0.35, 0.65), sw * rng.uniform(0.3, 0.45)
    im, crowns = Image.new("RGB", (sw, sh)), Image.new("L", (sw, sh))
    d, dc = ImageDraw.Draw(im), ImageDraw.Draw(crowns)
    top, low = _jit(rng, (168, 200, 236), 14), _jit(rng, (242, 240, 232), 8)
    for y in range(int(horizon) + 1):
        d.line([(0, y), (sw, y)], fill=_mix(top, low, y / horizon))
    d.rectangle([0, horizon, sw, sh], fill=_jit(rng, (150, 146, 132), 10))
    d.polygon([(vx - 2, horizon), (vx + 2, horizon), (sw / 2 + half, sh), (sw / 2 - half, sh)],
              fill=_jit(rng, (104, 102, 106), 8))  # fmt: skip
    for t, side in sorted((rng.uniform(0.08, 1.1), side) for side in (-1, 1) for _ in range(rng.randint(5, 8))):
        x, y = vx + (sw / 2 - vx) * t + side * (half * t * 1.2 + 6), horizon + (sh - horizon) * t
        s = 0.15 + 1.6 * t * sw / 350
        d.line([(x, y), (x, y - 60 * s)], fill=(76, 62, 56), width=max(1, int(4 * s)))
        for _ in range(rng.randint(4, 7)):
            r = rng.uniform(18, 34) * s
            cx, cy = x + rng.gauss(0, 24 * s), y - 85 * s + rng.gauss(0, 18 * s)
            d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=_jit(rng, rng.choice(palette), 12))
            dc.ellipse([cx - r * 0.8, cy - r * 0.8, cx + r * 0.8, cy + r * 0.8], fill=255)
    im = im.filter(ImageFilter.GaussianBlur(blur / 2)).resize((w, h), Image.Resampling.BICUBIC)
    return np.asarray(im, np.float32), np.asarray(crowns.resize((w, h))) > 0


def _disc(a: np.ndarray, x: float, y: float, r: float, colour, strength: float) -> None:
    """Screen one bokeh disc into `a` (h, w, 3) in place: a flat disc with a brighter rim, clipped to a cat's eye
    towards the corners as the lens barrel cuts it."""
    h, w = a.shape[:2]
    ox, oy = (x - w / 2) / (w / 2) * r * 0.6, (y - h / 2) / (h / 2) * r * 0.6
    x0, x1, y0, y1 = max(0, int(x - r - 2)), min(w, int(x + r + 3)), max(0, int(y - r - 2)), min(h, int(y + r + 3))
    if x0 >= x1 or y0 >= y1:
        return
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    d1 = np.hypot(xx - x, yy - y)
    inside = np.clip(r - d1, 0, 1.5) / 1.5 * np.clip(r - np.hypot(xx + ox - x, yy + oy - y), 0, 1.5) / 1.5
    alpha = (strength * inside * (1 + 0.5 * np.clip(d1 / r - 0.75, 0, 1) * 4))[..., None]
    patch = a[y0:y1, x0:x1]
    a[y0:y1, x0:x1] = 255 - (255 - patch) * (1 - alpha * np.float32(colour) / 255)


def _near_branch(rng: random.Random, domain: str, palette, w: int, h: int) -> Image.Image:
    """An RGBA layer (w, h): a sharp branch in focus across a top corner, in leaf (A) or in blossom (B), drawn at
    twice the size and scaled down."""
    k, sc = 2, 2 * w / rng.uniform(480, 600)
    layer = Image.new("RGBA", (w * k, h * k), (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    side = rng.choice((-1, 1))  # -1: from the left edge
    ex = (lambda f: f * w * k) if side < 0 else (lambda f: (1 - f) * w * k)
    p0, p2 = (ex(-0.02), rng.uniform(0.02, 0.3) * h * k), (ex(rng.uniform(0.45, 0.7)), rng.uniform(0.12, 0.42) * h * k)
    p1 = (ex(rng.uniform(0.15, 0.35)), rng.uniform(-0.05, 0.45) * h * k)
    path = [tuple((1 - u) ** 2 * p0[i] + 2 * u * (1 - u) * p1[i] + u**2 * p2[i] for i in (0, 1))
            for u in (j / 40 for j in range(41))]  # fmt: skip
    bark = _jit(rng, (62, 44, 36), 8)
    width0 = rng.uniform(9, 15) * sc
    ends = [path[-1]]
    for j in range(40):
        wd = width0 * (1 - 0.8 * j / 40)
        d.line([path[j], path[j + 1]], fill=bark, width=max(1, round(wd)))
        d.ellipse([path[j][0] - wd / 2, path[j][1] - wd / 2, path[j][0] + wd / 2, path[j][1] + wd / 2], fill=bark)
    for _ in range(rng.randint(6, 11)):  # twigs off the branch, each ending in a cluster
        j = rng.randint(8, 38)
        along = math.atan2(path[j + 1][1] - path[j][1], path[j + 1][0] - path[j][0])
        heading = along + rng.choice((-1, 1)) * rng.uniform(0.5, 1.2)
        ln = rng.uniform(25, 80) * sc
        end = (path[j][0] + math.cos(heading) * ln, path[j][1] + math.sin(heading) * ln)
        d.line([path[j], end], fill=bark, width=max(1, round(width0 * 0.3)))
        ends.append(end)
    for x, y in ends + [path[j] for j in range(10, 40, 6)]:
        for _ in range(rng.randint(3, 6) if domain == "B" else rng.randint(4, 8)):
            fx, fy = x + rng.gauss(0, 14 * sc), y + rng.gauss(0, 12 * sc)
            (_blossom if domain == "B" else _leaf)(d, rng, fx, fy, sc, palette)
    small = layer.convert("RGBa").resize((w, h), Image.Resampling.LANCZOS)
    return small.convert("RGBA")


def _leaf(d: ImageDraw.ImageDraw, rng: random.Random, x: float, y: float, sc: float, palette) -> None:
    """One sharp pointed leaf with its midrib."""
    ln, angle = rng.uniform(18, 34) * sc, rng.uniform(0, 2 * math.pi)
    ca, sa = math.cos(angle), math.sin(angle)
    edge = [(u * ln, math.sin(math.pi * u) ** 0.8 * ln * 0.22) for u in (j / 8 for j in range(9))]
    pts = [(x + ca * u - sa * v, y + sa * u + ca * v) for u, v in edge + [(u, -v) for u, v in edge[::-1]]]
    colour = _jit(rng, rng.choice(palette), 14)
    d.polygon(pts, fill=_mix(colour, (226, 238, 170), rng.uniform(0, 0.35)))
    d.line([(x, y), (x + ca * ln, y + sa * ln)], fill=_mix(colour, (20, 40, 20), 0.5), width=max(1, round(sc)))


def _blossom(d: ImageDraw.ImageDraw, rng: random.Random, x: float, y: float, sc: float, palette) -> None:
    """One sharp five-petalled cherry blossom with its stamens, or now and then a bud."""
    if rng.random() < 0.2:
        r = rng.uniform(3, 5) * sc
        d.ellipse([x - r, y - r * 1.3, x + r, y + r * 1.3], fill=_jit(rng, (214, 104, 140), 12))
        return
    r, turn = rng.uniform(9, 15) * sc, rng.uniform(0, 2 * math.pi)
    colour = _jit(rng, rng.choice(palette), 8)
    for p in range(5):
        a = turn + 2 * math.pi * p / 5
        px, py, pr = x + math.cos(a) * r * 0.55, y + math.sin(a) * r * 0.55, r * 0.5
        d.ellipse([px - pr, py - pr, px + pr, py + pr], fill=colour, outline=_mix(colour, (200, 120, 150), 0.4))
    for p in range(7):
        a = turn + 2 * math.pi * p / 7 + 0.3
        sx, sy = x + math.cos(a) * r * 0.4, y + math.sin(a) * r * 0.4
        d.line([(x, y), (sx, sy)], fill=(190, 80, 110), width=max(1, round(sc * 0.6)))
        d.ellipse([sx - sc, sy - sc, sx + sc, sy + sc], fill=(236, 200, 90))
    d.ellipse([x - r * 0.15, y - r * 0.15, x + r * 0.15, y + r * 0.15], fill=(200, 70, 110))


def bokeh(domain: str, seed: int) -> Image.Image:
    """Shallow depth of field: a sharp branch in leaf (A) or blossom (B) across a top corner, the street behind far
    out of focus (an 8-14 px blur), bright bokeh discs with brighter rims that turn to cat's eyes towards the corners,
    sometimes a dark smear of a nearer leaf, a warm or cool grade."""
    rng = random.Random(f"bokeh-{domain}-{seed}")
    palette = _palette(rng, domain)
    w = rng.choice([640, 720, 800])
    h = int(w * rng.uniform(0.62, 0.75))
    blur = rng.uniform(8, 14) * w / 700
    a, crowns = _out_of_focus_street(rng, palette, w, h, blur)
    r = blur * rng.uniform(1.6, 2.4)
    ys, xs = np.nonzero(crowns)
    for _ in range(rng.randint(20, 45) if len(xs) else 0):  # light through the leaves
        k = rng.randrange(len(xs))
        x, y = float(xs[k]), float(ys[k])
        colour = _mix((255, 252, 240), rng.choice(palette), rng.uniform(0.2, 0.6))
        _disc(a, x, y, r * rng.uniform(0.85, 1.1), colour, rng.uniform(0.25, 0.6))
    im = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))
    if rng.random() < 0.5:  # a leaf nearer than the focus, a dark smear in a bottom corner
        smear = Image.new("L", (w, h))
        cx, cy, rx = rng.choice((0.1, 0.9)) * w, h * rng.uniform(0.85, 1.0), w * rng.uniform(0.12, 0.2)
        ImageDraw.Draw(smear).ellipse([cx - rx, cy - rx * 0.7, cx + rx, cy + rx * 0.7], fill=rng.randint(170, 230))
        dark = Image.new("RGB", (w, h), _mix(rng.choice(palette), (20, 24, 20), 0.6))
        im = Image.composite(dark, im, smear.filter(ImageFilter.GaussianBlur(blur * 2.5)))
    im = Image.alpha_composite(im.convert("RGBA"), _near_branch(rng, domain, palette, w, h)).convert("RGB")
    grade = np.float32(rng.choice([(1.06, 1.0, 0.92), (0.94, 1.0, 1.06), (1.0, 1.0, 1.0)]))
    a = np.asarray(im, np.float32) * grade + np.random.default_rng(seed + 13).normal(0, 2, (h, w, 1))
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))


def _sunlit_street(rng: random.Random, palette, w: int, h: int) -> Image.Image:
    """A wide street under a hard sun, (w, h): house fronts along both sides, tall trees whose crowns arch over the
    road, lit on the sun's side, and their shadows across it; a dashed centre line."""
    horizon, vx, half = h * rng.uniform(0.5, 0.56), w * rng.uniform(0.4, 0.6), w * rng.uniform(0.13, 0.17)
    sun = rng.choice((-1, 1))

    def at(lateral: float, t: float) -> tuple[float, float]:  # a point on the ground, in road half-widths, at depth t
        return vx + (w / 2 - vx) * t + lateral * half * t, horizon + (h - horizon) * t

    im = Image.new("RGB", (w, h))
    d = ImageDraw.Draw(im)
    top, low = _jit(rng, (64, 124, 206), 14), _jit(rng, (196, 218, 240), 8)
    for y in range(int(horizon) + 1):
        d.line([(0, y), (w, y)], fill=_mix(top, low, y / horizon))
    d.rectangle([0, horizon, w, h], fill=_jit(rng, (184, 178, 168), 8))
    wall = (h - horizon) * rng.uniform(1.1, 1.6)
    for side in (-1, 1):  # house fronts, each its own colour, with a row of windows
        t, lateral = 0.03, side * rng.uniform(2.6, 3.2)
        while t < 1.6:
            t1 = t * rng.uniform(1.2, 1.45)
            (xa, ya), (xb, yb) = at(lateral, t), at(lateral, t1)
            d.polygon([(xa, ya), (xa, ya - wall * t), (xb, yb - wall * t1), (xb, yb)],
                      fill=_jit(rng, rng.choice([(214, 196, 172), (190, 172, 162), (220, 212, 196)]), 10))  # fmt: skip
            for f in (0.2, 0.6):
                (xc, yc), (xd, yd) = at(lateral, t + (t1 - t) * f), at(lateral, t + (t1 - t) * (f + 0.2))
                uc, ud = t + (t1 - t) * f, t + (t1 - t) * (f + 0.2)
                d.polygon([(xc, yc - 0.45 * wall * uc), (xc, yc - 0.7 * wall * uc), (xd, yd - 0.7 * wall * ud),
                           (xd, yd - 0.45 * wall * ud)], fill=(84, 92, 104))  # fmt: skip
            t = t1
    d.polygon([at(-1, 0), at(1, 0), at(1, 1.6), at(-1, 1.6)], fill=_jit(rng, (96, 96, 100), 6))
    for k in range(16):  # dashes of the centre line, shorter and closer towards the end
        d.line([at(0, 1.6 * (k / 16) ** 1.6), at(0, 1.6 * ((k + 0.5) / 16) ** 1.6)], fill=(226, 222, 200),
               width=max(1, round(6 * ((k + 0.5) / 16) ** 1.6)))  # fmt: skip
    trees = sorted((0.05 + 1.5 * ((i + rng.uniform(0.2, 1.0)) / n) ** 1.4, side * rng.uniform(1.4, 1.8))
                   for side, n in ((-1, rng.randint(8, 12)), (1, rng.randint(8, 12))) for i in range(n))  # fmt: skip
    shadow = Image.new("L", (w, h))
    for t, lateral in trees:  # dappled shadows, cast across the road away from the sun
        (sx, sy), p = at(lateral - sun * rng.uniform(1.0, 1.6), t), (h - horizon) * t
        for _ in range(rng.randint(4, 7)):
            cx, cy, rx = sx + rng.gauss(0, 0.25 * p), sy + rng.gauss(0, 0.03 * p), rng.uniform(0.12, 0.25) * p
            ImageDraw.Draw(shadow).ellipse([cx - rx, cy - rx * 0.22, cx + rx, cy + rx * 0.22], fill=255)
    dark = np.asarray(shadow.filter(ImageFilter.GaussianBlur(1.5)), np.float32)[..., None] / 255
    shaded = np.asarray(im, np.float32) * (1 - dark * (1 - np.float32((0.5, 0.54, 0.66))))  # bluish shade
    im = Image.fromarray(shaded.astype(np.uint8))
    d = ImageDraw.Draw(im)
    for t, lateral in trees:  # far first
        (x, y), p = at(lateral, t), (h - horizon) * t
        _sunlit_crown(d, rng, palette, x, y, p, sun)
    return im


def _sunlit_crown(d: ImageDraw.ImageDraw, rng: random.Random, palette, x: float, y: float, p: float, sun: int) -> None:
    """A tall tree standing at (x, y) whose size on the picture is `p` (px per camera height): a trunk, and a crown of
    clumps, each dark on the shaded side, lit on the sun's side, with glints of single leaves."""
    d.polygon([(x - 0.045 * p, y), (x - 0.025 * p, y - 1.3 * p), (x + 0.025 * p, y - 1.3 * p), (x + 0.045 * p, y)],
              fill=(58, 46, 40))  # fmt: skip
    clumps = [(x + rng.gauss(0, 0.32 * p), y - 1.5 * p + rng.gauss(0, 0.2 * p), rng.uniform(0.12, 0.22) * p,
               _jit(rng, rng.choice(palette), 10)) for _ in range(rng.randint(9, 15))]  # fmt: skip
    for grow, lift, tint in ((1.0, 0.0, None), (0.72, 0.3, 0.0)):  # the shaded, then the lit side
        for cx, cy, r, colour in clumps:
            c = _mix(colour, (24, 30, 40), 0.45) if tint is None else _mix(colour, (255, 250, 220), tint)
            cx, cy, rr = cx + sun * lift * r, cy - lift * r, r * grow
            d.ellipse([cx - rr, cy - rr, cx + rr, cy + rr], fill=c)
    for cx, cy, r, colour in clumps:
        glint = _mix(colour, (255, 250, 220), 0.4)
        for _ in range(rng.randint(8, 16)):
            gx, gy, gr = cx + sun * abs(rng.gauss(0.3, 0.3)) * r, cy - abs(rng.gauss(0.3, 0.3)) * r, 0.008 * p + 0.5
            d.ellipse([gx - gr, gy - gr, gx + gr, gy + gr], fill=glint)


def _sweep(rng: random.Random, a: np.ndarray, h: int) -> np.ndarray:
    """`a` (tall, w, 3) cut to (h, w, 3) as a phone's sweep leaves it: rows bowed across the width, and 3-5 frames
    each with its own exposure, white balance, vignette and a pixel or two of misregistration, feathered together."""
    tall, w = a.shape[:2]
    n = rng.randint(3, 5)
    cuts = [w * (k + rng.uniform(-0.15, 0.15)) / n for k in range(1, n)]
    bounds = list(zip([-math.inf, *cuts], [*cuts, math.inf], strict=True))
    x = np.arange(w, dtype=np.float32)
    feather = rng.uniform(16, 40)
    weights = [np.clip((x - lo) / feather + 0.5, 0, 1) * np.clip((hi - x) / feather + 0.5, 0, 1) for lo, hi in bounds]
    weights = [wk / sum(weights) for wk in weights]  # (w,) each
    bow = rng.choice((-1, 1)) * rng.uniform(0.025, 0.05) * h * ((x - w / 2) / (w / 2)) ** 2
    dy = bow + sum(wk * rng.uniform(-2, 2) for wk in weights)
    src = np.arange(h, dtype=np.float32)[:, None] + (tall - h) / 2 + dy - (dy.max() + dy.min()) / 2  # (h, w)
    y0 = np.clip(np.floor(src).astype(np.int32), 0, tall - 2)
    f = np.clip(src - y0, 0, 1)[..., None]
    cols = np.arange(w)[None, :]
    out = a[y0, cols] * (1 - f) + a[y0 + 1, cols] * f
    yn = (np.arange(h, dtype=np.float32)[:, None] - h / 2) / (h / 2)
    factor = np.zeros_like(out)
    for wk, (lo, hi) in zip(weights, bounds, strict=True):
        lo, hi = max(lo, 0) - feather, min(hi, w) + feather
        xl = (x - (lo + hi) / 2) / ((hi - lo) / 2)
        vignette = 1 - rng.uniform(0.08, 0.18) * (xl**2 + yn**2) / 2  # (h, w)
        gain = rng.uniform(0.93, 1.07) * np.float32([rng.uniform(0.97, 1.03) for _ in range(3)])
        factor += (wk * vignette)[..., None] * gain
    return out * factor


def panorama(domain: str, seed: int) -> Image.Image:
    """A phone's sweep panorama, 2.05-2.35 : 1, of a sunny street: crowns lit on the sun's side and their shadows
    across the road, the horizon bowed by the sweep, and the frames it was stitched from showing as soft steps of
    exposure, white balance and vignetting, misregistered by a pixel or two at each seam."""
    rng = random.Random(f"panorama-{domain}-{seed}")
    palette = _palette(rng, domain)
    h = rng.choice([400, 420, 440])
    w = int(h * rng.uniform(2.05, 2.35))
    a = _sweep(rng, np.asarray(_sunlit_street(rng, palette, w, int(h * 1.14)), np.float32), h)
    a += np.random.default_rng(seed + 17).normal(0, 2.5, a.shape)
    im = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))
    return im.filter(ImageFilter.UnsharpMask(radius=1.5, percent=rng.randint(40, 90), threshold=2))


GENERATORS: dict[str, Callable[[str, int], Image.Image]] = {
    "hazy": hazy, "textured": textured, "telephoto": telephoto, "rainy": rainy, "dotted": dotted, "glare": glare,
    "night": night, "flat": flat, "fog": fog, "painted": painted, "bokeh": bokeh, "panorama": panorama,
}  # fmt: skip
TUNED_ON = "hazy"  # the one set verification was tuned on; every other set is held out
# Which design of verification first ran on each held-out set (the last is final): textured and telephoto were
# written with hazy, before any tuning; the first design kept a 10% crop twice on each. rainy and dotted were
# written then and first run by the second design, which failed there (fast accepts by score merged distinct dotted
# scenes, keypoints on one plane merged the stereo pair of the real photos, a crop ranked past the 16th candidate in
# rainy); glare and night were written then, before the third design, and first run by it (it kept 6 copies twice on
# glare: soft pictures with 40-55 keypoints, fewer than min_inliers can reach); flat and fog were written then, before
# the fourth design, and first run by it. painted, bokeh and panorama were written by another author, before the fifth
# design, and first run by it: unseen by every decision.
FIRST_RUN_BY = {
    "textured": 1, "telephoto": 1, "rainy": 2, "dotted": 2, "glare": 3, "night": 3, "flat": 4, "fog": 4,
    "painted": 5, "bokeh": 5, "panorama": 5,
}  # fmt: skip
UNSEEN = tuple(name for name, design in FIRST_RUN_BY.items() if design == max(FIRST_RUN_BY.values()))


def real_photos() -> dict[str, Image.Image]:
    """The colour photos scikit-image ships in its wheel, by name (RGB; none is a copy of another, and the stereo
    pair motorcycle_left / motorcycle_right is one scene from two viewpoints: two pictures)."""
    from skimage import data

    out = {
        name: Image.fromarray(getattr(data, name)()).convert("RGB")
        for name in ("astronaut", "chelsea", "coffee", "rocket", "retina", "hubble_deep_field", "immunohistochemistry")
    }
    left, right, _ = data.stereo_motorcycle()
    out["motorcycle_left"], out["motorcycle_right"] = Image.fromarray(left), Image.fromarray(right)
    return out


def jpeg(im: Image.Image, quality: int = 90) -> bytes:
    """`im` as JPEG bytes."""
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def copy_of(im: Image.Image, kind: str, rng: random.Random) -> bytes:
    """A copy of `im` of one of `COPY_KINDS`, as JPEG bytes."""
    w, h = im.size
    if kind == "hflip":
        return jpeg(im.transpose(Image.Transpose.FLIP_LEFT_RIGHT))
    if kind == "crop10":
        cw, ch = round(w * 0.9), round(h * 0.9)
        x0, y0 = rng.randint(0, w - cw), rng.randint(0, h - ch)
        return jpeg(im.crop((x0, y0, x0 + cw, y0 + ch)))
    if kind == "resize75":
        return jpeg(im.resize((round(w * 0.75), round(h * 0.75)), Image.Resampling.LANCZOS))
    if kind == "q30":
        return jpeg(im, 30)
    if kind == "bright":
        return jpeg(Image.fromarray(np.clip(np.asarray(im, np.float32) * 1.25, 0, 255).astype(np.uint8)))
    raise ValueError(f"kind: got {kind!r}; allowed: {', '.join(COPY_KINDS)}")


def write_set(
    raw: Path, make: Callable[[str, int], Image.Image], per_domain: int, copies: int, workers: int = 2
) -> dict[str, str]:
    """`per_domain` distinct scenes of `make` per domain as raw/{A,B}/<scene>_orig.jpg, and for the first `copies`
    of each domain one copy each (cycling through COPY_KINDS) as <scene>_<kind>.jpg. Returns {file name: scene}.
    Each scene is made from its seed alone, so `workers` processes write the same files as one."""
    scenes = {}
    jobs = [(make, domain, seed, copies) for domain in "AB" for seed in range(per_domain)]
    for domain in "AB":
        (raw / domain).mkdir(parents=True, exist_ok=True)
    with ProcessPoolExecutor(workers) as pool:
        for (_, domain, seed, _), files in zip(jobs, pool.map(_scene_files, jobs, chunksize=4), strict=True):
            for name, data in files.items():
                (raw / domain / name).write_bytes(data)
                scenes[name] = f"{domain}{seed:04d}"
    return scenes


def _scene_files(job: tuple[Callable[[str, int], Image.Image], str, int, int]) -> dict[str, bytes]:
    """{file name: JPEG bytes} of one scene of `write_set`: the scene, and its copy when its seed is below `copies`."""
    make, domain, seed, copies = job
    im, scene = make(domain, seed), f"{domain}{seed:04d}"
    files = {f"{scene}_orig.jpg": jpeg(im)}
    if seed < copies:
        kind = list(COPY_KINDS)[seed % len(COPY_KINDS)]
        files[f"{scene}_{kind}.jpg"] = copy_of(im, kind, random.Random(seed))
    return files


def write_real(raw: Path) -> dict[str, str]:
    """The real photos (`real_photos`) as raw/A/<name>_orig.jpg, each with one copy of every kind. {file: scene}."""
    (raw / "A").mkdir(parents=True, exist_ok=True)
    scenes = {}
    for i, (name, im) in enumerate(real_photos().items()):
        files = {f"{name}_orig.jpg": jpeg(im)}
        files |= {f"{name}_{kind}.jpg": copy_of(im, kind, random.Random(i)) for kind in COPY_KINDS}
        for fname, data in files.items():
            (raw / "A" / fname).write_bytes(data)
            scenes[fname] = name
    return scenes


def outcome(rows: list[tuple[str, str, str]], scenes: dict[str, str]) -> dict:
    """What curation made of a set: rows (file name, status, group) of every file, `scenes` {file name: scene}.

    lost: scenes none of whose files is kept; twice: scenes with more than one file kept; grouped: per copy kind,
    (copies in their original's group, copies not rejected by a rule); rejected: copies rejected by a rule (a 75%
    resize below min_side, a brightened pale picture left without colour); merged: pairs of distinct scenes sharing
    a group."""
    kept: dict[str, int] = {}
    group_of = {name: group for name, _, group in rows}
    status_of = {name: status for name, status, _ in rows}
    for name, status, _ in rows:
        kept[scenes[name]] = kept.get(scenes[name], 0) + (status == "kept")
    grouped: dict[str, list[int]] = {k: [0, 0] for k in COPY_KINDS}
    rejected = 0
    originals = {scenes[n]: n for n in scenes if n.endswith("_orig.jpg")}
    for name, scene in scenes.items():
        kind = name.removesuffix(".jpg").rsplit("_", 1)[1]
        if kind in COPY_KINDS and status_of[name] == "rejected":
            rejected += 1
        elif kind in COPY_KINDS:
            grouped[kind][1] += 1
            grouped[kind][0] += bool(group_of[name]) and group_of[name] == group_of[originals[scene]]
    members: dict[str, set[str]] = {}
    for name, _, group in rows:
        if group:
            members.setdefault(group, set()).add(scenes[name])
    return {
        "scenes": len(kept),
        "lost": sorted(s for s, k in kept.items() if k == 0),
        "twice": sorted(s for s, k in kept.items() if k > 1),
        "grouped": {k: tuple(v) for k, v in grouped.items()},
        "rejected": rejected,
        "merged": sum(len(m) - 1 for m in members.values()),
    }
