"""Tests for model.translation: full-resolution translation of awkward images, tiling, batching, both directions."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from core.config import ConfigError
from core.images import load_rgb
from model import TranslateConfig, translate
from model.checkpoint import export_generator
from model.networks import NetConfig, ResnetGenerator, init_weights
from model.translation import Translator, blend_window, pad_to_multiple, tile_starts
from tests.support.model_data import make_dataset
from tests.support.model_images import gradient, write_awkward
from tests.support.model_public import SmallImplGenerator

NET = NetConfig(ngf=8, n_blocks=2)
CPU = torch.device("cpu")


def _export(folder, direction="A2B"):
    torch.manual_seed(0 if direction == "A2B" else 1)
    net = init_weights(ResnetGenerator(NET))
    return export_generator(folder / f"G_{direction}.pt", net.state_dict(), NET, direction, {})


@pytest.mark.parametrize(("h", "w", "ph", "pw"), [(23, 37, 24, 40), (32, 32, 32, 32), (1, 2, 4, 4), (5, 3, 8, 4)])
def test_pad_to_multiple_of_4(h, w, ph, pw):
    x, size = pad_to_multiple(torch.randn(1, 3, h, w))
    assert x.shape[-2:] == (ph, pw) and size == (h, w)


@pytest.mark.parametrize(
    ("length", "tile", "overlap", "starts"), [(100, 32, 8, [0, 24, 48, 68]), (32, 32, 8, [0]), (20, 32, 8, [0])]
)
def test_tile_starts_cover_with_overlap(length, tile, overlap, starts):
    assert tile_starts(length, tile, overlap) == starts


def test_blend_window_ramps_at_the_edges():
    win = blend_window(16, 16, 4)[0, 0]
    assert win[8, 8] == 1 and 0 < win[0, 0] < win[0, 3] < win[8, 8]


@pytest.mark.parametrize(("h", "w"), [(100, 70), (150, 33), (64, 200)])
def test_tiles_blend_back_to_the_exact_image(h, w):
    x = torch.rand(1, 3, h, w) * 2 - 1
    tr = Translator(nn.Identity(), CPU, "fp32", tile=32, overlap=8, batch_size=3)
    assert torch.allclose(tr.run_tiled(x), x, atol=1e-6)


def test_batched_equals_one_by_one():
    torch.manual_seed(0)
    G = init_weights(ResnetGenerator(NET))
    ims = [gradient(36, 28), gradient(36, 28).transpose(Image.FLIP_LEFT_RIGHT), gradient(20, 44), gradient(36, 28)]
    one = Translator(G, CPU, "fp32", 512, 64, batch_size=1).translate_images(ims)
    many = Translator(G, CPU, "fp32", 512, 64, batch_size=4).translate_images(ims)
    for a, b in zip(one, many, strict=True):  # same up to float rounding of differently batched convolutions
        assert a.size == b.size and (np.asarray(a).astype(int) - np.asarray(b).astype(int)).__abs__().max() <= 1


def test_awkward_and_large_images_come_back_at_full_size(tmp_path):
    files = write_awkward(tmp_path / "in")
    gradient(150, 90).save(tmp_path / "in" / "large.png")  # larger than the tile below: tiled
    (tmp_path / "in" / "broken.png").write_bytes(b"\x89PNG broken")
    weights = _export(tmp_path)
    result = translate(
        TranslateConfig(
            weights=str(weights),
            inputs=(str(tmp_path / "in"),),
            out_dir=str(tmp_path / "out"),
            tile=64,
            overlap=16,
            batch_size=2,
        )
    )
    assert [f.path.endswith("broken.png") for f in result.failed] == [True]
    written = {p.stem: p for p in result.written["A2B"]}
    assert set(written) == {*files, "large"}
    for name, src in [*files.items(), ("large", tmp_path / "in" / "large.png")]:
        out = Image.open(written[name])
        assert out.mode == "RGB" and out.size == load_rgb(src).size, name  # EXIF applied, padding cropped back
    assert Image.open(written["exif"]).size == (20, 48)
    assert result.grids and result.images_per_s > 0


def test_test_set_both_directions_with_grids(tmp_path):
    root = make_dataset(tmp_path / "ds", n_train=2, n_test=3, size=(40, 36))
    gens = root / "runs" / "r1" / "generators"
    _export(gens, "A2B"), _export(gens, "B2A")
    result = translate(TranslateConfig(dataset_dir=str(root)))
    out = root / "runs" / "r1" / "translations"
    assert result.out_dir == out
    assert sorted(p.name for p in (out / "A2B").iterdir()) == ["A_000.png", "A_001.png", "A_002.png"]
    assert sorted(p.name for p in (out / "B2A").iterdir()) == ["B_000.png", "B_001.png", "B_002.png"]
    assert sorted(p.name for p in (out / "grids").iterdir()) == ["A2B_001.png", "B2A_001.png"]
    assert Image.open(out / "A2B" / "A_000.png").size == (40, 36)
    assert result.generators["B2A"]["source"] == "sakura generator"


def test_public_generator_file_translates(tmp_path):
    torch.manual_seed(0)
    torch.save(SmallImplGenerator(n_residual_blocks=3, ngf=8).state_dict(), tmp_path / "netG_A2B.pth")
    gradient(37, 23).save(tmp_path / "street.jpg")
    result = translate(
        TranslateConfig(
            weights=str(tmp_path / "netG_A2B.pth"),
            inputs=(str(tmp_path / "street.jpg"),),
            out_dir=str(tmp_path / "out"),
        )
    )
    assert Image.open(result.written["A2B"][0]).size == (37, 23)
    assert result.generators["A2B"]["source"] == "public state_dict"


def test_missing_input_and_missing_run_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        translate(TranslateConfig(weights=str(_export(tmp_path)), inputs=(str(tmp_path / "nope.jpg"),)))
    (tmp_path / "ds").mkdir()
    with pytest.raises(ConfigError, match="no trained run"):
        translate(TranslateConfig(dataset_dir=str(tmp_path / "ds")))


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("precision", ["fp32", "fp16", "bf16"])
def test_translates_on_cuda(tmp_path, precision):
    gradient(150, 90).save(tmp_path / "large.png")
    result = translate(
        TranslateConfig(
            weights=str(_export(tmp_path)),
            inputs=(str(tmp_path / "large.png"),),
            out_dir=str(tmp_path / "out"),
            device="cuda",
            precision=precision,
            tile=64,
        )
    )
    assert Image.open(result.written["A2B"][0]).size == (150, 90)
