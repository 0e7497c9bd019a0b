"""Verification score of candidate pairs, the first, cheap check of the same picture: the correlation of the fine
detail of two grey thumbnails, once one is aligned as a window of the other (a crop, a letterbox) or mirrored, by
their row and column profiles (keypoints decide the alike pairs it cannot: `curation.geometry`). Also the signature
each image keeps for it, with the hashes candidate pairs are found by."""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import lru_cache

import numpy as np
from PIL import Image, ImageFilter

from curation.hashing import N_WINDOW_HASHES, window_hashes

THUMB = 64  # side of the grey thumbnail a signature is made from (the whole frame, squashed to a square)
VIEW = 32  # side of the views compared
MIN_FIT = 1.7  # pairs whose best profile fit (x plus y correlation, at most 2) is lower are not the same picture
MIN_KEPT = 0.75  # alignment tries windows down to this fraction of a side (crops and letterboxes of up to 25%)
SCALE_STEP = 0.025  # between the window sizes alignment tries
OFFSET_STEP = 2.0  # thumbnail pixels between the window offsets alignment tries
PROFILE = 32  # samples of a row or column profile in the coarse alignment
DETAIL_SIGMAS = (1, 4)  # the detail compared: Gaussian blur at 1 px minus at 4 px, on the thumbnail
FRAMINGS = 2  # hashes of the content inside a plain border, and of the whole frame (the same without a border)
SIGNATURE_BYTES = THUMB * THUMB + 2 * THUMB + 8 * N_WINDOW_HASHES * FRAMINGS
MAX_BORDER = 0.25  # a plain border left out of the signature covers at most this fraction of a side
_BORDER_TOLERANCE = 6  # grey levels a border pixel may differ from the border's colour (JPEG noise)
_NEUTRAL = 16  # a border's colour: its channels at most this far apart
_CHUNK = 2048  # pairs per vectorised step: bounded scratch memory whatever the number of pairs


def content_box(rgb: np.ndarray, grey: np.ndarray, size: tuple[int, int]) -> tuple[float, ...] | None:
    """The box (left, top, right, bottom), in an image of `size`, inside a plain border: rows or columns from an edge
    all of one neutral colour (black, white or grey, as letterboxes are; a blue sky is not one), at most MAX_BORDER
    of the side, on two opposite sides of one colour (a letterbox, a pillarbox, or both: a sky clipped to white at
    the top only is part of the picture, and a brightened copy must not lose it). Judged on a small square thumbnail
    of the image, `rgb` (side, side, 3) and `grey` (side, side) uint8; None when it has none."""
    t = grey.astype(np.int16)
    side, n = len(t), int(MAX_BORDER * len(t))
    strips = np.stack([t[:n], t[::-1][:n], t.T[:n], t.T[::-1][:n]])  # (4, n, side): top, bottom, left, right
    level = np.median(strips[:, 0], axis=1).astype(np.int16)  # each edge's first row
    plain = (np.abs(strips - level[:, None, None]) <= _BORDER_TOLERANCE).sum(axis=2) >= 0.98 * side  # (4, n)
    rows = np.where(plain.all(axis=1), n, plain.argmin(axis=1))
    edges = np.stack([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]]).astype(np.int16)  # (4, side, 3)
    neutral = np.median(edges.max(axis=2) - edges.min(axis=2), axis=1) <= _NEUTRAL  # (4,)
    found = np.where(neutral, rows, 0).tolist()
    top, bottom = _opposite(found[0], found[1], level[0], level[1])
    left, right = _opposite(found[2], found[3], level[2], level[3])
    if not (top or bottom or left or right):
        return None
    w, h = size
    return (left * w / side, top * h / side, (side - right) * w / side, (side - bottom) * h / side)


def _opposite(a: int, b: int, colour_a: int, colour_b: int) -> tuple[int, int]:
    """The widths of plain borders on two opposite sides when they are one letterbox (both there, of one colour, one
    at least 2 thumbnail rows: a thin one may be blurred into the picture, a wide one where the picture's own edge is
    of that colour too), else (0, 0)."""
    if min(a, b) >= 1 and max(a, b) >= 2 and abs(colour_a - colour_b) <= 2 * _BORDER_TOLERANCE:
        return a, b
    return 0, 0


