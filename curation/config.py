"""CurationConfig: every setting of the curation stage, validated on construction (also the CLI and flow form)."""

from __future__ import annotations

import hashlib
import json
import os
from typing import Annotated, Any, Literal

from PIL import Image
from pydantic import Field

from core.config import Domain
from core.settings import Bool, Cli, DatasetSettings, Float, Int, Settings

OutputFormat = Literal["jpg", "png"]
Resample = Literal["bicubic", "lanczos"]
Animated = Literal["reject", "first_frame"]
CrossDomain = Literal["drop", Domain]
# Pillow refuses to open anything above twice its MAX_IMAGE_PIXELS; a larger limit could never take effect.
PIL_HARD_LIMIT = 2 * (Image.MAX_IMAGE_PIXELS or 89_478_485)
# Longer / shorter side above this is rejected while decoding whatever max_aspect says: its copy resized to load_size
# would be huge (a 1x300 strip becomes 286x85,800).
HARD_MAX_ASPECT = 50.0
# The duplicate rule's code version: bumped when what decides a pair changes, so cached verdicts are decided again.
POLICY_CODE = "p1"


def default_workers() -> int:
    """Worker processes for decoding: the CPUs this process may use, at most 8."""
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        n = os.cpu_count() or 1
    return max(1, min(n, 8))


def _between(lo: int, hi: int) -> Any:
    return Field(ge=lo, le=hi)


class DedupPolicy(Settings):
    """Every threshold of the duplicate rule (`curation.policy.find_duplicates`), with what it means. Part of
    CurationConfig: its flags are curate's, its fields a section of the flow form; `version` keys cached verdicts."""

    # candidates: which pairs are looked at
    threshold: Annotated[Int, _between(0, 32)] = Field(
        12, description="candidate pairs: hash distance in bits (whole frame, mirrored, or a window of 9 tenths)"
    )
    candidates: Annotated[Int, _between(1, 64)] = Field(
        32, description="candidate pairs: each image's nearest this many within threshold are verified"
    )
    # gate: the cheap score that sends a pair on to keypoints
    min_score: Annotated[Float, Field(ge=0, le=1)] = Field(
        0.6, description="gate: a candidate pair scoring (0-1) at least this goes on to keypoints"
    )
    # keypoints: one transform a copy makes maps enough keypoints onto each other
    min_inliers: Annotated[Int, _between(4, 1000)] = Field(
        30, description="keypoints: this many agree under one transform (fewer for soft pictures: few_share)"
    )
    ratio: Annotated[Float, Field(gt=0, lt=1), Cli(hidden=True)] = Field(
        0.8, description="keypoints: a match counts when this much nearer than the second nearest (Lowe's ratio)"
    )
    reprojection: Annotated[Float, Field(gt=0, le=20), Cli(hidden=True)] = Field(
        3.0, description="keypoints: pixels (at 256 px) within which a match is an inlier of the transform"
    )
    min_share: Annotated[Float, Field(ge=0, le=1), Cli(hidden=True)] = Field(
        0.2, description="keypoints: inliers as a share of the keypoints both images show, at least this"
    )
    strong_share: Annotated[Float, Field(ge=0, le=1), Cli(hidden=True)] = Field(
        0.4, description="keypoints: a share this high is strong evidence (else the pixels must be strong)"
    )
    soft_keypoints: Annotated[Int, _between(0, 1000), Cli(hidden=True)] = Field(
        60, description="keypoints: a picture with fewer is soft: its pairs may be decided by the pixels alone"
    )
    few_share: Annotated[Float, Field(gt=0, le=1), Cli(hidden=True)] = Field(
        1 / 3, description="keypoints: of a soft picture's keypoints, this share must agree (not min_inliers)"
    )
    few_floor: Annotated[Int, _between(3, 1000), Cli(hidden=True)] = Field(
        12, description="keypoints: and never fewer than this many"
    )
    max_scale: Annotated[Float, Field(ge=1), Cli(hidden=True)] = Field(
        1.6, description="transform: scales by at most this or its inverse (crops and letterboxes up to ~35%)"
    )
    max_stretch: Annotated[Float, Field(ge=1), Cli(hidden=True)] = Field(
        1.6, description="transform: stretches one axis against the other by at most this"
    )
    max_shear: Annotated[Float, Field(ge=0, le=1), Cli(hidden=True)] = Field(
        0.1, description="transform: cosine of the angle between the transformed axes, at most (no copy shears)"
    )
    max_rotation: Annotated[Float, Field(ge=0, le=180), Cli(hidden=True)] = Field(
        20.0, description="transform: rotates by at most this many degrees"
    )
    # pixels: once aligned by the transform, the fine detail agrees
    min_dense: Annotated[Float, Field(ge=-1, le=1), Cli(hidden=True)] = Field(
        0.55, description="pixels: correlation of the fine detail, one image warped onto the other, at least this"
    )
    strong_dense: Annotated[Float, Field(ge=-1, le=1), Cli(hidden=True)] = Field(
        0.7, description="pixels: a correlation this high is strong evidence (and decides a soft picture alone)"
    )
    min_overlap: Annotated[Float, Field(gt=0, le=1), Cli(hidden=True)] = Field(
        0.25, description="pixels: the warped image covers at least this share of the other to be compared"
    )

    @property
    def version(self) -> str:
        """What a cached verdict was decided under: these settings and the rule's code version (POLICY_CODE)."""
        text = json.dumps(self.to_dict(), sort_keys=True) + POLICY_CODE
        return hashlib.sha256(text.encode()).hexdigest()[:16]


