"""Checkpoints (atomic, weights_only-loadable) and generator files: ours and the public implementations'."""

from __future__ import annotations

import pickle
import re
from pathlib import Path
from typing import Any

import torch

from core.config import ConfigError
from core.files import atomic_open
from model.layout import RunDir
from model.networks import NetConfig, ResnetGenerator

CHECKPOINT_FORMAT = "sakura-cyclegan-checkpoint/1"
GENERATOR_FORMAT = "sakura-generator/1"
# Public file names -> direction: the small implementation's netG_A2B.pth, the official latest_net_G_A.pth.
PUBLIC_NAMES = (
    (re.compile(r"netG_A2B|net_G_A\.pth$"), "A2B"),
    (re.compile(r"netG_B2A|net_G_B\.pth$"), "B2A"),
)
_RESBLOCK_KEY = re.compile(r"^model\.(\d+)\.conv_block\.")
_GLOBAL = re.compile(r"GLOBAL ([\w.]+)")
# What each of our formats must hold (checked before use, so a malformed file is one clear line, not a KeyError).
CHECKPOINT_KEYS = ("config", "G_AB", "G_BA", "D_A", "D_B", "epoch", "iteration", "global_step", "ranks")
GENERATOR_KEYS = ("direction", "net_config", "state_dict")
NET_KEYS = ("ngf", "ndf", "n_blocks", "n_layers_d")


def atomic_save(obj: Any, path: Path) -> Path:
    """torch.save to a temporary file in the same folder, fsync, then rename over `path`: never half-written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(path, "wb", fsync=True) as f:
        torch.save(obj, f)
    return path


def load(path: str | Path, map_location: str | torch.device = "cpu") -> Any:
    """torch.load with weights_only=True: tensors and plain containers only, a file never runs code. A file that
    would need more is refused with the reason (and never loaded any other way)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"checkpoint: {path} does not exist")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        raise ConfigError(f"checkpoint: refused {path}: {_refusal(str(e))}") from None
    except Exception as e:  # a zip that is cut short, a text file, an empty file: not a loadable PyTorch file
        what = "damaged or incomplete" if "zip archive" in str(e) else "not a PyTorch weights file"
        raise ConfigError(f"checkpoint: {path} is {what} ({type(e).__name__}: {_first_line(e)})") from None


def _refusal(message: str) -> str:
    """Why the weights-only unpickler refused a file, without PyTorch's advice to load it unsafely."""
    found = _GLOBAL.search(message)
    if found:
        return (
            f"it refers to the Python object {found.group(1)}, and unpickling it could run code; only tensors and "
            "plain values are loaded from a file (export the weights as a state_dict of tensors)"
        )
    return "it holds data other than tensors and plain values (e.g. a plain pickle); only weights-only files load"


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0][:200] if text else ""


def require_keys(obj: Any, keys: tuple[str, ...], what: str, path: Path, prefix: str = "") -> None:
    """ConfigError `not a sakura <what>: missing '<key>'` for the first key `obj` lacks (or if it is no dict)."""
    if not isinstance(obj, dict):
        raise ConfigError(f"checkpoint: {path}: not a sakura {what}: {prefix.rstrip('.') or 'the file'} is no dict")
    missing = next((k for k in keys if k not in obj), None)
    if missing is not None:
        raise ConfigError(f"checkpoint: {path}: not a sakura {what}: missing '{prefix}{missing}'")


def save_checkpoint(
    path: Path,
    trainer_state: dict,
    rank_states: list[dict],
    epoch: int,
    iteration: int,
    global_step: int,
    config: dict,
    extra: dict | None = None,
) -> Path:
    """Everything a run needs to continue exactly: networks, optimizers, schedules, scaler, per-rank pools and
    RNG states, position (epoch and iteration within it) and the config (plain types)."""
    state = {
        "format": CHECKPOINT_FORMAT,
        **trainer_state,
        "ranks": rank_states,
        "epoch": epoch,
        "iteration": iteration,
        "global_step": global_step,
        "config": config,
        "extra": extra or {},
    }
    return atomic_save(state, path)


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict:
    """A checkpoint written by save_checkpoint (weights_only)."""
    state = load(path, map_location)
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise ConfigError(f"checkpoint: {path} is not a sakura training checkpoint")
    require_keys(state, CHECKPOINT_KEYS + ("opt_G", "opt_D", "sched_G", "sched_D", "scaler"), "checkpoint", path)
    require_keys(state["config"], NET_KEYS, "checkpoint", path, "config.")
    return state


def export_generator(path: Path, state_dict: dict, net_config: NetConfig, direction: str, meta: dict) -> Path:
    """One generator alone, for inference: its weights, architecture and direction."""
    obj = {
        "format": GENERATOR_FORMAT,
        "direction": direction,
        "net_config": net_config.to_dict(),
        "state_dict": {k: v.detach().cpu() for k, v in state_dict.items()},
        "meta": meta,
    }
    return atomic_save(obj, path)


