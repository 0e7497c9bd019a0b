"""Tests for model.metrics: the domain classifier and the FID/KID gate (never a download)."""

from __future__ import annotations

import pytest
import torch

from model.data import list_images
from model.metrics import domain_scores, fid_kid, load_stack, predict, structureless, train_domain_classifier
from tests.support.model_data import make_dataset


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    root = make_dataset(tmp_path_factory.mktemp("ds"), n_train=16, n_test=6, size=(40, 40))
    stack = {f"{s}{d}": load_stack(list_images(root / s / d)[0]) for s in ("train", "test") for d in ("A", "B")}
    return train_domain_classifier(stack["trainA"], stack["trainB"], steps=200), stack


def test_classifier_tells_the_domains_apart_and_rejects_structureless_images(fitted):
    clf, x = fitted
    assert (predict(clf, x["testA"]) == 0).all() and (predict(clf, x["testB"]) == 1).all()
    g = torch.Generator().manual_seed(0)
    junk = torch.cat([structureless(x["testB"], g) for _ in range(4)])
    assert (predict(clf, junk) == 1).float().mean() < 0.2  # pink noise is not "cherry blossoms"
    assert (predict(clf, torch.zeros(4, 3, 32, 32)) != 1).all()


def test_scores_for_perfect_and_identity_translations(fitted):
    clf, x = fitted
    perfect = domain_scores(clf, x["testA"], x["testB"], fake_B=x["testB"], fake_A=x["testA"])
    assert perfect["A2B_as_B"] == perfect["B2A_as_A"] == perfect["classifier_accuracy"] == 1.0
    identity = domain_scores(clf, x["testA"], x["testB"], fake_B=x["testA"], fake_A=x["testB"])
    assert identity["A2B_as_B"] == identity["real_A_as_B"] == 0.0 and identity["domain_score"] == 0.0


@pytest.mark.parametrize("structure", range(4))
def test_structureless_keeps_shape_and_range(structure):
    g = torch.Generator().manual_seed(structure)
    x = torch.rand(3, 3, 32, 32) * 2 - 1
    y = structureless(x, g)
    assert y.shape == x.shape and y.min() >= -1 and y.max() <= 1


def test_fid_kid_is_skipped_with_a_reason_and_never_downloads(tmp_path, monkeypatch):
    monkeypatch.delenv("SAKURA_INCEPTION_WEIGHTS", raising=False)
    x = torch.zeros(2, 3, 32, 32)
    assert "no InceptionV3 weights given" in fid_kid(x, x, x, x, None, torch.device("cpu"))["skipped"]
    missing = tmp_path / "pt_inception.pth"
    assert "does not exist" in fid_kid(x, x, x, x, str(missing), torch.device("cpu"))["skipped"]
    monkeypatch.setenv("SAKURA_INCEPTION_WEIGHTS", str(missing))
    assert str(missing) in fid_kid(x, x, x, x, None, torch.device("cpu"))["skipped"]


def _random_inception_weights(path):
    """An InceptionV3 state_dict in torch-fidelity's format with random weights (built offline, no download)."""
    from unittest import mock

    import torch_fidelity.feature_extractor_inceptionv3 as fe

    with (
        mock.patch.object(fe, "load_state_dict_from_url", lambda *a, **k: {}),
        mock.patch.object(fe.FeatureExtractorInceptionV3, "load_state_dict", lambda self, sd, *a, **k: None),
    ):
        net = fe.FeatureExtractorInceptionV3("inception-v3-compat", ["2048"])
    torch.save(net.state_dict(), path)
    return path


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Metric `Kernel Inception Distance` will save")
def test_fid_kid_with_a_local_weights_file(tmp_path):
    pytest.importorskip("torchmetrics")
    pytest.importorskip("torch_fidelity")
    weights = _random_inception_weights(tmp_path / "pt_inception.pth")
    g = torch.Generator().manual_seed(0)
    real_A, real_B = torch.rand(2, 3, 32, 32, generator=g) * 2 - 1, torch.rand(2, 3, 32, 32, generator=g) * 2 - 1
    out = fid_kid(real_A, real_B, fake_A=real_A, fake_B=real_A * 0.5, weights=str(weights), device=torch.device("cpu"))
    assert "skipped" not in out, out
    for k in ("FID_A2B", "FID_B2A", "KID_A2B", "KID_B2A"):
        assert torch.isfinite(torch.tensor(out[k])), k
    assert abs(out["FID_B2A"]) < 1e-3  # identical sets (random weights make other values meaningless)
    (tmp_path / "bad.pth").write_bytes(b"not weights")
    assert (
        "could not use"
        in fid_kid(real_A, real_B, real_A, real_B, str(tmp_path / "bad.pth"), torch.device("cpu"))["skipped"]
    )
