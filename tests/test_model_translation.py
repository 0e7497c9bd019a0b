"""Tests for model.translation: full-resolution translation of awkward images, tiling, batching, both directions."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from core.config import ConfigError
from core.images import load_rgb
from model import TranslateConfig, translate
from model.checkpoint import export_generator
from model.data import to_tensor
from model.layout import RunDir
from model.networks import NetConfig, ResnetGenerator, init_weights
from model.translation import Translator, forward_cost, network_side, pad_for_network
from tests.support.model_data import make_dataset, street_image
from tests.support.model_images import FORMATS, MODES, encode, gradient, png_with_declared_size, write_awkward
from tests.support.model_public import SmallImplGenerator

NET = NetConfig(ngf=8, n_blocks=2)
CPU = torch.device("cpu")


def _export(folder, direction="A2B", net=NET):
    torch.manual_seed(0 if direction == "A2B" else 1)
    G = init_weights(ResnetGenerator(net))
    return export_generator(folder / f"G_{direction}.pt", G.state_dict(), net, direction, {})


@pytest.mark.parametrize(("h", "w", "ph", "pw"), [(23, 37, 24, 40), (32, 32, 32, 32), (1, 2, 8, 8), (5, 3, 8, 8),
                                                  (1, 300, 8, 300), (300, 2, 300, 8)])  # fmt: skip
def test_images_are_padded_to_what_the_network_needs(h, w, ph, pw):
    x, size = pad_for_network(torch.randn(1, 3, h, w))
    assert x.shape[-2:] == (ph, pw) and size == (h, w) and (network_side(h), network_side(w)) == (ph, pw)


@pytest.mark.parametrize(("w", "h"), [(300, 1), (1, 300), (2, 2), (7, 5)])
def test_tiny_and_thin_images_translate_at_their_size(w, h):
    G = init_weights(ResnetGenerator(NET))
    (out,) = Translator(G, CPU, "fp32").translate_images([gradient(w, h)])
    assert out.size == (w, h) and out.mode == "RGB"


@pytest.mark.parametrize("upsample", ["deconv", "resize"])
def test_tiled_translation_equals_the_whole_image(upsample):
    """Layer by layer in tiles, with instance-norm statistics of the whole image: the same picture as one pass."""
    torch.manual_seed(0)
    G = init_weights(ResnetGenerator(NetConfig(ngf=8, n_blocks=2, upsample=upsample)))
    x = torch.stack([to_tensor(street_image("A", (150, 90), random.Random(3)))])
    tr = Translator(G, CPU, "fp32", memory_bytes=2**20, tile=32)
    assert not tr.fits(1, 90, 150)
    whole, tiled = tr.run(x), tr.run_tiled(x)
    assert tr.tiled.tiles_run > 20
    assert (tiled - whole).abs().mean() < 0.01 and (tiled - whole).abs().max() < 1e-4


@pytest.mark.slow
def test_no_seam_on_a_4000x3000_photo():
    """A 12-megapixel image through a tiny generator in 512 px tiles: equal to the whole-image pass everywhere, so
    nothing changes at the tile borders."""
    torch.manual_seed(0)
    G = init_weights(ResnetGenerator(NetConfig(ngf=4, n_blocks=1)))
    yy, xx = torch.meshgrid(torch.linspace(-1, 1, 3000), torch.linspace(-1, 1, 4000), indexing="ij")
    x = (torch.stack([xx, yy, xx * yy]) * 0.8)[None]
    tr = Translator(G, CPU, "fp32", memory_bytes=64 * 2**20, tile=512)
    assert not tr.fits(1, 3000, 4000)
    tiled = tr.run_tiled(x)
    whole = tr.run(x)
    diff = (tiled - whole).abs()
    assert diff.max() < 1e-4, diff.max()
    for dim, n in ((2, 3000), (3, 4000)):  # the jump across every tile border is the whole image's jump
        border = torch.arange(512, n, 512)
        jump = lambda y: y.index_select(dim, border) - y.index_select(dim, border - 1)  # noqa: B023, E731
        assert (jump(tiled) - jump(whole)).abs().max() < 1e-4


def test_batched_equals_one_by_one():
    torch.manual_seed(0)
    G = init_weights(ResnetGenerator(NET))
    ims = [gradient(36, 28), gradient(36, 28).transpose(Image.FLIP_LEFT_RIGHT), gradient(20, 44), gradient(36, 28)]
    one = Translator(G, CPU, "fp32", batch_size=1).translate_images(ims)
    many = Translator(G, CPU, "fp32", batch_size=4).translate_images(ims)
    for a, b in zip(one, many, strict=True):  # same up to float rounding of differently batched convolutions
        assert a.size == b.size and (np.asarray(a).astype(int) - np.asarray(b).astype(int)).__abs__().max() <= 1


def test_awkward_and_large_images_come_back_at_full_size(tmp_path):
    files = write_awkward(tmp_path / "in")
    gradient(150, 90).save(tmp_path / "in" / "large.png")  # more than the memory below allows: tiled
    (tmp_path / "in" / "broken.png").write_bytes(b"\x89PNG broken")
    weights = _export(tmp_path)
    result = translate(
        TranslateConfig(
            weights=str(weights),
            inputs=(str(tmp_path / "in"),),
            out_dir=str(tmp_path / "out"),
            memory_mb=1,
            batch_size=2,
        )
    )
    assert [f.path.endswith("broken.png") for f in result.failed] == [True]
    assert result.failed[0].reason.startswith("cannot read: UnidentifiedImageError")
    written = {p.stem: p for p in result.written["A2B"]}
    assert set(written) == {*files, "large"}
    for name, src in [*files.items(), ("large", tmp_path / "in" / "large.png")]:
        out = Image.open(written[name])
        assert out.mode == "RGB" and out.size == load_rgb(src).size, name  # EXIF applied, padding cropped back
    assert Image.open(written["exif"]).size == (20, 48)
    assert result.grids and result.images_per_s > 0 and result.metrics["tiled_images"] >= 1
    assert result.metrics["images"] == len(written) and result.metrics["checkerboard_A2B"] > 0
    stored = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert stored["metrics"] == result.metrics and stored["failed"][0]["path"].endswith("broken.png")


def _odd_folder(folder):
    """The issue's folder: a 1x300 image, a truncated JPEG, a text file named .jpg and two good photos."""
    folder.mkdir(parents=True, exist_ok=True)
    gradient(300, 1).save(folder / "thin.png")
    good = io.BytesIO()
    street_image("A", (120, 90), random.Random(0)).save(good, "JPEG", quality=90)
    (folder / "truncated.jpg").write_bytes(good.getvalue()[: len(good.getvalue()) // 2])
    (folder / "notes.jpg").write_text("this is not an image\n")
    for i in range(2):
        street_image("A", (120, 90), random.Random(i + 1)).save(folder / f"street{i}.jpg", quality=90)
    return folder


def test_one_bad_file_never_stops_the_folder(tmp_path):
    folder = _odd_folder(tmp_path / "in")
    seen = []

    def on_disk(done, total):  # every image finished so far is already written
        seen.append((done, sorted(p.name for p in (tmp_path / "out").glob("*.png"))))

    result = translate(TranslateConfig(weights=str(_export(tmp_path)), inputs=(str(folder),),
                                       out_dir=str(tmp_path / "out"), batch_size=2, progress_bar=False),
                       progress=on_disk)  # fmt: skip
    assert sorted(p.name for p in result.written["A2B"]) == ["street0.png", "street1.png", "thin.png"]
    assert Image.open(tmp_path / "out" / "thin.png").size == (300, 1)  # padded for the network, cropped back
    reasons = {Path(f.path).name: f.reason for f in result.failed}
    assert set(reasons) == {"notes.jpg", "truncated.jpg"}
    assert reasons["notes.jpg"].startswith("cannot read: UnidentifiedImageError")
    assert "truncated" in reasons["truncated.jpg"] and all("\n" not in r for r in reasons.values())
    assert seen[-1] == (5, ["street0.png", "street1.png", "thin.png"]) and len(seen) == 3
    (grid,) = result.grids
    assert max(Image.open(grid).size) < 2000  # the 300x1 strip's thumbnail is bounded, not 57,600 px wide


def test_a_failing_translation_keeps_the_others(tmp_path, monkeypatch):
    folder = _odd_folder(tmp_path / "in")
    real = Translator.translate_images

    def fails_for_thin(self, images):
        if any(im.height == 1 for im in images):
            raise RuntimeError("out of memory (simulated)")
        return real(self, images)

    monkeypatch.setattr(Translator, "translate_images", fails_for_thin)
    result = translate(TranslateConfig(weights=str(_export(tmp_path)), inputs=(str(folder),),
                                       out_dir=str(tmp_path / "out"), batch_size=8))  # fmt: skip
    assert sorted(p.name for p in result.written["A2B"]) == ["street0.png", "street1.png"]  # retried one by one
    thin = next(f for f in result.failed if f.path.endswith("thin.png"))
    assert thin.reason == "translation failed: RuntimeError: out of memory (simulated)"


def test_an_interrupted_run_keeps_what_it_wrote(tmp_path):
    folder = _odd_folder(tmp_path / "in")

    def stop_after_first_batch(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        cfg = TranslateConfig(weights=str(_export(tmp_path)), inputs=(str(folder),), out_dir=str(tmp_path / "out"),
                              batch_size=2)  # fmt: skip
        translate(cfg, progress=stop_after_first_batch)
    assert [p.name for p in (tmp_path / "out").glob("*.png")] == ["street0.png"]  # notes.jpg failed, street0 done


HOSTILE = st.one_of(
    st.builds(
        lambda w, h, m, f, o, n, seed: (f, encode(w, h, m, FORMATS[f], o, n, seed)),
        st.integers(1, 48),
        st.integers(1, 48),
        st.sampled_from(MODES),
        st.sampled_from(sorted(FORMATS)),
        st.integers(1, 8),
        st.integers(1, 3),
        st.integers(0, 99),
    ),  # fmt: skip
    st.builds(lambda w, h: ("png", png_with_declared_size(w, h)), st.integers(1, 10**5), st.integers(1, 10**5)),
    st.builds(lambda text: ("jpg", text.encode()), st.text(max_size=40)),
)


@st.composite
def mutated(draw):
    """A generated image file, then perhaps cut short, with bytes flipped in its first 64, or misnamed."""
    ext, data = draw(HOSTILE)
    how = draw(st.sampled_from(["none", "truncate", "flip", "rename"]))
    if how == "truncate" and data:
        data = data[: draw(st.integers(0, len(data) - 1))]
    elif how == "flip" and data:
        data = bytearray(data)
        for _ in range(draw(st.integers(1, 3))):
            i = draw(st.integers(0, min(63, len(data) - 1)))
            data[i] ^= draw(st.integers(1, 255))
        data = bytes(data)
    elif how == "rename":
        ext = draw(st.sampled_from([e for e in FORMATS if e != ext]))
    return ext, data


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files=st.lists(mutated(), min_size=1, max_size=5))
def test_translate_never_aborts_a_folder_of_hostile_files(tmp_path_factory, files):
    """Whatever the folder holds, translate returns: every file is written (at its normalised size) or listed as
    failed with a one-line reason, never both, and the run does not raise."""
    tmp = tmp_path_factory.mktemp("hostile")
    for i, (ext, data) in enumerate(files):
        (tmp / "in").mkdir(exist_ok=True)
        (tmp / "in" / f"f{i}.{ext}").write_bytes(data)
    weights = _export(tmp, net=NetConfig(ngf=4, n_blocks=1))
    result = translate(TranslateConfig(weights=str(weights), inputs=(str(tmp / "in"),), out_dir=str(tmp / "out"),
                                       batch_size=2, grids=False, progress_bar=False))  # fmt: skip
    written = {p.stem for p in result.written.get("A2B", [])}
    failed = {Path(f.path).stem for f in result.failed}
    assert written | failed == {f"f{i}" for i in range(len(files))} and not written & failed
    assert all(f.reason and "\n" not in f.reason for f in result.failed)
    for p in result.written.get("A2B", []):
        assert Image.open(p).size == load_rgb(next((tmp / "in").glob(p.stem + ".*"))).size


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
    stored = json.loads(RunDir.of(root, "r1").translation_metrics.read_text())["metrics"]
    assert stored["images_A2B"] == stored["images_B2A"] == 3 and stored["images"] == 6


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
            memory_mb=1,
        )
    )
    assert Image.open(result.written["A2B"][0]).size == (150, 90) and result.metrics["tiled_images"] == 1