class CurationConfig(DatasetSettings):
    """Curation settings: validation rules, near-duplicate threshold, output size and format, train/test split."""

    # validation
    min_side: Annotated[Int, _between(1, 100_000)] = Field(256, description="reject a shorter side below this")
    max_aspect: Annotated[Float, Field(ge=1.0, le=HARD_MAX_ASPECT)] = Field(
        2.5, description="reject long side / short side above this"
    )
    max_pixels: Annotated[Int, _between(1, PIL_HARD_LIMIT)] = Field(
        64_000_000, description="decompression-bomb limit: width x height above it is rejected from the header"
    )
    min_std: Annotated[Float, Field(ge=0, lt=128)] = Field(4.0, description="near-uniform below this grey std")
    reject_grayscale: Bool = Field(True, description="reject images without colour")
    grayscale_max_chroma: Annotated[Float, Field(ge=0, lt=255), Cli(hidden=True)] = 8.0
    animated: Animated = Field("reject", description="animated images: reject, or keep the first frame")
    dedup: DedupPolicy = Field(DedupPolicy(), description="which files are the same picture, and which one is kept")
    cross_domain: CrossDomain = Field(
        "drop", description="an image in both A and B: drop it from both, or keep it in A or B"
    )
    # output
    load_size: Annotated[Int, _between(16, 4096)] = Field(286, description="output shorter side")
    resample: Resample = Field("bicubic", description="resize filter (bicubic as CycleGAN's own loader)")
    output_format: Annotated[OutputFormat, Cli(flags=("--format",))] = Field("jpg", description="output format")
    jpeg_quality: Annotated[Int, _between(1, 100), Cli(flags=("--quality",))] = Field(95, description="JPEG quality")
    official_layout: Bool = Field(False, description="also write trainA/trainB/testA/testB")
    # split
    test_fraction: Annotated[Float, Field(ge=0, lt=1)] = Field(0.1, description="share of groups in the test split")
    seed: Annotated[Int, _between(0, 2**63 - 1)] = Field(0, description="split seed")
    # execution and review
    workers: Annotated[Int, _between(0, 256)] = Field(0, description="decoding processes (0: one per CPU, max 8)")
    decode_timeout: Annotated[Float, Field(gt=0, le=3600)] = Field(
        120.0, description="seconds one file may take to decode; a file that takes longer is stopped and reported"
    )
    sheet_thumb: Annotated[Int, _between(32, 512), Cli(hidden=True)] = 128
    sheet_max_images: Annotated[Int, _between(1, 100_000), Cli(hidden=True)] = 300

    @property
    def n_workers(self) -> int:
        """Decoding processes to use (`workers` = 0 means one per available CPU, at most 8)."""
        return self.workers or default_workers()

    @property
    def verdict_key(self) -> str:
        """What a cached verdict of a pair depends on besides its two files: the duplicate rule, the staged copies."""
        return f"{self.dedup.version}:{self.decode_key}"

    @property
    def decode_key(self) -> str:
        """The settings that change what decoding produces; cached analyses made under others are redone."""
        return f"v8:{self.load_size}:{self.resample}:{self.output_format}:{self.jpeg_quality}:{self.max_pixels}"
