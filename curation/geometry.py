"""Geometric verification of candidate pairs: ORB keypoints of the two staged copies matched under one affine transform
found by RANSAC (mirrored too), then their pixels compared once aligned by it. The same picture, however re-saved,
resized, brightened, cropped or mirrored, shares many keypoints that one plausible transform maps onto each other,
and its detail then agrees everywhere; distinct photos of one composition share few keypoints, and one scene from two
viewpoints shares them on one plane only (parallax moves the rest)."""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from curation.config import DedupPolicy

FEATURE_SIDE = 256  # keypoints are found on the staged copy's grey image with its longer side at most this
N_FEATURES = 300  # ORB keypoints kept per image (the strongest)
DETAIL_SIGMAS = (1.0, 3.0)  # the fine detail compared densely: Gaussian blur at 1 px minus at 3 px, at FEATURE_SIDE
_ORB = dict(scaleFactor=1.2, nlevels=4, fastThreshold=5, edgeThreshold=15, patchSize=15)  # soft photos have corners
_ITERATIONS = 1000  # RANSAC's at most (2-point samples: a copy's inliers are found in far fewer)
_THREADS = max(1, min(8, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1))
cv2.setNumThreads(1)  # pairs run on FeatureCache's own threads, one per core: OpenCV's pool under them only contends


@dataclass(frozen=True)
class Features:
    """The ORB keypoints of one image: positions (n, 2) float32 at FEATURE_SIDE, descriptors (n, 32) uint8, and the
    grey image they were found on (h, w) uint8."""

    points: np.ndarray
    descriptors: np.ndarray
    image: np.ndarray

    def __len__(self) -> int:
        return len(self.points)


@dataclass(frozen=True)
class Geometry:
    """How two images agree: inliers of the best affine transform from the first's keypoints to the second's, as a
    count and as a share of the fewer keypoints of the two, that transform (2 x 3, row by row), its scale (square
    root of its determinant, negative for a reflection), rotation (degrees), whether the first image was mirrored
    for it, the correlation of their fine detail once the first is warped onto the second by it (`dense_agreement`; 0
    until measured), its aspect (x scale / y scale) and shear (cosine between the transformed axes)."""

    inliers: int = 0
    share: float = 0.0
    scale: float = 0.0
    rotation: float = 0.0
    mirrored: bool = False
    transform: tuple[float, ...] = ()
    dense: float = 0.0
    aspect: float = 1.0
    shear: float = 0.0
    keypoints: int = N_FEATURES  # the fewer keypoints of the two images

    def plausible(self, policy: DedupPolicy) -> bool:
        """Whether the transform is one a copy makes: a modest scale, stretch and rotation, no shear."""
        return (
            1 / policy.max_scale <= self.scale <= policy.max_scale
            and 1 / policy.max_stretch <= self.aspect <= policy.max_stretch
            and abs(self.shear) <= policy.max_shear
            and abs(self.rotation) <= policy.max_rotation
        )

    def keypoints_agree(self, policy: DedupPolicy) -> bool:
        """Whether enough keypoints agree under a transform a copy makes (the dense check is still to come)."""
        return (
            self.plausible(policy) and self.inliers >= needed(policy, self.keypoints) and self.share >= policy.min_share
        )

    def same(self, policy: DedupPolicy) -> bool:
        """Whether this is the agreement of one picture with a copy of itself: keypoints and pixels both agree, one
        of them strongly (two views of one scene share keypoints on one plane, but parallax moves the rest; distinct
        flat art shares the edges of its road); or, for a picture too soft for keypoints (fewer than
        soft_keypoints), the pixels alone agree strongly."""
        if self.keypoints < policy.soft_keypoints and self.dense >= policy.strong_dense:
            return True
        strong = self.share >= policy.strong_share or self.dense >= policy.strong_dense
        return self.keypoints_agree(policy) and self.dense >= policy.min_dense and strong


def needed(policy: DedupPolicy, keypoints: int) -> int:
    """Inliers a pair needs when the fewer keypoints of its two images are `keypoints`: `min_inliers`, or for pictures
    too soft to have that many to spare, `few_share` of their keypoints, at least `few_floor`."""
    return min(policy.min_inliers, max(policy.few_floor, math.ceil(policy.few_share * keypoints)))


def _orb() -> cv2.ORB:
    return cv2.ORB_create(nfeatures=N_FEATURES, **_ORB)


def features(grey: Image.Image, mirror: bool = False) -> Features:
    """The keypoints of a grey image (mirrored left to right first if asked), found at FEATURE_SIDE."""
    scale = min(1.0, FEATURE_SIDE / max(grey.size))
    if scale < 1:
        size = (max(1, round(grey.width * scale)), max(1, round(grey.height * scale)))
        grey = grey.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    if mirror:
        grey = grey.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    image = np.asarray(grey)
    keypoints, descriptors = _orb().detectAndCompute(image, None)
    if descriptors is None:
        return Features(np.empty((0, 2), np.float32), np.empty((0, 32), np.uint8), image)
    return Features(np.array([k.pt for k in keypoints], dtype=np.float32).reshape(-1, 2), descriptors, image)