def test_tiled_translation_of_a_masked_generator_equals_the_whole_image():
    torch.manual_seed(1)
    G = init_weights(ResnetGenerator(NetConfig(ngf=8, n_blocks=2, upsample="resize", output="masked")))
    x = torch.stack([to_tensor(street_image("A", (150, 90), random.Random(4)))])
    tr = Translator(G, CPU, "fp32", memory_bytes=2**20, tile=32)
    whole, tiled = tr.run(x), tr.run_tiled(x)
    assert tr.tiled.tiles_run > 20 and (tiled - whole).abs().max() < 1e-4


def test_the_memory_estimate_is_the_largest_layers_input_and_output():
    """4000x3000 through the paper's generator (ngf 64): the last reflection pad's input and output, fp32 (about
    5.7 GiB; the former per-pixel factor said three times that), counted on the meta device in milliseconds."""
    cost = forward_cost(ResnetGenerator(), 1, 3000, 4000)
    assert cost.bytes == 4 * 64 * (3000 * 4000 + 3006 * 4006)
    assert cost.elements == 64 * 3006 * 4006
    resize = forward_cost(ResnetGenerator(NetConfig(upsample="resize")), 1, 3000, 4000)
    assert resize.elements == 128 * 3002 * 4002  # resize-conv pads the upsampled 2 x ngf map inside its conv


