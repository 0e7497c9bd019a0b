"""Tests for model.checkpoint: atomic weights-only files, generator export, the public generator layouts."""

from __future__ import annotations

import os
import pickle

import pytest
import torch

from core.config import ConfigError
from model.checkpoint import (
    CHECKPOINT_FORMAT,
    GENERATOR_FORMAT,
    atomic_save,
    export_generator,
    infer_net_config,
    load,
    load_checkpoint,
    load_generator,
    save_checkpoint,
)
from model.networks import NetConfig, ResnetGenerator
from tests.support.model_public import OfficialResnetGenerator, SmallImplGenerator


class _Evil:
    marker = ""

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_atomic_save_leaves_no_temporary_file(tmp_path):
    path = atomic_save({"w": torch.ones(2)}, tmp_path / "sub" / "x.pt")
    assert torch.equal(load(path)["w"], torch.ones(2))
    assert [p.name for p in path.parent.iterdir()] == ["x.pt"]


def test_failed_save_keeps_the_previous_file(tmp_path):
    path = atomic_save({"w": torch.ones(2)}, tmp_path / "x.pt")
    with pytest.raises(Exception):  # noqa: B017 - whatever pickling raises
        atomic_save({"bad": lambda: 0}, path)
    assert torch.equal(load(path)["w"], torch.ones(2))
    assert [p.name for p in tmp_path.iterdir()] == ["x.pt"]


def test_a_checkpoint_never_runs_code(tmp_path):
    path, evil = tmp_path / "evil.pt", _Evil()
    evil.marker = str(tmp_path / "ran")
    torch.save({"x": evil}, path)
    with pytest.raises(ConfigError, match="refused .*evil.pt: it refers to the Python object posix.system") as e:
        load(path)
    assert not (tmp_path / "ran").exists()
    assert "weights_only" not in str(e.value) and "\n" not in str(e.value)  # never the advice to load it unsafely


class _Plain:
    pass


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (lambda p: torch.save({"x": _Plain()}, p), "refused .*it refers to the Python object"),
        (lambda p: p.write_bytes(pickle.dumps({"a": 1}, protocol=4)), "refused .*other than tensors"),
        (lambda p: p.write_text("hello"), "is not a PyTorch weights file"),
        (lambda p: p.write_bytes(b""), "is not a PyTorch weights file"),
        (lambda p: (torch.save({"w": torch.ones(9)}, p), p.write_bytes(p.read_bytes()[:200])), "damaged or incomplete"),
    ],
)
@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_unloadable_files_are_one_line_refusals(tmp_path, content, message):
    path = tmp_path / "x.pt"
    content(path)
    with pytest.raises(ConfigError, match=message) as e:
        load(path)
    assert "\n" not in str(e.value) and "weights_only" not in str(e.value)


@pytest.mark.parametrize(
    ("state", "missing"),
    [
        ({"format": CHECKPOINT_FORMAT, "G_AB": {}}, "'config'"),
        ({"format": CHECKPOINT_FORMAT, "config": {"ngf": 8}, "G_AB": {}}, "'config.ndf'"),
        ({"format": CHECKPOINT_FORMAT, "config": {"ngf": 8, "ndf": 8, "n_blocks": 1, "n_layers_d": 3}}, "'G_AB'"),
        ({"format": GENERATOR_FORMAT, "direction": "A2B"}, "'net_config'"),
    ],
)
def test_malformed_but_loadable_files_name_what_is_missing(tmp_path, state, missing):
    torch.save(state, tmp_path / "m.pt")
    with pytest.raises(ConfigError, match=f"m.pt: not a sakura .*: missing {missing}$"):
        load_generator(tmp_path / "m.pt", "A2B")
    if state["format"] == CHECKPOINT_FORMAT:
        with pytest.raises(ConfigError, match="not a sakura checkpoint: missing"):
            load_checkpoint(tmp_path / "m.pt")


def test_training_checkpoint_round_trip(tmp_path):
    opt = {"state": {}, "param_groups": [{"lr": 1e-4, "params": [0]}]}
    state = {name: {"w": torch.randn(3)} for name in ("G_AB", "G_BA", "D_A", "D_B")}
    state.update(opt_G=opt, opt_D=opt, sched_G={}, sched_D={}, scaler={})
    ranks = [{"rng": {"cpu": torch.get_rng_state()}}]
    config = {"run": "r", "lr": 2e-4, "resume": False, "ngf": 8, "ndf": 8, "n_blocks": 2, "n_layers_d": 3}
    path = save_checkpoint(tmp_path / "last.pt", state, ranks, 2, 5, 25, config)
    back = load_checkpoint(path)
    assert (back["epoch"], back["iteration"], back["global_step"]) == (2, 5, 25)
    assert torch.equal(back["G_AB"]["w"], state["G_AB"]["w"]) and back["config"]["run"] == "r"
    atomic_save({"w": torch.ones(1)}, tmp_path / "other.pt")
    with pytest.raises(ConfigError, match="not a sakura training checkpoint"):
        load_checkpoint(tmp_path / "other.pt")