def _detail(image: np.ndarray) -> np.ndarray:
    x = image.astype(np.float32)
    fine, coarse = (cv2.GaussianBlur(x, (0, 0), s) for s in DETAIL_SIGMAS)
    return fine - coarse


def dense_agreement(a: Features, b: Features, transform: tuple[float, ...], min_overlap: float = 0.25) -> float:
    """The correlation (-1..1) of the fine detail of `b`'s image and `a`'s warped onto it by `transform` (a to b),
    over where they overlap (at least `min_overlap` of b, a few pixels in from the edges); 0 where they do not."""
    m = np.array(transform, dtype=np.float32).reshape(2, 3)
    h, w = b.image.shape
    warped = cv2.warpAffine(a.image, m, (w, h), flags=cv2.INTER_LINEAR)
    inside = cv2.warpAffine(np.full(a.image.shape, 255, np.uint8), m, (w, h), flags=cv2.INTER_NEAREST)
    mask = cv2.erode(inside, np.ones((9, 9), np.uint8)) > 0
    if mask.sum() < min_overlap * h * w:
        return 0.0
    da, db = _detail(warped)[mask], _detail(b.image)[mask]
    da, db = da - da.mean(), db - db.mean()
    return float(da @ db / max(1e-6, float(np.linalg.norm(da) * np.linalg.norm(db))))


def load_grey(path: str | Path) -> Image.Image:
    """A staged copy as a grey image, decoded at reduced scale where that still covers FEATURE_SIDE."""
    with Image.open(path) as im:
        im.draft("L", (FEATURE_SIDE, FEATURE_SIDE))
        return im.convert("L")


