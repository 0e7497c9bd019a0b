"""Procedural street scenes for demos and tests: domain A with green canopies, domain B with pink blossoms."""

from __future__ import annotations

import random

from PIL import Image, ImageDraw, ImageFilter

CANOPY = {
    "A": [(46, 110, 38), (70, 135, 50), (35, 90, 40), (95, 150, 60)],  # summer street trees
    "B": [(248, 183, 205), (255, 210, 225), (236, 150, 180), (250, 228, 236)],  # cherry blossoms
}


def _jitter(rng: random.Random, color: tuple[int, int, int], amount: int) -> tuple[int, int, int]:
    return tuple(max(0, min(255, c + rng.randint(-amount, amount))) for c in color)  # type: ignore[return-value]


def _sky_and_ground(draw: ImageDraw.ImageDraw, rng: random.Random, w: int, h: int, horizon: int) -> None:
    top, bottom = _jitter(rng, (110, 160, 220), 25), _jitter(rng, (200, 220, 240), 15)
    for y in range(horizon):
        t = y / max(1, horizon - 1)
        draw.line([(0, y), (w, y)], fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)))
    draw.rectangle([0, horizon, w, h], fill=_jitter(rng, (120, 120, 115), 15))


def _road(draw: ImageDraw.ImageDraw, rng: random.Random, w: int, h: int, vx: int, horizon: int) -> None:
    spread = rng.uniform(0.15, 0.35) * w
    draw.polygon(
        [(vx - 4, horizon), (vx + 4, horizon), (w / 2 + spread + w / 3, h), (w / 2 - spread - w / 3, h)],
        fill=_jitter(rng, (70, 70, 75), 10),
    )
    for i in range(6):  # centre-line dashes, closer together near the horizon
        t0, t1 = (i / 6) ** 1.6, ((i + 0.5) / 6) ** 1.6
        y0, y1 = horizon + (h - horizon) * t0, horizon + (h - horizon) * t1
        draw.line([(vx, y0), (vx + (w / 2 - vx) * t1, y1)], fill=(230, 220, 170), width=max(1, int(6 * t1)))


def _tree(draw: ImageDraw.ImageDraw, rng: random.Random, x: float, base: float, scale: float, palette) -> None:
    trunk_w, trunk_h = 6 * scale, 60 * scale
    draw.rectangle([x - trunk_w, base - trunk_h, x + trunk_w, base], fill=_jitter(rng, (80, 60, 45), 10))
    cy = base - trunk_h - 20 * scale
    for _ in range(14):
        r = rng.uniform(18, 34) * scale
        dx, dy = rng.gauss(0, 26 * scale), rng.gauss(0, 16 * scale)
        draw.ellipse([x + dx - r, cy + dy - r, x + dx + r, cy + dy + r], fill=_jitter(rng, rng.choice(palette), 12))


def street_scene(domain: str, seed: int, size: tuple[int, int] = (512, 384)) -> Image.Image:
    """One synthetic tree-lined street in perspective; `domain` A = green canopies, B = pink blossoms."""
    if domain not in CANOPY:
        raise ValueError(f"domain: got {domain!r}; allowed: A or B")
    rng = random.Random(f"{domain}-{seed}")
    w, h = size
    img = Image.new("RGB", size)
    draw = ImageDraw.Draw(img)
    horizon = int(h * rng.uniform(0.38, 0.5))
    vx = int(w * rng.uniform(0.4, 0.6))
    _sky_and_ground(draw, rng, w, h, horizon)
    _road(draw, rng, w, h, vx, horizon)
    for side in (-1, 1):
        for i in range(7, -1, -1):  # far trees first, so nearer ones overlap them
            t = (i + rng.uniform(0.6, 1.0)) / 8
            base = horizon + (h - horizon) * t
            x = vx + side * (w * 0.62 * t + 10)
            _tree(draw, rng, x, base, scale=0.25 + 1.6 * t * (w / 512), palette=CANOPY[domain])
    return img.filter(ImageFilter.GaussianBlur(0.6))
