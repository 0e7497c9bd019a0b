"""Tests for curation.validate: the rules that turn measurements into keep or a rejection reason."""

from __future__ import annotations

import pytest

from curation.config import CurationConfig
from curation.validate import REASON_HELP, REJECT_REASONS, judge

GOOD = {"status": "ok", "width": 640, "height": 480, "frames": 1, "grey_std": 40.0, "chroma": 90.0}


@pytest.mark.parametrize(
    "change, reason",
    [
        ({}, None),
        ({"frames": 4}, "animated"),
        ({"width": 300, "height": 255}, "too_small"),
        ({"width": 256, "height": 256}, None),
        ({"width": 1300, "height": 500}, "aspect_ratio"),
        ({"width": 500, "height": 1300}, "aspect_ratio"),
        ({"width": 1250, "height": 500}, None),
        ({"grey_std": 1.5}, "near_uniform"),
        ({"chroma": 3.0}, "grayscale"),
        ({"chroma": 9.0}, None),
        ({"status": "failed", "reason": "truncated", "detail": "x"}, "truncated"),
    ],
)
def test_judge_default_rules(change, reason):
    got, detail = judge({**GOOD, **change}, CurationConfig())
    assert got == reason
    assert (detail is None) == (reason is None)


@pytest.mark.parametrize(
    "cfg, change",
    [
        (CurationConfig(animated="first_frame"), {"frames": 4}),
        (CurationConfig(reject_grayscale=False), {"chroma": 0.0}),
        (CurationConfig(min_side=128), {"width": 200, "height": 150}),
        (CurationConfig(max_aspect=4.0), {"width": 1800, "height": 500}),
        (CurationConfig(min_std=0.5), {"grey_std": 1.0}),
    ],
)
def test_rules_follow_config(cfg, change):
    assert judge({**GOOD, **change}, cfg) == (None, None)


def test_every_reason_is_documented():
    assert set(REJECT_REASONS) <= set(REASON_HELP)
