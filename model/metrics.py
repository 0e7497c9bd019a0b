"""Quality metrics: a domain classifier (no download), checkerboard energy and structure, FID/KID with local weights."""

from __future__ import annotations

from collections.abc import Callable
from inspect import signature
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from core.environment import environment, variable
from model.data import FolderDataset, Skipped

CLASSIFIER_SIZE = 32
INCEPTION_ENV = variable("inception_weights")
UPSAMPLING_STRIDE = 4  # two stride-2 upsamplings: artifacts repeat every 2 and 4 pixels
SHARE_EPS = 1e-5  # floor of a checkerboard share (a flat input has none), so ratios stay finite
SSIM_C2 = 0.03**2  # SSIM's contrast constant for data range 1


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


def load_stack(files: list[Path], size: int = CLASSIFIER_SIZE, limit: int | None = None,
               skipped: list[Skipped] | None = None) -> torch.Tensor:  # fmt: skip
    """(N, 3, size, size) evaluation crops of the files (at most `limit`, evenly spread); a file that does not load
    is left out and appended to `skipped`."""
    if limit is not None and len(files) > limit:
        step = len(files) / limit
        files = [files[int(i * step)] for i in range(limit)]
    stack, failed = FolderDataset(files, size).load_all()
    if skipped is not None:
        skipped += [f for f in failed if f not in skipped]
    return stack


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


def grey(x: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) in [-1, 1] -> (N, H, W) luma (Rec. 601) in [0, 1]."""
    x = x.float().clamp(-1, 1).add(1).mul(0.5)
    return 0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]


def checkerboard_share(x: torch.Tensor, stride: int = UPSAMPLING_STRIDE) -> torch.Tensor:
    """(N, 3, H, W) -> (N,): share of the grey image's spectral power (mean removed, Hann window) that lies at the
    frequencies a stride-`stride` upsampling repeats at: multiples of 1/stride cycles per pixel in each axis (and
    their neighbouring bins, where the window spreads a spike), DC excluded."""
    g = grey(x)
    h, w = (g.shape[1] // stride) * stride, (g.shape[2] // stride) * stride
    if h < 2 * stride or w < 2 * stride:
        return torch.zeros(len(g))
    g = g[:, :h, :w].double()
    g = g - g.mean((1, 2), keepdim=True)
    win = torch.hann_window(h, periodic=True, dtype=g.dtype)[:, None] * torch.hann_window(
        w, periodic=True, dtype=g.dtype
    )
    power = torch.fft.fft2(g * win).abs().square()  # (N, h, w)
    power[:, 0, 0] = 0
    peaks = torch.zeros(h, w, dtype=torch.bool)
    for a in range(stride):
        for b in range(stride):
            if a or b:
                rows = [(a * h // stride + d) % h for d in (-1, 0, 1)]
                cols = [(b * w // stride + d) % w for d in (-1, 0, 1)]
                peaks[torch.tensor(rows)[:, None], torch.tensor(cols)[None, :]] = True
    peaks[0, 0] = False
    total = power.sum((1, 2))
    return (power[:, peaks].sum(1) / total.clamp_min(1e-12)).float()


def checkerboard_energy(src: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """(N,) checkerboard share of each translation relative to its input's: 1 = no periodic energy added; a
    visible checkerboard is several times that."""
    return (checkerboard_share(out) + SHARE_EPS) / (checkerboard_share(src) + SHARE_EPS)


def edge_map(x: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) -> (N, 1, H, W): gradient magnitude of the grey image from neighbour differences (which, unlike
    Sobel, also see a 2-pixel checkerboard), in [0, 1]."""
    g = grey(x)[:, None]
    dx = F.pad(g[..., :, 1:] - g[..., :, :-1], (0, 1, 0, 0))
    dy = F.pad(g[..., 1:, :] - g[..., :-1, :], (0, 0, 0, 1))
    return (dx.square() + dy.square()).sqrt().clamp(0, 1)


def ssim_cs(a: torch.Tensor, b: torch.Tensor, sigma: float = 1.5) -> torch.Tensor:
    """(N, 1, H, W) maps in [0, 1] -> (N,) mean of SSIM's contrast-structure term (Wang et al. 2004: Gaussian window
    of 11 px, sigma 1.5, data range 1), (2 cov + C2) / (var_a + var_b + C2); the luminance term is left out."""
    radius = min(5, (min(a.shape[-2:]) - 1) // 2)
    t = torch.arange(-radius, radius + 1, dtype=torch.float32)
    k1 = torch.exp(-(t**2) / (2 * sigma**2))
    k1 = k1 / k1.sum()

    def blur(z: torch.Tensor) -> torch.Tensor:
        z = F.pad(z, (radius,) * 4, mode="replicate") if radius else z
        return F.conv2d(F.conv2d(z, k1.view(1, 1, 1, -1)), k1.view(1, 1, -1, 1))

    mu_a, mu_b = blur(a), blur(b)
    var_a, var_b = blur(a * a) - mu_a**2, blur(b * b) - mu_b**2
    cov = blur(a * b) - mu_a * mu_b
    return ((2 * cov + SSIM_C2) / (var_a + var_b + SSIM_C2)).mean((1, 2, 3))


def structure(src: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """(N,) SSIM contrast-structure of the edge maps of input and translation: 1 = every edge where it was, as
    strong (new colours count only through the edges they change), lower when edges smear, vanish or appear; an
    unrelated street scores about 0.6, a 3x3 blur 0.75."""
    return ssim_cs(edge_map(src), edge_map(out))


def artifact_scores(real_A: torch.Tensor, real_B: torch.Tensor, fake_B: torch.Tensor,
                    fake_A: torch.Tensor) -> dict[str, float]:  # fmt: skip
    """checkerboard_A2B / _B2A: geometric mean of `checkerboard_energy` (1 = none added); structure_A2B / _B2A:
    mean `structure`; `checkerboard` and `structure` average the two directions."""
    out: dict[str, float] = {}
    for name, src, fake in (("A2B", real_A, fake_B), ("B2A", real_B, fake_A)):
        if len(src) == 0:
            out[f"checkerboard_{name}"] = out[f"structure_{name}"] = float("nan")
            continue
        out[f"checkerboard_{name}"] = checkerboard_energy(src, fake).log().mean().exp().item()
        out[f"structure_{name}"] = structure(src, fake).mean().item()
    out["checkerboard"] = (out["checkerboard_A2B"] + out["checkerboard_B2A"]) / 2
    out["structure"] = (out["structure_A2B"] + out["structure_B2A"]) / 2
    return out


def inception_weights_path(setting: str | None) -> Path | None:
    """The configured InceptionV3 weights (setting, else $SAKURA_INCEPTION_WEIGHTS), or None."""
    value = setting or environment().inception_weights
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
        # antialias=False: torch-fidelity's TensorFlow-compatible resize, as published FID figures were measured
        # (torchmetrics' default antialiased resize gives other features: 142.7 against 157.9 on one pair of sets)
        tf_resize = {"antialias": False} if "antialias" in signature(FrechetInceptionDistance).parameters else {}
        fid = FrechetInceptionDistance(feature=2048, feature_extractor_weights_path=str(path), **tf_resize).to(device)
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
