"""Quality metrics: a domain classifier trained on the train split (no download) and FID/KID with local weights."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from model.data import FolderDataset

CLASSIFIER_SIZE = 32
INCEPTION_ENV = "SAKURA_INCEPTION_WEIGHTS"


class DomainClassifier(nn.Module):
    """A small CNN on 32 px thumbnails: (N, 3, H, W) in [-1, 1] -> logits for (A, B, neither). "Neither" is
    learnt from structureless versions of the training images, so noise or flat colour in the right palette is
    not counted as a domain."""

    def __init__(self, width: int = 16) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        ch = 3
        for mult in (1, 2, 4, 4):
            layers += [nn.Conv2d(ch, width * mult, 3, 2, 1), nn.BatchNorm2d(width * mult), nn.ReLU(True)]
            ch = width * mult
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(ch, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, 3, H, W) -> (N, 3)
        x = F.interpolate(x.float(), size=(CLASSIFIER_SIZE, CLASSIFIER_SIZE), mode="bilinear", antialias=True)
        return self.head(self.features(x).mean((2, 3)))


def load_stack(files: list[Path], size: int = CLASSIFIER_SIZE, limit: int | None = None) -> torch.Tensor:
    """(N, 3, size, size) evaluation crops of the files (at most `limit`, evenly spread)."""
    if limit is not None and len(files) > limit:
        step = len(files) / limit
        files = [files[int(i * step)] for i in range(limit)]
    ds = FolderDataset(files, size)
    return torch.stack([ds[i] for i in range(len(ds))])


def structureless(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Images with the colours of `x` but none of its structure: pixels or 8x8 patches shuffled, noise, flat colour."""
    n, c, h, w = x.shape
    kind = int(torch.randint(0, 4, (1,), generator=g))
    if kind == 0:  # pixels shuffled within each image
        flat = x.flatten(2)
        return flat[:, :, torch.randperm(h * w, generator=g)].view(n, c, h, w)
    if kind == 1:  # 8x8 patches shuffled
        p = 8
        tiles = x.unfold(2, p, p).unfold(3, p, p).reshape(n, c, -1, p, p)
        tiles = tiles[:, :, torch.randperm(tiles.shape[2], generator=g)]
        k = h // p
        return tiles.view(n, c, k, k, p, p).permute(0, 1, 2, 4, 3, 5).reshape(n, c, h, w)
    mean = x.mean((2, 3), keepdim=True)
    if kind == 2:  # the image's mean colour plus noise
        return (mean + 0.5 * torch.randn(x.shape, generator=g)).clamp(-1, 1)
    return (torch.rand(n, c, 1, 1, generator=g) * 2 - 1).expand(n, c, h, w).clone()  # flat colour


