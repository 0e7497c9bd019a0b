"""Tests for the paired-truth quality benchmark: its scores (benchmarks/paired/score.py) and the seed's recipe."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from paired.score import colour_distance, delta_e, lab, score_scene  # noqa: E402
from seed_recipe import SEED_NET, SeedTrainer, train_seed  # noqa: E402

from model.checkpoint import load_generator  # noqa: E402


def _scene(seed: int = 0, side: int = 32) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    inp = rng.integers(0, 256, (side, side, 3), dtype=np.uint8)
    canopy = np.zeros((side, side), bool)
    canopy[: side // 2] = True
    truth = inp.copy()
    truth[canopy] = (240, 180, 200)
    return inp, truth, canopy


def test_lab_of_known_colours():
    white, black = lab(np.full((1, 1, 3), 255, np.uint8)), lab(np.zeros((1, 1, 3), np.uint8))
    assert np.allclose(white, [100, 0, 0], atol=0.05) and np.allclose(black, 0, atol=1e-6)
    red = lab(np.array([[[255, 0, 0]]], np.uint8))[0, 0]  # published sRGB red: L 53.24, a 80.09, b 67.20
    assert np.allclose(red, [53.24, 80.09, 67.20], atol=0.05)


def test_the_input_unchanged_and_the_truth_score_as_they_must():
    inp, truth, canopy = _scene()
    same = score_scene(inp, inp, truth, canopy)
    assert same["outside"] == 0 and same["nearer"] == 0
    assert same["canopy_error"] == pytest.approx(delta_e(lab(inp), lab(truth))[canopy].mean())
    perfect = score_scene(inp, truth, truth, canopy)
    assert perfect["canopy_error"] == 0 and perfect["nearer"] == 1 and perfect["outside"] == perfect["floor"] == 0


def test_repainting_outside_the_canopy_is_counted_there_only():
    inp, truth, canopy = _scene()
    out = truth.copy()
    out[~canopy] = np.clip(out[~canopy].astype(int) + 20, 0, 255)
    s = score_scene(inp, out, truth, canopy)
    assert s["canopy_error"] == 0 and s["outside"] > 5


def test_colour_distance_is_zero_for_the_same_colours_anywhere():
    inp, truth, canopy = _scene()
    shuffled = truth.copy()
    rows = np.random.default_rng(1).permutation(truth.shape[0] // 2)
    shuffled[: truth.shape[0] // 2] = truth[rows]  # the canopy's pixels moved, its colours the same
    assert colour_distance([shuffled], [truth], [canopy]) == pytest.approx(0, abs=1e-9)
    assert colour_distance([inp], [truth], [canopy]) > 10


@pytest.mark.slow
def test_seed_recipe_trains_and_exports_a_generator_the_project_loads(tmp_path):
    for d in ("A", "B"):
        (tmp_path / d).mkdir()
        for k in range(2):
            Image.fromarray(_scene(k, 80)[0 if d == "A" else 1]).save(tmp_path / d / f"{k}.jpg")
    files = [sorted((tmp_path / d).glob("*.jpg")) for d in ("A", "B")]
    before = SeedTrainer(0, 1, 1).G_AB.state_dict()["model.1.weight"].clone()
    path = train_seed(*files, 64, 2, 0, tmp_path / "G_AB.pt")
    G, info = load_generator(path, "A2B")
    assert info["net_config"] == SEED_NET.to_dict() | {"ndf": 64}
    assert not torch.equal(G.state_dict()["model.1.weight"], before)  # trained, not the initial weights


def _write_test_set(root: Path, scenes: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> None:
    """The test half of a benchmark folder as bench_quality.build leaves it (inputs as JPEG, truths and canopies)."""
    (root / "dataset/test/A").mkdir(parents=True)
    (root / "truth").mkdir()
    for k, (inp, truth, canopy) in enumerate(scenes):
        Image.fromarray(inp).save(root / f"dataset/test/A/{k:04d}.jpg", quality=100, subsampling=0)
        Image.fromarray(truth).save(root / f"truth/{k:04d}.png")
        Image.fromarray(canopy.astype(np.uint8) * 255).save(root / f"truth/{k:04d}_canopy.png")


def _flat_scene(green: tuple, blossom: tuple, side: int = 32) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    inp = np.full((side, side, 3), (90, 90, 90), np.uint8)
    canopy = np.zeros((side, side), bool)
    canopy[: side // 2] = True
    inp[canopy] = green
    truth = inp + 3  # outside the canopy: what the stored input's compression would leave (a nonzero floor)
    truth[canopy] = blossom
    return inp, truth, canopy


def test_the_one_colour_map_bound_is_exact_when_the_answer_follows_the_input_and_splits_a_variety_it_cannot_see(
    tmp_path,
):
    from bench_quality import BOUND, reference_rows

    follows = tmp_path / "follows"  # each green maps to its own blossom: one colour map is the answer
    _write_test_set(follows, [_flat_scene((40, 120, 40), (250, 230, 240)), _flat_scene((60, 160, 30), (230, 120, 170))])
    assert reference_rows(follows)[BOUND]["canopy_error"] < 1.5  # JPEG and the 8-level bins only

    hidden = tmp_path / "hidden"  # the same green, two varieties: the map can only take their middle
    _write_test_set(hidden, [_flat_scene((40, 120, 40), (250, 230, 240)), _flat_scene((40, 120, 40), (230, 120, 170))])
    apart = delta_e(lab(np.array([[[250, 230, 240]]], np.uint8)), lab(np.array([[[230, 120, 170]]], np.uint8))).item()
    rows = reference_rows(hidden)
    assert rows[BOUND]["canopy_error"] == pytest.approx(apart / 2, rel=0.15)
    assert rows["oracle: each canopy flat in its truth's mean colour"]["canopy_error"] < 1.5  # the oracle knows


@pytest.mark.slow
def test_the_paired_bound_trains_the_profile_generator_on_pairs_and_exports_it(tmp_path):
    from bench_quality import _train_paired

    for sub in ("dataset/train/A", "paired/B"):
        (tmp_path / sub).mkdir(parents=True)
    for k in range(3):
        inp, truth, _ = _flat_scene((40, 120 + 20 * k, 40), (250, 200, 220), side=80)
        Image.fromarray(inp).save(tmp_path / f"dataset/train/A/{k:04d}.jpg")
        Image.fromarray(truth).save(tmp_path / f"paired/B/{k:04d}.jpg")
    path, steps, spent = _train_paired(tmp_path, "paired", 0, 1.0, tmp_path)
    G, info = load_generator(path, "A2B")
    assert steps >= 1 and spent > 0 and info["net_config"]["output"] == "masked"