def infer_net_config(state_dict: dict[str, torch.Tensor]) -> NetConfig:
    """Architecture of a ResNet generator from its state_dict keys and shapes (for public files)."""
    try:
        first = state_dict["model.1.weight"]  # (ngf, in, 7, 7)
        last_idx = max(int(k.split(".")[1]) for k in state_dict if k.endswith(".weight") and k.count(".") == 2)
        out_ch = state_dict[f"model.{last_idx}.weight"].shape[0]
    except (KeyError, ValueError) as e:
        raise ConfigError(f"generator: not a ResNet generator state_dict (missing {e})") from None
    blocks = {int(m.group(1)) for k in state_dict if (m := _RESBLOCK_KEY.match(k))}
    resize = any(k.endswith(".conv.weight") and k.count(".") == 3 for k in state_dict)  # ResizeConv at model.<i>
    masked = out_ch == first.shape[1] + 1  # the mask's logit beside the image channels
    return NetConfig(in_channels=first.shape[1], out_channels=out_ch - masked, ngf=first.shape[0],
                     n_blocks=len(blocks), upsample="resize" if resize else "deconv",
                     output="masked" if masked else "image")  # fmt: skip


def clean_public_state_dict(sd: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Drop a DataParallel `module.` prefix and the running stats that old PyTorch versions stored for instance
    norm (the official code deletes those too)."""
    out = {}
    for k, v in sd.items():
        k = k.removeprefix("module.")
        if k.endswith(("running_mean", "running_var", "num_batches_tracked")):
            continue
        out[k] = v
    return out


def public_direction(path: Path) -> str | None:
    """A2B / B2A from a public generator file name, or None."""
    for pattern, direction in PUBLIC_NAMES:
        if pattern.search(path.name):
            return direction
    return None


def load_generator(path: str | Path, direction: str = "A2B", map_location="cpu") -> tuple[ResnetGenerator, dict]:
    """A generator from: a run folder (its best, else last, export), a training checkpoint, an exported generator,
    or a public state_dict (netG_A2B.pth, latest_net_G_A.pth, ...). Returns the network (eval mode) and info."""
    path = Path(path)
    if path.is_dir():
        path = _generator_in_run(path, direction)
    obj = load(path, map_location)
    if isinstance(obj, dict) and obj.get("format") == CHECKPOINT_FORMAT:
        g = "G_AB" if direction == "A2B" else "G_BA"
        require_keys(obj, ("config", g), "checkpoint", path)
        require_keys(obj["config"], NET_KEYS, "checkpoint", path, "config.")
        cfg = obj["config"]
        net_cfg = NetConfig(ngf=cfg["ngf"], ndf=cfg["ndf"], n_blocks=cfg["n_blocks"], n_layers_d=cfg["n_layers_d"],
                            upsample=cfg.get("upsample") or "deconv", output=cfg.get("output") or "image")  # fmt: skip
        sd, source = obj[g], "sakura checkpoint"
    elif isinstance(obj, dict) and obj.get("format") == GENERATOR_FORMAT:
        require_keys(obj, GENERATOR_KEYS, "generator file", path)
        if obj["direction"] != direction:
            raise ConfigError(f"generator: {path} maps {obj['direction']}, but {direction} was asked for")
        net_cfg, sd, source = _net_config(obj["net_config"], path), obj["state_dict"], "sakura generator"
    elif isinstance(obj, dict) and obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
        named = public_direction(path)
        if named is not None and named != direction:
            raise ConfigError(f"generator: {path.name} maps {named}, but {direction} was asked for")
        sd = clean_public_state_dict(obj)
        net_cfg, source = infer_net_config(sd), "public state_dict"
    else:
        raise ConfigError(f"generator: {path} is neither a sakura checkpoint/generator nor a generator state_dict")
    net = ResnetGenerator(net_cfg)
    try:
        net.load_state_dict(sd, strict=True)
    except (RuntimeError, TypeError, AttributeError) as e:  # wrong keys or shapes, or no state_dict at all
        raise ConfigError(f"generator: {path} does not fit a ResNet generator: {str(e).splitlines()[0]}") from e
    return net.eval(), {"path": str(path), "source": source, "direction": direction, "net_config": net_cfg.to_dict()}


def _net_config(data: Any, path: Path) -> NetConfig:
    if not isinstance(data, dict):
        raise ConfigError(f"checkpoint: {path}: not a sakura generator file: net_config is no dict")
    try:
        return NetConfig(**data)
    except TypeError as e:
        raise ConfigError(f"checkpoint: {path}: not a sakura generator file: net_config: {e}") from None


def _generator_in_run(run_dir: Path, direction: str) -> Path:
    run = RunDir(run_dir)
    for path in (run.generator(direction, best=True), run.generator(direction), run.last_checkpoint):
        if path.is_file():
            return path
    raise ConfigError(f"generator: no generator for {direction} in {run_dir} (train first, or give a file)")
