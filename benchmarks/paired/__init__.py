"""Paired-truth street renderers: each renders one scene twice (green, in blossom) and the mask of what changed.

Each module has `NAME` and `render(seed, size) -> (green, blossom, canopy)`. Written by different authors before any
recipe was tuned: `boulevard` is the one recipes are tuned on, `alley` is held out (see benchmarks/bench_quality.py).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

import numpy as np
from PIL import Image

Render = Callable[[int, int], tuple[Image.Image, Image.Image, np.ndarray]]
RENDERERS = ("boulevard", "alley")
TUNED_ON = "boulevard"


def renderer(name: str) -> Render:
    """The `render` function of a renderer module by name."""
    if name not in RENDERERS:
        raise ValueError(f"renderer: got {name!r}; allowed: {', '.join(RENDERERS)}")
    return importlib.import_module(f".{name}", __name__).render