def test_no_batch_reaches_2_31_elements():
    """Three same-size 4000x3000 photos with memory to spare: two go together (3 x 64 x 3006 x 4006 elements would
    pass the int32 index limit of CUDA kernels), and a photo over the limit on its own goes in tiles."""
    tr = Translator(ResnetGenerator(), CPU, "fp32", batch_size=4, memory_bytes=2**40)
    assert tr.batch_limit(3000, 4000) == 2 and tr.fits(2, 3000, 4000) and not tr.fits(3, 3000, 4000)
    assert tr.batch_limit(6000, 6000) == 0 and not tr.fits(1, 6000, 6000)  # 64 x 6006 x 6006 > 2^31


def test_same_size_images_are_batched_within_the_index_limit(monkeypatch):
    """The limit scaled down to a 36x28 image's largest tensor x 2.5: three such images run as 2 + 1, each whole."""
    G = init_weights(ResnetGenerator(NET))
    tr = Translator(G, CPU, "fp32", batch_size=4)
    monkeypatch.setattr("model.translation.INDEX_LIMIT", int(tr.cost(28, 36).elements * 2.5))
    batches = []
    run = tr.run
    monkeypatch.setattr(tr, "run", lambda x: batches.append(len(x)) or run(x))
    out = tr.translate_images([gradient(36, 28)] * 3)
    assert batches == [2, 1] and tr.tiled_images == 0 and [im.size for im in out] == [(36, 28)] * 3
