"""Geometric verification of candidate pairs: ORB keypoints of the two staged copies matched under one similarity
transform found by RANSAC (mirrored too). The same picture, however re-saved, resized, brightened, cropped or
mirrored, shares many keypoints that one plausible transform maps onto each other; distinct photos of one composition,
or one scene seen from two viewpoints, share few."""

from __future__ import annotations

import math
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
_ORB = dict(scaleFactor=1.2, nlevels=5, fastThreshold=5, edgeThreshold=15, patchSize=15)  # soft photos have corners


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


def agreement(a: Features, b: Features, mirrored: bool = False) -> Geometry:
    """The geometry of the best similarity transform from `a`'s keypoints to `b`'s (RANSAC over ratio-test matches);
    all zero when too few keypoints match."""
    if min(len(a), len(b)) < 3:
        return Geometry(mirrored=mirrored)
    pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(a.descriptors, b.descriptors, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < RATIO * p[1].distance]
    if len(good) < 3:
        return Geometry(mirrored=mirrored)
    src = a.points[[m.queryIdx for m in good]]
    dst = b.points[[m.trainIdx for m in good]]
    transform, inliers = cv2.estimateAffinePartial2D(
        src, dst, method=cv2.RANSAC, ransacReprojThreshold=REPROJECTION, maxIters=2000, confidence=0.995
    )
    if transform is None or inliers is None:
        return Geometry(mirrored=mirrored)
    n = int(inliers.sum())
    scale = float(math.hypot(transform[0, 0], transform[1, 0]))
    rotation = math.degrees(math.atan2(transform[1, 0], transform[0, 0]))
    return Geometry(n, n / min(len(a), len(b)), scale, rotation, mirrored)


class FeatureCache:
    """Each image's keypoints, as is and mirrored, found the first time a pair asks for them: `grey(i)` loads image
    i's grey picture (None when it cannot be read)."""

    def __init__(self, grey) -> None:
        self._grey = grey
        self._known: dict[tuple[int, bool], Features | None] = {}

    def get(self, i: int, mirror: bool = False) -> Features | None:
        """Image i's keypoints (mirrored if asked), or None when its picture cannot be read."""
        key = (i, mirror)
        if key not in self._known:
            im = self._grey(i)
            self._known[key] = None if im is None else features(im, mirror)
        return self._known[key]

    def verify(self, a: int, b: int, min_inliers: int, mirror_first: bool = False) -> Geometry | None:
        """The agreement of images a and b: as they are, then with b mirrored (or that first), stopping at the first
        that is the same picture; the better of the two otherwise. None when a picture cannot be read."""
        fa = self.get(a)
        if fa is None:
            return None
        best = Geometry()
        for mirror in (mirror_first, not mirror_first):
            fb = self.get(b, mirror)
            if fb is None:
                return None
            g = agreement(fa, fb, mirror)
            if g.same(min_inliers):
                return g
            best = max(best, g, key=lambda x: x.inliers)
        return best
