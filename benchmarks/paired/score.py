"""Scores of a translation against its paired truth: in the canopy against the blossom render, outside it against
the input (which the season leaves alone). Colour differences are CIE76 Delta E in Lab (D65), 1 about a just
noticeable difference."""

from __future__ import annotations

import numpy as np
import torch

from model.data import to_tensor
from model.metrics import checkerboard_energy, structure

QUANTILES = np.linspace(0.005, 0.995, 199)
_M = np.array([[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750], [0.0193339, 0.1191920, 0.9503041]])
_WHITE = np.array([0.95047, 1.0, 1.08883])


def lab(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 sRGB -> (H, W, 3) float Lab (D65)."""
    c = rgb.astype(np.float64) / 255.0
    c = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    xyz = c @ _M.T / _WHITE
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], -1)


def delta_e(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-pixel CIE76 difference of two Lab images, (H, W)."""
    return np.sqrt(((a - b) ** 2).sum(-1))


def score_scene(inp: np.ndarray, out: np.ndarray, truth: np.ndarray, canopy: np.ndarray) -> dict[str, float]:
    """inp: the test image the model read (uint8, as stored), out: its translation, truth: the blossom render,
    canopy: bool (H, W), what the season changes.

    canopy_error: mean Delta E(out, truth) in the canopy. mean_offset: Delta E between the canopy's mean colour and
    the truth's (the part of the error a single colour shift would remove); lightness: the canopy's mean L minus the
    truth's (negative: darker). outside: mean Delta E(out, inp) outside it (0 = nothing
    repainted). floor: the same for the truth itself, which differs from the stored input only by its compression.
    nearer: share of canopy pixels nearer the truth's colour than the input was. checkerboard / structure: the
    project's artifact measures of the translation against its input."""
    L_in, L_out, L_truth = lab(inp), lab(out), lab(truth)
    err, err_in = delta_e(L_out, L_truth), delta_e(L_in, L_truth)
    outside = ~canopy
    a, b = (to_tensor_u8(x) for x in (inp, out))
    return {
        "canopy_error": float(err[canopy].mean()) if canopy.any() else 0.0,
        "mean_offset": float(np.linalg.norm(L_out[canopy].mean(0) - L_truth[canopy].mean(0))) if canopy.any() else 0.0,
        "lightness": float(L_out[canopy][:, 0].mean() - L_truth[canopy][:, 0].mean()) if canopy.any() else 0.0,
        "outside": float(delta_e(L_out, L_in)[outside].mean()) if outside.any() else 0.0,
        "floor": float(delta_e(L_truth, L_in)[outside].mean()) if outside.any() else 0.0,
        "nearer": float((err < err_in)[canopy].mean()) if canopy.any() else 0.0,
        "checkerboard": float(checkerboard_energy(a, b).item()),
        "structure": float(structure(a, b).item()),
    }


def to_tensor_u8(rgb: np.ndarray) -> torch.Tensor:
    """(H, W, 3) uint8 -> (1, 3, H, W) in [-1, 1]."""
    from PIL import Image

    return to_tensor(Image.fromarray(rgb))[None]


def colour_distance(outs: list[np.ndarray], truths: list[np.ndarray], canopies: list[np.ndarray]) -> float:
    """How far the canopy's colour distribution is from the truth's, over all scenes: the mean over L, a and b of
    the 1-D Wasserstein distance (by quantiles) between the translated and the true canopy pixels, in Delta E units.
    Blind to where a colour lands, so it complements the per-pixel canopy error."""
    got = np.concatenate([lab(o)[c] for o, c in zip(outs, canopies, strict=True)])
    want = np.concatenate([lab(t)[c] for t, c in zip(truths, canopies, strict=True)])
    if len(got) == 0:
        return 0.0
    return float(np.mean([np.abs(np.quantile(got[:, k], QUANTILES) - np.quantile(want[:, k], QUANTILES)).mean()
                          for k in range(3)]))  # fmt: skip


def summarise(scenes: list[dict[str, float]]) -> dict[str, float]:
    """Means over the test scenes (checkerboard: geometric mean, as the project reports it)."""
    out = {k: float(np.mean([s[k] for s in scenes])) for k in scenes[0] if k != "checkerboard"}
    out["checkerboard"] = float(np.exp(np.mean([np.log(s["checkerboard"]) for s in scenes])))
    return out
