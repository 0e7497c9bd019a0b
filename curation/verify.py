"""Verification of candidate pairs: the same picture, or only an alike one? The correlation of the fine detail of two
grey thumbnails, once one is aligned as a window of the other (a crop, a letterbox) or mirrored, by their row and
column profiles. Also the signature each image keeps for it, and its layout (what candidates are found by)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import lru_cache

import numpy as np
from PIL import Image, ImageFilter

THUMB = 64  # side of the grey thumbnail a signature is made from (the whole frame, squashed to a square)
VIEW = 32  # side of the views compared
LAYOUT = 8  # side of the layout grids
LAYOUT_CENTRE = 0.8  # the second layout grid covers the central 80% of each side (robust to a letterbox)
MIN_FIT = 1.7  # pairs whose best profile fit (x plus y correlation, at most 2) is lower are not the same picture
MIN_KEPT = 0.75  # alignment tries windows down to this fraction of a side (crops and letterboxes of up to 25%)
SCALE_STEP = 0.025  # between the window sizes alignment tries
OFFSET_STEP = 2.0  # thumbnail pixels between the window offsets alignment tries
PROFILE = 32  # samples of a row or column profile in the coarse alignment
DETAIL_SIGMAS = (1, 4)  # the detail compared: Gaussian blur at 1 px minus at 4 px, on the thumbnail
SIGNATURE_BYTES = THUMB * THUMB + 2 * THUMB + 2 * LAYOUT * LAYOUT
_CHUNK = 2048  # pairs per vectorised step: bounded scratch memory whatever the number of pairs


def describe(grey: Image.Image) -> bytes:
    """The signature of one image, from its THUMB x THUMB grey thumbnail (SIGNATURE_BYTES bytes).

    In order: the fine detail, THUMB * THUMB int8 (Gaussian blur at 1 px minus at 4 px, clipped to -128..127); the
    x profile (column means) and the y profile (row means), THUMB uint8 each; the layout, 8x8 uint8 means of the
    whole frame then of its central 80%. Pillow's filters and integer arithmetic only: the same bytes on every
    machine.
    """
    fine, coarse = (np.asarray(grey.filter(ImageFilter.GaussianBlur(s)), dtype=np.int16) for s in DETAIL_SIGMAS)
    detail = np.clip(fine - coarse, -128, 127).astype(np.int8)
    g = np.asarray(grey, dtype=np.int32)  # (THUMB, THUMB)
    profiles = np.concatenate([(g.sum(axis=0) + THUMB // 2) // THUMB, (g.sum(axis=1) + THUMB // 2) // THUMB])
    margin = THUMB * (1 - LAYOUT_CENTRE) / 2
    layout = [
        grey.resize((LAYOUT, LAYOUT), Image.Resampling.BOX),
        grey.resize((LAYOUT, LAYOUT), Image.Resampling.BOX, box=(margin, margin, THUMB - margin, THUMB - margin)),
    ]
    return b"".join([detail.tobytes(), profiles.astype(np.uint8).tobytes(), *(g.tobytes() for g in layout)])


def _split(signatures: list[bytes]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(detail (n, THUMB, THUMB) int8, profiles (n, 2, THUMB) uint8, layout (n, 2, LAYOUT, LAYOUT) uint8)."""
    raw = np.frombuffer(b"".join(signatures), dtype=np.uint8).reshape(len(signatures), SIGNATURE_BYTES)
    d, p = THUMB * THUMB, 2 * THUMB
    return (
        raw[:, :d].view(np.int8).reshape(-1, THUMB, THUMB),
        raw[:, d : d + p].reshape(-1, 2, THUMB),
        raw[:, d + p :].reshape(-1, 2, LAYOUT, LAYOUT),
    )


def _unit(x: np.ndarray) -> np.ndarray:
    """Zero mean, unit length along the last axis (a flat vector stays zero)."""
    x = x - x.mean(axis=-1, keepdims=True)
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-6)


