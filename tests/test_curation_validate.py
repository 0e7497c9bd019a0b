"""Tests for curation.validate: the rules that turn measurements into keep or a rejection reason."""

from __future__ import annotations

from dataclasses import replace

import pytest

from curation.config import CurationConfig
from curation.records import Analysis, Reason
from curation.validate import judge

GOOD = Analysis(domain="A", relpath="A/x.jpg", ok=True, width=640, height=480, frames=1, grey_std=40.0, chroma=90.0)


@pytest.mark.parametrize(
    "change, reason",
    [
        ({}, None),
        ({"frames": 4}, Reason.ANIMATED),
        ({"width": 300, "height": 255}, Reason.TOO_SMALL),
        ({"width": 256, "height": 256}, None),
        ({"width": 1300, "height": 500}, Reason.ASPECT_RATIO),
        ({"width": 500, "height": 1300}, Reason.ASPECT_RATIO),
        ({"width": 1250, "height": 500}, None),
        ({"grey_std": 1.5}, Reason.NEAR_UNIFORM),
        ({"chroma": 3.0}, Reason.GRAYSCALE),
        ({"chroma": 9.0}, None),
        ({"ok": False, "reason": Reason.TRUNCATED, "detail": "x"}, Reason.TRUNCATED),
    ],
)
def test_judge_default_rules(change, reason):
    got, detail = judge(replace(GOOD, **change), CurationConfig())
    assert got is reason
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
    assert judge(replace(GOOD, **change), cfg) == (None, None)
