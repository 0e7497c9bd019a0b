"""Geometric verification of candidate pairs: ORB keypoints of the two staged copies matched under one similarity
transform found by RANSAC (mirrored too). The same picture, however re-saved, resized, brightened, cropped or
mirrored, shares many keypoints that one plausible transform maps onto each other; distinct photos of one composition,
or one scene seen from two viewpoints, share few."""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

FEATURE_SIDE = 256  # keypoints are found on the staged copy's grey image with its longer side at most this
N_FEATURES = 300  # ORB keypoints kept per image (the strongest)
RATIO = 0.8  # a match counts when its descriptor is this much nearer than the second nearest (Lowe's ratio test)
REPROJECTION = 3.0  # pixels, at FEATURE_SIDE: a match within this of where the transform maps it is an inlier
MIN_SHARE = 0.1  # inliers as a fraction of the fewer keypoints of the two images, at least
MAX_SCALE = 1.6  # a copy's transform scales by at most this (or its inverse): crops and letterboxes of up to ~35%
MAX_ROTATION = 20.0  # degrees
_ORB = dict(scaleFactor=1.2, nlevels=4, fastThreshold=5, edgeThreshold=15, patchSize=15)  # soft photos have corners
_ITERATIONS = 1000  # RANSAC's at most (2-point samples: a copy's inliers are found in far fewer)
_THREADS = max(1, min(8, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1))


@dataclass(frozen=True)
class Features:
    """The ORB keypoints of one image: positions (n, 2) float32 at FEATURE_SIDE, descriptors (n, 32) uint8."""

    points: np.ndarray
    descriptors: np.ndarray

    def __len__(self) -> int:
        return len(self.points)


@dataclass(frozen=True)
class Geometry:
    """How two images' keypoints agree: inliers of the best similarity transform, as a count and as a share of the
    fewer keypoints of the two, that transform's scale and rotation (degrees), and whether the second image was
    mirrored for it."""

    inliers: int = 0
    share: float = 0.0
    scale: float = 0.0
    rotation: float = 0.0
    mirrored: bool = False

    def same(self, min_inliers: int) -> bool:
        """Whether this is the agreement of one picture with a copy of itself."""
        plausible = 1 / MAX_SCALE <= self.scale <= MAX_SCALE and abs(self.rotation) <= MAX_ROTATION
        return plausible and self.inliers >= min_inliers and self.share >= MIN_SHARE


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
    keypoints, descriptors = _orb().detectAndCompute(np.asarray(grey), None)
    if descriptors is None:
        return Features(np.empty((0, 2), np.float32), np.empty((0, 32), np.uint8))
    return Features(np.array([k.pt for k in keypoints], dtype=np.float32).reshape(-1, 2), descriptors)


def load_grey(path: str | Path) -> Image.Image:
    """A staged copy as a grey image, decoded at reduced scale where that still covers FEATURE_SIDE."""
    with Image.open(path) as im:
        im.draft("L", (FEATURE_SIDE, FEATURE_SIDE))
        return im.convert("L")


def agreement(a: Features, b: Features, mirrored: bool = False, least: int = 3) -> Geometry:
    """The geometry of the best similarity transform from `a`'s keypoints to `b`'s (RANSAC over ratio-test matches);
    all zero when fewer than `least` keypoints match (no transform could have more inliers)."""
    if min(len(a), len(b)) < max(3, least):
        return Geometry(mirrored=mirrored)
    pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(a.descriptors, b.descriptors, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < RATIO * p[1].distance]
    if len(good) < max(3, least):
        return Geometry(mirrored=mirrored)
    src = a.points[[m.queryIdx for m in good]]
    dst = b.points[[m.trainIdx for m in good]]
    transform, inliers = cv2.estimateAffinePartial2D(
        src, dst, method=cv2.RANSAC, ransacReprojThreshold=REPROJECTION, maxIters=_ITERATIONS, confidence=0.995
    )
    if transform is None or inliers is None:
        return Geometry(mirrored=mirrored)
    n = int(inliers.sum())
    scale = float(math.hypot(transform[0, 0], transform[1, 0]))
    rotation = math.degrees(math.atan2(transform[1, 0], transform[0, 0]))
    return Geometry(n, n / min(len(a), len(b)), scale, rotation, mirrored)


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
        if self.threads <= 1 or len(items) < 8:
            return [fn(x) for x in items]
        with ThreadPoolExecutor(self.threads) as pool:
            return list(pool.map(fn, items, chunksize=max(1, len(items) // (4 * self.threads))))

    def _find(self, keys: set[tuple[int, bool]]) -> None:
        """Find the keypoints not known yet of these (image, mirrored), in parallel."""
        todo = sorted(k for k in keys if k not in self._known)
        for key, found in zip(todo, self._map(lambda k: self.get(*k), todo), strict=True):
            self._known[key] = found

    def verify_many(self, pairs: list[tuple[int, int, bool]], min_inliers: int) -> list[Geometry | None]:
        """`verify` of each (a, b, mirror_first): every pair the way its hint says first, then the other way those
        that did not agree, each round's keypoints and matches in parallel."""
        out: list[Geometry | None] = [Geometry() for _ in pairs]
        todo = list(range(len(pairs)))
        for second in (False, True):
            ways = {k: pairs[k][2] != second for k in todo}  # k -> b mirrored in this round
            self._find({(pairs[k][0], False) for k in todo} | {(pairs[k][1], ways[k]) for k in todo})

            def one(k: int, ways: dict[int, bool] = ways) -> Geometry | None:
                fa, fb = self._known[(pairs[k][0], False)], self._known[(pairs[k][1], ways[k])]
                return None if fa is None or fb is None else agreement(fa, fb, ways[k], least=min_inliers)

            found = self._map(one, todo)
            left = []
            for k, g in zip(todo, found, strict=True):
                prev = out[k]
                if g is None:
                    out[k] = None
                elif prev is not None and (g.same(min_inliers) or g.inliers > prev.inliers):
                    out[k] = g
                    if not g.same(min_inliers):
                        left.append(k)
                elif prev is not None:
                    left.append(k)
            todo = left
        return out

    def verify(self, a: int, b: int, min_inliers: int, mirror_first: bool = False) -> Geometry | None:
        """The agreement of images a and b: as they are, then with b mirrored (or that first), stopping at the first
        that is the same picture; the better of the two otherwise. None when a picture cannot be read."""
        return self.verify_many([(a, b, mirror_first)], min_inliers)[0]