def train_domain_classifier(x_A: torch.Tensor, x_B: torch.Tensor, steps: int = 300, seed: int = 0) -> DomainClassifier:
    """Fit the classifier: real A -> 0, real B -> 1, structureless versions of either -> 2; flips and shifts."""
    g = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        clf = DomainClassifier()
    opt = torch.optim.Adam(clf.parameters(), 1e-3)
    x = torch.cat([x_A, x_B])
    y = torch.cat([torch.zeros(len(x_A)), torch.ones(len(x_B))]).long()
    weight = torch.cat([torch.full((len(x_A),), 0.5 / len(x_A)), torch.full((len(x_B),), 0.5 / len(x_B))])
    clf.train()
    for _ in range(steps):
        idx = torch.multinomial(weight, 32, replacement=True, generator=g)
        xb, yb = x[idx], y[idx]
        if torch.rand(1, generator=g).item() < 0.5:
            xb = xb.flip(3)
        shift = [int(v) for v in torch.randint(-4, 5, (2,), generator=g)]
        xb = torch.roll(xb, shifts=shift, dims=(2, 3))
        junk = structureless(xb[:12], g)
        xb, yb = torch.cat([xb, junk]), torch.cat([yb, torch.full((len(junk),), 2)])
        loss = F.cross_entropy(clf(xb), yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return clf.eval()


@torch.no_grad()
def predict(clf: DomainClassifier, x: torch.Tensor, batch: int = 64) -> torch.Tensor:
    """Predicted class per image: 0 = A, 1 = B, 2 = neither."""
    if len(x) == 0:
        return torch.zeros(0, dtype=torch.long)
    return torch.cat([clf(x[i : i + batch].cpu()).argmax(1) for i in range(0, len(x), batch)])


def share(clf: DomainClassifier, x: torch.Tensor, label: int) -> float:
    """Share of images the classifier assigns to `label` (nan for none)."""
    return (predict(clf, x) == label).float().mean().item() if len(x) else float("nan")


@torch.no_grad()
def translate_batch(G: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, device: torch.device,
                    batch: int = 16) -> torch.Tensor:  # fmt: skip
    """G applied to (N, 3, H, W) on `device` in batches; the result comes back to the CPU as float32."""
    outs = [G(x[i : i + batch].to(device)).float().cpu() for i in range(0, len(x), batch)]
    return torch.cat(outs) if outs else x


def domain_scores(clf: DomainClassifier, real_A: torch.Tensor, real_B: torch.Tensor, fake_B: torch.Tensor,
                  fake_A: torch.Tensor) -> dict[str, float]:  # fmt: skip
    """A2B_as_B: share of G_AB(test A) classified B; B2A_as_A likewise; real_A_as_B / real_B_as_A: the same for
    untranslated images (the baseline); classifier_accuracy on the real test images; domain_score = mean of the
    two translated shares."""
    a2b, b2a = share(clf, fake_B, 1), share(clf, fake_A, 0)
    correct = (predict(clf, real_A) == 0).sum().item() + (predict(clf, real_B) == 1).sum().item()
    n_a, n_b = len(real_A), len(real_B)
    return {
        "A2B_as_B": a2b,
        "B2A_as_A": b2a,
        "real_A_as_B": share(clf, real_A, 1),
        "real_B_as_A": share(clf, real_B, 0),
        "classifier_accuracy": correct / max(1, n_a + n_b),
        "domain_score": (a2b + b2a) / 2,
        "n_test_A": n_a,
        "n_test_B": n_b,
    }


def inception_weights_path(setting: str | None) -> Path | None:
    """The configured InceptionV3 weights (setting, else $SAKURA_INCEPTION_WEIGHTS), or None."""
    value = setting or os.environ.get(INCEPTION_ENV)
    return Path(value) if value else None


def fid_kid(real_A, real_B, fake_A, fake_B, weights: str | None, device: torch.device) -> dict:
    """FID and KID of G_AB(test A) against test B and of G_BA(test B) against test A (torchmetrics with a local
    InceptionV3 file). Returns {"skipped": reason} when the weights or the package are missing or unusable: never
    downloads. The file must load with weights_only=True (torch-fidelity itself would unpickle it fully)."""
    path = inception_weights_path(weights)
    if path is None:
        hint = f"set --inception-weights or ${INCEPTION_ENV}"
        return {"skipped": f"no InceptionV3 weights given ({hint}); not downloaded"}
    if not path.is_file():
        return {"skipped": f"InceptionV3 weights file {path} does not exist; not downloaded"}
    try:
        from torchmetrics.image.fid import FrechetInceptionDistance
        from torchmetrics.image.kid import KernelInceptionDistance
    except ImportError as e:
        return {"skipped": f"torchmetrics/torch-fidelity not installed ({e}): pip install 'sakura-street[metrics]'"}
    try:
        torch.load(path, map_location="cpu", weights_only=True)
        fid = FrechetInceptionDistance(feature=2048, feature_extractor_weights_path=str(path)).to(device)
    except Exception as e:  # a file that is not InceptionV3 weights: reported, the run's other metrics stand
        return {"skipped": f"could not use InceptionV3 weights {path}: {type(e).__name__}: {e}"}
    out = {"n_real_A": len(real_A), "n_real_B": len(real_B)}
    for name, real, fake in (("A2B", real_B, fake_B), ("B2A", real_A, fake_A)):
        subset = max(2, min(len(real), len(fake), 1000))
        kid = KernelInceptionDistance(feature=fid.inception, subset_size=subset, subsets=50).to(device)
        fid.reset()
        for metric in (fid, kid):
            metric.update(_uint8(real).to(device), real=True)
            metric.update(_uint8(fake).to(device), real=False)
        out[f"FID_{name}"] = float(fid.compute())
        kid_mean, kid_std = kid.compute()
        out[f"KID_{name}"], out[f"KID_{name}_std"] = float(kid_mean), float(kid_std)
    return out


def _uint8(x: torch.Tensor) -> torch.Tensor:
    """[-1, 1] float -> [0, 255] uint8, what the InceptionV3 feature extractor takes."""
    return x.float().clamp(-1, 1).add(1).mul(127.5).round().to(torch.uint8)