def describe(grey: Image.Image, frame: Image.Image | None = None) -> bytes:
    """The signature of one image, from the THUMB x THUMB grey thumbnail of its content (SIGNATURE_BYTES bytes);
    `frame`: that of the whole frame, where a plain border was left out of the content (None: there was none).

    In order: the fine detail, THUMB * THUMB int8 (Gaussian blur at 1 px minus at 4 px, clipped to -128..127); the
    x profile (column means) and the y profile (row means), THUMB uint8 each; the `curation.hashing.window_hashes`
    (whole frame, mirrored, 9 windows of 90%) of the content, then of the whole frame, big-endian uint64. Pillow's
    filters and integer arithmetic for the detail and profiles: the same bytes on every machine.

    Both framings are kept because a border cannot always be told from the picture: a high-key photo brightened
    until its sides clip to white looks letterboxed, its original does not. Candidate pairs are found by either
    framing's hashes, and a pair with a border on one side is judged by keypoints whatever its score (`boxed`).
    """
    fine, coarse = (np.asarray(grey.filter(ImageFilter.GaussianBlur(s)), dtype=np.int16) for s in DETAIL_SIGMAS)
    detail = np.clip(fine - coarse, -128, 127).astype(np.int8)
    g = np.asarray(grey, dtype=np.int32)  # (THUMB, THUMB)
    profiles = np.concatenate([(g.sum(axis=0) + THUMB // 2) // THUMB, (g.sum(axis=1) + THUMB // 2) // THUMB])
    content = window_hashes(grey)
    whole = content if frame is None else window_hashes(frame)
    hashes = np.concatenate([content, whole]).astype(">u8")
    return b"".join([detail.tobytes(), profiles.astype(np.uint8).tobytes(), hashes.tobytes()])


def _split(signatures: list[bytes]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(detail (n, THUMB, THUMB) int8, profiles (n, 2, THUMB) uint8, hashes (n, FRAMINGS, N_WINDOW_HASHES) uint64)."""
    raw = np.frombuffer(b"".join(signatures), dtype=np.uint8).reshape(len(signatures), SIGNATURE_BYTES)
    d, p = THUMB * THUMB, 2 * THUMB
    return (
        raw[:, :d].view(np.int8).reshape(-1, THUMB, THUMB),
        raw[:, d : d + p].reshape(-1, 2, THUMB),
        np.ascontiguousarray(raw[:, d + p :]).view(">u8").astype(np.uint64).reshape(-1, FRAMINGS, N_WINDOW_HASHES),
    )


def hashes(signatures: list[bytes]) -> np.ndarray:
    """(n, FRAMINGS, N_WINDOW_HASHES) uint64: the window hashes in each signature (whole frame, mirrored, the 9
    windows), of the content and of the whole frame."""
    return _split(signatures)[2]


def boxed(framed: np.ndarray) -> np.ndarray:
    """(n,) bool: whether each image's content was framed inside a plain border, from `hashes` (n, FRAMINGS, ...)."""
    return (framed[:, 0] != framed[:, 1]).any(axis=1)


def _unit(x: np.ndarray) -> np.ndarray:
    """Zero mean, unit length along the last axis (a flat vector stays zero)."""
    x = x - x.mean(axis=-1, keepdims=True)
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-6)


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
def _profile_taps() -> tuple[np.ndarray, np.ndarray]:
    """(index, weight), each (H, PROFILE): the taps that resample a profile on every hypothesis' window."""
    hyp = hypotheses()
    return _taps(hyp[:, 0], hyp[:, 1], PROFILE)


def _resampled(profile: np.ndarray) -> np.ndarray:
    """(n, H, PROFILE) the profiles (n, THUMB) resampled on every hypothesis' window, unit (two taps gathered: a
    matrix product would cost as much and, under BLAS's threads on a busy machine, milliseconds a call)."""
    i0, w = _profile_taps()
    return _unit(profile[:, i0] * (1 - w) + profile[:, i0 + 1] * w)


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
    return Prepared(
        detail=detail,
        full=_unit(small.reshape(n, -1)),
        full_mirror=_unit(small[:, :, ::-1].reshape(n, -1)),
        px=px,
        py=py,
        qx=_unit(px.reshape(n, PROFILE, -1).mean(axis=2)),
        qy=_unit(py.reshape(n, PROFILE, -1).mean(axis=2)),
        bank_x=_resampled(px),
        bank_y=_resampled(py),
    )


def concatenate(first: Prepared | None, used: int, second: Prepared, room: int = 0) -> Prepared:
    """The first `used` images of `first` (None: none), then those of `second`: in `first` itself where it has room,
    else in arrays with room for `room` images or twice as many as before (so that adding images one batch at a time
    copies each about twice, not once a batch; none when `room` is all there will be: unwritten rows cost no memory).
    Rows past the images are unused."""
    if first is not None and len(first.full) >= used + len(second.full):
        for f in fields(first):
            getattr(first, f.name)[used : used + len(second.full)] = getattr(second, f.name)
        return first
    room = max(room, used + len(second.full), 2 * (len(first.full) if first is not None else 0))
    out = {}
    for f in fields(second):
        new = getattr(second, f.name)
        out[f.name] = np.empty((room, *new.shape[1:]), dtype=new.dtype)
        if first is not None:
            out[f.name][:used] = getattr(first, f.name)[:used]
        out[f.name][used : used + len(new)] = new
    return Prepared(**out)


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


def _aligned(prep: Prepared, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scores of pairs with one image taken as a window of the other: which one, whether mirrored and the coarse
    windows chosen by profile correlation (each axis on its own, and both of one size), each refined on the full
    profiles, then the detail correlated there; the better of the two. With whether the window fits mirrored."""
    hyp = hypotheses()
    out = np.full(len(a), -1.0, dtype=np.float32)
    flipped = np.zeros(len(a), dtype=bool)
    in_a, in_b = _coarse(prep, a, b), _coarse(prep, b, a)  # b as a window of a; a as a window of b
    fits = np.flatnonzero(np.maximum(in_a[-1], in_b[-1]) >= MIN_FIT)  # the rest cannot be one picture
    if not len(fits):
        return out, flipped
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
    out[fits], flipped[fits] = best, mirror
    return out, flipped


def scores(
    prep: Prepared, pairs: np.ndarray, enough: float | None = None, align: np.ndarray | None = None
) -> np.ndarray:
    """(P,) float32 verification scores of pairs (P, 2) of indices into `prep`: the highest correlation, -1..1, of
    the two images' detail found, whole frame to whole frame (as is and mirrored) or one image as a window of the
    other. Pairs whose whole frames already correlate at `enough` or more are not aligned further, nor those whose
    `align` (P,) bool is False (whole frames only: 30 times quicker).

    About 1 for the same picture re-saved, recompressed, resized, brightened, mirrored or cropped by up to a quarter;
    lower for distinct pictures, though soft photos of one composition reach 0.8-0.87: a score alone cannot tell
    those apart from copies, which is why keypoints decide above `min_score` (`curation.geometry`).
    """
    return scored(prep, pairs, enough, align)[0]


def scored(
    prep: Prepared, pairs: np.ndarray, enough: float | None = None, align: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """`scores`, with whether the second image of each pair fits the first mirrored where its score was found ((P,)
    bool: which way round geometric verification tries first)."""
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    align = np.ones(len(pairs), dtype=bool) if align is None else np.asarray(align, dtype=bool)
    out = np.empty(len(pairs), dtype=np.float32)
    flipped = np.empty(len(pairs), dtype=bool)
    for s in range(0, len(pairs), _CHUNK):
        a, b = pairs[s : s + _CHUNK, 0], pairs[s : s + _CHUNK, 1]
        same = np.einsum("pv,pv->p", prep.full[a], prep.full[b])
        mirror = np.einsum("pv,pv->p", prep.full[a], prep.full_mirror[b])
        best, flip = np.maximum(same, mirror), mirror > same
        wanted = align[s : s + _CHUNK] & (best < enough if enough is not None else True)
        todo = np.flatnonzero(wanted)
        if len(todo):
            window, window_flip = _aligned(prep, a[todo], b[todo])
            better = window > best[todo]
            best[todo[better]], flip[todo[better]] = window[better], window_flip[better]
        out[s : s + _CHUNK], flipped[s : s + _CHUNK] = best, flip
    return out, flipped