def layouts(signatures: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """The layout of each image (whole frame, centre) as a unit vector v (zero mean: a dot product of two is the
    correlation of two layouts) split into its mirror-symmetric and antisymmetric parts, each kept as its left half
    times sqrt(2) so that dot products are unchanged: (symmetric, antisymmetric), each (n, 2, LAYOUT**2 / 2) float32.
    v.w = s.s' + t.t', and v against w mirrored = s.s' - t.t'."""
    grid = _split(signatures)[2].astype(np.float32)  # (n, 2, LAYOUT, LAYOUT)
    n = len(grid)
    v = _unit(grid.reshape(n, 2, -1)).reshape(grid.shape)
    mirrored = v[..., ::-1]
    half = LAYOUT // 2
    sym = ((v + mirrored) / 2)[..., :half] * np.float32(np.sqrt(2))
    anti = ((v - mirrored) / 2)[..., :half] * np.float32(np.sqrt(2))
    return sym.reshape(n, 2, -1), anti.reshape(n, 2, -1)


@lru_cache(maxsize=1)
def hypotheses() -> np.ndarray:
    """(H, 2) float32 (kept fraction k, offset o in thumbnail pixels) of one axis: the window [o, o + k * THUMB]."""
    out = []
    for k in np.arange(1.0, MIN_KEPT - 1e-9, -SCALE_STEP):
        span = (1 - k) * THUMB
        steps = int(np.floor(span / OFFSET_STEP)) + 1
        out += [(k, o) for o in np.linspace(0, span, steps)] if steps > 1 else [(k, 0.0)]
    return np.array(out, dtype=np.float32)


def _taps(k: np.ndarray, o: np.ndarray, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    """Linear-interpolation taps sampling the window (k, o) of a THUMB axis at n_out points: (index, weight), each
    (..., n_out)."""
    pos = o[..., None] + (np.arange(n_out, dtype=np.float32) + 0.5) * (k[..., None] * THUMB / n_out) - 0.5
    pos = np.clip(pos, 0, THUMB - 1)
    i0 = np.minimum(pos.astype(np.int64), THUMB - 2)
    return i0, (pos - i0).astype(np.float32)


@lru_cache(maxsize=1)
def _profile_matrix() -> np.ndarray:
    """(THUMB, H * PROFILE): a profile times it is the profile resampled on every hypothesis' window."""
    hyp = hypotheses()
    i0, w = _taps(hyp[:, 0], hyp[:, 1], PROFILE)  # (H, PROFILE)
    m = np.zeros((len(hyp), PROFILE, THUMB), dtype=np.float32)
    rows = np.arange(PROFILE)
    for h in range(len(hyp)):
        np.add.at(m[h], (rows, i0[h]), 1 - w[h])
        np.add.at(m[h], (rows, i0[h] + 1), w[h])
    return m.reshape(-1, THUMB).T.copy()


@dataclass(frozen=True)
class Prepared:
    """What verification needs of each image, computed once for all its pairs."""

    detail: np.ndarray  # (n, THUMB, THUMB) float32: each thumbnail's fine detail
    full: np.ndarray  # (n, VIEW * VIEW) the whole frame's detail at VIEW px, zero mean, unit length
    full_mirror: np.ndarray  # (n, VIEW * VIEW) the same, mirrored left to right
    px: np.ndarray  # (n, THUMB) x profile (column means)
    py: np.ndarray  # (n, THUMB) y profile (row means)
    qx: np.ndarray  # (n, PROFILE) the x profile at PROFILE samples, unit
    qy: np.ndarray  # (n, PROFILE)
    bank_x: np.ndarray  # (n, H, PROFILE) the x profile resampled on every window of `hypotheses()`, unit
    bank_y: np.ndarray  # (n, H, PROFILE)


def prepare(signatures: list[bytes]) -> Prepared:
    """Prepare the signatures (`describe`) of n images for `scores`: about 25 KB per image."""
    d8, prof, _ = _split(signatures)
    n = len(d8)
    detail = d8.astype(np.float32)
    px, py = prof[:, 0].astype(np.float32), prof[:, 1].astype(np.float32)  # (n, THUMB) each
    f = THUMB // VIEW
    small = detail.reshape(n, VIEW, f, VIEW, f).mean(axis=(2, 4))  # (n, VIEW, VIEW)
    m, h = _profile_matrix(), len(hypotheses())
    return Prepared(
        detail=detail,
        full=_unit(small.reshape(n, -1)),
        full_mirror=_unit(small[:, :, ::-1].reshape(n, -1)),
        px=px,
        py=py,
        qx=_unit(px.reshape(n, PROFILE, -1).mean(axis=2)),
        qy=_unit(py.reshape(n, PROFILE, -1).mean(axis=2)),
        bank_x=_unit((px @ m).reshape(n, h, PROFILE)),
        bank_y=_unit((py @ m).reshape(n, h, PROFILE)),
    )


def concatenate(first: Prepared, second: Prepared) -> Prepared:
    """The images of `first`, then those of `second`."""
    both = {f.name: np.concatenate([getattr(first, f.name), getattr(second, f.name)]) for f in fields(first)}
    return Prepared(**both)


def _window_views(detail: np.ndarray, which: np.ndarray, kx, ox, ky, oy) -> np.ndarray:
    """(P, VIEW * VIEW) the detail images `detail[which]` sampled on windows (kx, ox) x (ky, oy), unit."""
    p = len(which)
    yi, yw = _taps(ky, oy, VIEW)  # (P, VIEW)
    xi, xw = _taps(kx, ox, VIEW)
    lines = detail.reshape(-1, THUMB)
    at = (which * THUMB)[:, None] + yi
    yw = yw[..., None]
    rows = (lines[at] * (1 - yw) + lines[at + 1] * yw).reshape(-1)  # (P * VIEW * THUMB,)
    at = (np.arange(p * VIEW) * THUMB).reshape(p, VIEW, 1) + xi[:, None, :]  # (P, VIEW, VIEW)
    xw = xw[:, None, :]
    views = rows[at] * (1 - xw) + rows[at + 1] * xw
    return _unit(views.reshape(p, -1))


@lru_cache(maxsize=1)
def _scales() -> list[tuple[int, int]]:
    """The hypotheses of each window size: (first, last + 1) ranges into `hypotheses()`, largest size first."""
    k = hypotheses()[:, 0]
    cuts = [0, *(np.flatnonzero(np.diff(k)) + 1).tolist(), len(k)]
    return list(zip(cuts[:-1], cuts[1:], strict=True))


def _best_by_scale(score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each pair and window size, the best offset's score and hypothesis: (P, S) each."""
    ranges = _scales()
    best = np.stack([score[:, a:b].max(axis=1) for a, b in ranges], axis=1)
    at = np.stack([score[:, a:b].argmax(axis=1) + a for a, b in ranges], axis=1)
    return best, at


def _coarse(prep: Prepared, big: np.ndarray, small: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per pair, the windows of `big` that `small` fits best by profile correlation, as hypothesis indices: each
    axis on its own (x, y), and both of one size (x, y, the size that fits best on both); whether `small` is
    mirrored; and the fit (sum of the two axes' best correlations, at most 2)."""
    bx, qx = prep.bank_x[big], prep.qx[small]  # (P, H, PROFILE), (P, PROFILE)
    sx = np.einsum("phs,ps->ph", bx, qx)  # (P, H)
    sxm = np.einsum("phs,ps->ph", bx, qx[:, ::-1])
    sy = np.einsum("phs,ps->ph", prep.bank_y[big], prep.qy[small])
    mirror = sxm.max(axis=1) > sx.max(axis=1)
    sx = np.where(mirror[:, None], sxm, sx)
    hx, hy = sx.argmax(axis=1), sy.argmax(axis=1)
    at = np.arange(len(big))
    (bx_s, hx_s), (by_s, hy_s) = _best_by_scale(sx), _best_by_scale(sy)
    size = (bx_s + by_s).argmax(axis=1)
    return hx, hy, hx_s[at, size], hy_s[at, size], mirror, sx[at, hx] + sy[at, hy]


_LOCAL = np.array([-1.0, -0.5, 0.0, 0.5, 1.0], dtype=np.float32)  # refinement steps around the coarse window


def _refine(big: np.ndarray, small: np.ndarray, k: np.ndarray, o: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The window near (k, o) where the full-resolution profile of `big` (P, THUMB) best fits `small` (P, THUMB):
    the offset to half a pixel first, then the size to half a SCALE_STEP."""
    q = _unit(small)
    at = np.arange(len(big))
    flat = big.reshape(-1)
    for moves_offset in (True, False):
        kk = np.clip(k[:, None] + (0 * _LOCAL if moves_offset else _LOCAL * SCALE_STEP / 2), MIN_KEPT, 1.0)
        oo = np.clip(o[:, None] + (_LOCAL if moves_offset else 0 * _LOCAL), 0, (1 - kk) * THUMB)  # (P, L)
        i0, w = _taps(kk, oo, THUMB)  # (P, L, THUMB)
        base = (at * THUMB)[:, None, None] + i0
        best = np.einsum("pls,ps->pl", _unit(flat[base] * (1 - w) + flat[base + 1] * w), q).argmax(axis=1)
        k, o = kk[at, best], oo[at, best]
    return k, o


def _aligned(prep: Prepared, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Scores of pairs with one image taken as a window of the other: which one, whether mirrored and the coarse
    windows chosen by profile correlation (each axis on its own, and both of one size), each refined on the full
    profiles, then the detail correlated there; the better of the two."""
    hyp = hypotheses()
    out = np.full(len(a), -1.0, dtype=np.float32)
    in_a, in_b = _coarse(prep, a, b), _coarse(prep, b, a)  # b as a window of a; a as a window of b
    fits = np.flatnonzero(np.maximum(in_a[-1], in_b[-1]) >= MIN_FIT)  # the rest cannot be one picture
    if not len(fits):
        return out
    a, b = a[fits], b[fits]
    in_a, in_b = (tuple(x[fits] for x in t) for t in (in_a, in_b))
    a_big = in_a[-1] >= in_b[-1]
    big, small = np.where(a_big, a, b), np.where(a_big, b, a)
    hx, hy, hx_s, hy_s, mirror = (np.where(a_big, x, y) for x, y in zip(in_a[:-1], in_b[:-1], strict=True))
    px_small = np.where(mirror[:, None], prep.px[small][:, ::-1], prep.px[small])
    target = np.where(mirror[:, None], prep.full_mirror[small], prep.full[small])
    best = np.full(len(a), -1.0, dtype=np.float32)
    for x, y in ((hx, hy), (hx_s, hy_s)):
        kx, ox = _refine(prep.px[big], px_small, hyp[x, 0], hyp[x, 1])
        ky, oy = _refine(prep.py[big], prep.py[small], hyp[y, 0], hyp[y, 1])
        views = _window_views(prep.detail, big, kx, ox, ky, oy)
        best = np.maximum(best, np.einsum("pv,pv->p", views, target))
    out[fits] = best
    return out


def scores(prep: Prepared, pairs: np.ndarray, enough: float | None = None) -> np.ndarray:
    """(P,) float32 verification scores of pairs (P, 2) of indices into `prep`: the highest correlation, -1..1, of
    the two images' detail found, whole frame to whole frame (as is and mirrored) or one image as a window of the
    other. Pairs whose whole frames already correlate at `enough` or more are not aligned further.

    About 1 for the same picture re-saved, recompressed, resized, brightened, mirrored or cropped by up to a quarter;
    well below for distinct pictures however alike their composition.
    """
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    out = np.empty(len(pairs), dtype=np.float32)
    for s in range(0, len(pairs), _CHUNK):
        a, b = pairs[s : s + _CHUNK, 0], pairs[s : s + _CHUNK, 1]
        best = np.maximum(
            np.einsum("pv,pv->p", prep.full[a], prep.full[b]), np.einsum("pv,pv->p", prep.full[a], prep.full_mirror[b])
        )
        todo = np.flatnonzero(best < enough) if enough is not None else np.arange(len(a))
        if len(todo):
            best[todo] = np.maximum(best[todo], _aligned(prep, a[todo], b[todo]))
        out[s : s + _CHUNK] = best
    return out
