"""A generated two-domain street dataset: A = green canopies over a street, B = pink (cherry-blossom) canopies."""

from __future__ import annotations

import random
from pathlib import Path

from PIL import Image, ImageDraw

# The smallest training that still exercises every part: what the model tests train with (as settings or flags).
TINY = dict(image_size=32, load_size=36, ngf=8, ndf=8, n_blocks=2, num_workers=0, progress_bar=False)


def as_flags(settings: dict) -> list[str]:
    """The command-line flags that give these settings (`--image-size 32`, `--no-progress-bar`)."""
    out: list[str] = []
    for name, value in settings.items():
        flag = "--" + name.replace("_", "-")
        out += ([flag] if value else ["--no-" + flag[2:]]) if isinstance(value, bool) else [flag, str(value)]
    return out


GREEN = ((46, 120, 40), (70, 140, 50), (35, 95, 45))
PINK = ((240, 170, 200), (250, 190, 215), (230, 150, 185))


def street_image(domain: str, size: tuple[int, int], rng: random.Random) -> Image.Image:
    """A street scene: sky, road with a vanishing point, trunks, and blobs of canopy in the domain's colours."""
    w, h = size
    im = Image.new("RGB", size, (150 + rng.randint(-20, 20), 190 + rng.randint(-20, 20), 235))
    d = ImageDraw.Draw(im)
    vx = w // 2 + rng.randint(-w // 8, w // 8)
    d.polygon([(vx, h // 2), (w, h), (0, h)], fill=(110, 110, 115))
    palette = GREEN if domain == "A" else PINK
    for side in (0, 1):
        for k in range(3):
            x = int(w * (0.1 + 0.12 * k)) if side == 0 else int(w * (0.9 - 0.12 * k))
            d.rectangle([x - 1, int(h * 0.35), x + 1, int(h * (0.7 + 0.08 * k))], fill=(90, 60, 30))
    for _ in range(rng.randint(10, 16)):
        cx, cy = rng.randint(0, w), rng.randint(0, int(h * 0.45))
        r = rng.randint(w // 10, w // 5)
        c = rng.choice(palette)
        c = tuple(max(0, min(255, v + rng.randint(-12, 12))) for v in c)
        d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=c)
    return im


def make_dataset(
    root: Path,
    n_train: int = 12,
    n_test: int = 6,
    size: tuple[int, int] = (40, 40),
    seed: int = 0,
    layout: str = "project",
) -> Path:
    """Write root/{train,test}/{A,B}/*.png (layout "project") or root/{trainA,...} (layout "official")."""
    rng = random.Random(seed)
    for split, n in (("train", n_train), ("test", n_test)):
        for domain in ("A", "B"):
            folder = root / split / domain if layout == "project" else root / f"{split}{domain}"
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(n):
                street_image(domain, size, rng).save(folder / f"{domain}_{i:03d}.png")
    return root