def _matches(a: Features, b: Features, ratio: float) -> np.ndarray:
    """(m, 2) index pairs (a's keypoint, b's) passing Lowe's ratio test one way or the other, each once: the same
    matches whichever image comes first. Each keypoint's two nearest in the other image by Hamming distance
    (`cv2.batchDistance`); a tie for the nearest never passes."""
    if len(a) < 2 or len(b) < 2:
        return np.empty((0, 2), dtype=np.int64)
    found = []
    for first, second, flip in ((a, b, False), (b, a, True)):
        d, nearest = cv2.batchDistance(first.descriptors, second.descriptors, cv2.CV_32S, normType=cv2.NORM_HAMMING,
                                       K=2)  # fmt: skip
        held = np.flatnonzero(d[:, 0] < ratio * d[:, 1])
        pairs = np.stack([held, nearest[held, 0]], axis=1)
        found.append(pairs[:, ::-1] if flip else pairs)
    codes = np.unique(np.concatenate(found).astype(np.int64) @ np.array([len(b), 1]))  # (a, b) sorted, each once
    return np.stack([codes // len(b), codes % len(b)], axis=1)


def _inside(points: np.ndarray, m: np.ndarray, shape: tuple[int, ...]) -> int:
    """How many of `points` (n, 2) the affine `m` (2, 3) maps inside an image of `shape` (h, w)."""
    if not len(points):
        return 0
    x, y = (points @ m[:, :2].T + m[:, 2]).T
    h, w = shape
    return int(((x >= 0) & (x < w) & (y >= 0) & (y < h)).sum())


def overlap_keypoints(a: Features, b: Features, transform: np.ndarray) -> int:
    """The fewer keypoints of the two images within the part of the scene both show: a's mapped inside b by
    `transform` (a to b), b's mapped inside a by its inverse. A crop's original has keypoints outside the crop that no
    transform could match; they do not count against it."""
    inverse = cv2.invertAffineTransform(transform)
    return min(_inside(a.points, transform, b.image.shape), _inside(b.points, inverse, a.image.shape))


def agreement(a: Features, b: Features, policy: DedupPolicy, mirrored: bool = False) -> Geometry:
    """The geometry of the best affine transform from `a`'s keypoints to `b`'s (RANSAC over the ratio-test matches of
    both ways: `_matches`), with the dense agreement of their pixels when enough keypoints (`needed`) agree under a
    plausible one; all zero when fewer match than are needed (no transform could have more inliers). Inliers count
    distinct keypoints of each image (the fewer of the two), their share is of the keypoints both images show
    (`overlap_keypoints`)."""
    fewer = min(len(a), len(b))
    least = max(3, needed(policy, fewer))
    g = _keypoint_agreement(a, b, mirrored, least, fewer, policy) if fewer >= least else None
    g = g or Geometry(mirrored=mirrored, keypoints=fewer)
    if g.keypoints_agree(policy):
        return replace(g, dense=dense_agreement(a, b, g.transform, policy.min_overlap))
    if fewer >= policy.soft_keypoints:
        return g
    frame = (b.image.shape[1] / a.image.shape[1], 0.0, 0.0, 0.0, b.image.shape[0] / a.image.shape[0], 0.0)
    tries = [frame, *([g.transform] if g.transform and g.plausible(policy) else [])]
    dense, transform = max((dense_agreement(a, b, t, policy.min_overlap), t) for t in tries)
    return replace(g, dense=dense, transform=transform)


def _keypoint_agreement(
    a: Features, b: Features, mirrored: bool, least: int, fewer: int, policy: DedupPolicy
) -> Geometry | None:
    """`agreement`'s keypoint part: the best transform and its inliers, without the dense check; None when fewer than
    `least` keypoints match (`fewer`: the fewer keypoints of the two images)."""
    pairs = _matches(a, b, policy.ratio)
    if len(pairs) < least:
        return None
    src, dst = a.points[pairs[:, 0]], b.points[pairs[:, 1]]
    transform, inliers = cv2.estimateAffine2D(
        src, dst, method=cv2.RANSAC, ransacReprojThreshold=policy.reprojection, maxIters=_ITERATIONS, confidence=0.995
    )
    if transform is None or inliers is None:
        return None
    held = pairs[inliers.ravel() > 0]
    n = min(len(np.unique(held[:, 0])), len(np.unique(held[:, 1])))  # one keypoint matched twice counts once
    (p, q), (r, t) = transform[:, 0], transform[:, 1]  # the images of the x and y axes
    sx, sy, det = math.hypot(p, q), math.hypot(r, t), p * t - q * r
    if abs(det) < 1e-9:
        return None
    scale = math.copysign(math.sqrt(abs(det)), det)
    aspect, shear = sx / max(sy, 1e-9), (p * r + q * t) / max(sx * sy, 1e-9)
    rotation, flat = math.degrees(math.atan2(q, p)), tuple(transform.ravel().tolist())
    share = n / max(1, overlap_keypoints(a, b, transform), n)
    return Geometry(n, share, scale, rotation, mirrored, flat, 0.0, aspect, shear, fewer)


class FeatureCache:
    """Each image's keypoints, as is and mirrored, found the first time a pair asks for them: `grey(i)` loads image
    i's grey picture (None when it cannot be read). OpenCV and Pillow release the GIL: batches run on threads."""

    def __init__(self, grey, threads: int = _THREADS) -> None:
        self._grey, self.threads = grey, threads
        self._known: dict[tuple[int, bool], Features | None] = {}

    def get(self, i: int, mirror: bool = False) -> Features | None:
        """Image i's keypoints (mirrored if asked), or None when its picture cannot be read."""
        key = (i, mirror)
        if key not in self._known:
            im = self._grey(i)
            self._known[key] = None if im is None else features(im, mirror)
        return self._known[key]

    def _map(self, fn, items: list) -> list:
        if self.threads <= 1 or len(items) < 2:
            return [fn(x) for x in items]
        with ThreadPoolExecutor(self.threads) as pool:
            return list(pool.map(fn, items, chunksize=max(1, len(items) // (4 * self.threads))))

    def _find(self, keys: set[tuple[int, bool]]) -> None:
        """Find the keypoints not known yet of these (image, mirrored), in parallel."""
        todo = sorted(k for k in keys if k not in self._known)
        for key, found in zip(todo, self._map(lambda k: self.get(*k), todo), strict=True):
            self._known[key] = found

    def verify_many(self, pairs: list[tuple[int, int, bool]], policy: DedupPolicy) -> list[Geometry | None]:
        """`verify` of each (a, b, mirror_first): every pair the way its hint says first, then the other way those
        that did not agree, each round's keypoints and matches in parallel."""
        out: list[Geometry | None] = [Geometry() for _ in pairs]
        todo = list(range(len(pairs)))
        for second in (False, True):
            ways = {k: pairs[k][2] != second for k in todo}  # k -> a mirrored in this round
            self._find({(pairs[k][0], ways[k]) for k in todo} | {(pairs[k][1], False) for k in todo})

            def one(k: int, ways: dict[int, bool] = ways) -> Geometry | None:
                fa, fb = self._known[(pairs[k][0], ways[k])], self._known[(pairs[k][1], False)]
                return None if fa is None or fb is None else agreement(fa, fb, policy, ways[k])

            found = self._map(one, todo)
            left = []
            for k, g in zip(todo, found, strict=True):
                prev = out[k]
                if g is None:
                    out[k] = None
                elif prev is not None and (g.same(policy) or g.inliers > prev.inliers):
                    out[k] = g
                    if not g.same(policy):
                        left.append(k)
                elif prev is not None:
                    left.append(k)
            todo = left
        return out

    def verify(self, a: int, b: int, policy: DedupPolicy, mirror_first: bool = False) -> Geometry | None:
        """The agreement of images a and b: as they are, then with a mirrored (or that first), stopping at the first
        that is the same picture; the better of the two otherwise. None when a picture cannot be read."""
        return self.verify_many([(a, b, mirror_first)], policy)[0]