def test_exported_generator_loads_alone_with_its_direction(tmp_path):
    cfg = NetConfig(ngf=8, n_blocks=3)
    net = ResnetGenerator(cfg)
    path = export_generator(tmp_path / "G_B2A.pt", net.state_dict(), cfg, "B2A", {"run": "r"})
    loaded, info = load_generator(path, "B2A")
    x = torch.randn(1, 3, 16, 16)
    assert torch.equal(loaded(x), net.eval()(x)) and info["source"] == "sakura generator"
    with pytest.raises(ConfigError, match="maps B2A"):
        load_generator(path, "A2B")


@pytest.mark.parametrize(
    ("make", "filename", "direction"),
    [
        (lambda: SmallImplGenerator(n_residual_blocks=9, ngf=8), "netG_A2B.pth", "A2B"),
        (lambda: SmallImplGenerator(n_residual_blocks=9, ngf=8), "netG_B2A.pth", "B2A"),
        (lambda: OfficialResnetGenerator(ngf=8, n_blocks=9), "latest_net_G_A.pth", "A2B"),
        (lambda: OfficialResnetGenerator(ngf=8, n_blocks=6), "200_net_G_B.pth", "B2A"),
    ],
)
def test_public_generator_files_load_and_compute_the_same(tmp_path, make, filename, direction):
    torch.manual_seed(0)
    ref = make().eval()
    torch.save(ref.state_dict(), tmp_path / filename)
    net, info = load_generator(tmp_path / filename, direction)
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        assert torch.allclose(net(x), ref(x), atol=1e-6)
    assert info["source"] == "public state_dict" and info["net_config"]["ngf"] == 8


def test_public_files_with_module_prefix_and_old_norm_stats(tmp_path):
    ref = OfficialResnetGenerator(ngf=8, n_blocks=2).eval()
    sd = {f"module.{k}": v for k, v in ref.state_dict().items()}
    sd["module.model.2.running_mean"] = torch.zeros(8)  # what pre-0.4 PyTorch stored for instance norm
    torch.save(sd, tmp_path / "latest_net_G_A.pth")
    net, _ = load_generator(tmp_path / "latest_net_G_A.pth", "A2B")
    x = torch.randn(1, 3, 16, 16)
    with torch.no_grad():
        assert torch.allclose(net(x), ref(x), atol=1e-6)


def test_public_file_direction_mismatch_and_non_generators_fail_clearly(tmp_path):
    torch.save(SmallImplGenerator(n_residual_blocks=1, ngf=4).state_dict(), tmp_path / "netG_A2B.pth")
    with pytest.raises(ConfigError, match="maps A2B"):
        load_generator(tmp_path / "netG_A2B.pth", "B2A")
    torch.save({"conv.weight": torch.zeros(1)}, tmp_path / "weird.pth")
    with pytest.raises(ConfigError, match="generator"):
        load_generator(tmp_path / "weird.pth", "A2B")


@pytest.mark.parametrize("upsample", ["deconv", "resize"])
def test_infer_config_from_keys(upsample):
    sd = ResnetGenerator(NetConfig(ngf=16, n_blocks=6, upsample=upsample)).state_dict()
    assert infer_net_config(sd) == NetConfig(ngf=16, n_blocks=6, upsample=upsample)


def test_resize_generator_exports_and_loads(tmp_path):
    cfg = NetConfig(ngf=8, n_blocks=2, upsample="resize")
    net = ResnetGenerator(cfg).eval()
    path = export_generator(tmp_path / "G_A2B.pt", net.state_dict(), cfg, "A2B", {})
    loaded, info = load_generator(path, "A2B")
    x = torch.randn(1, 3, 16, 16)
    with torch.no_grad():
        assert torch.equal(loaded(x), net(x))
    assert info["net_config"]["upsample"] == "resize"


@pytest.mark.parametrize("output", ["image", "masked"])
def test_generator_output_kind_survives_export_and_inference(tmp_path, output):
    cfg = NetConfig(ngf=8, n_blocks=2, upsample="resize", output=output)
    net = ResnetGenerator(cfg).eval()
    assert infer_net_config(net.state_dict()) == cfg.model_copy(update={"ndf": 64})
    path = export_generator(tmp_path / "G_A2B.pt", net.state_dict(), cfg, "A2B", {})
    loaded, info = load_generator(path, "A2B")
    x = torch.randn(1, 3, 16, 16)
    assert info["net_config"]["output"] == output and torch.equal(loaded(x), net(x))
