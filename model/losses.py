"""CycleGAN objectives, the learning-rate schedule and the pool of past fakes that feeds the discriminators."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def lsgan_loss(pred: torch.Tensor, target_is_real: bool) -> torch.Tensor:
    """LSGAN: mean over the whole patch map (N, 1, h, w) of (D(x) - 1)^2 for real, D(x)^2 for fake."""
    pred = pred.float()
    target = torch.ones_like(pred) if target_is_real else torch.zeros_like(pred)
    return F.mse_loss(pred, target)


def cycle_loss(rec: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """L1 between a reconstruction (rec_A = G_BA(G_AB(real_A))) and the real image."""
    return F.l1_loss(rec.float(), real.float())


def diff_augment(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """DiffAugment's translation and cutout (Zhao et al. 2020), differentiable, drawn per image from `g`: a shift by up
    to 1/8 of each side (zero padded), then a zeroed rectangle of half each side. (N, C, H, W) -> same shape. No
    colour augmentation: colour is what tells the two seasons apart."""
    n, _, h, w = x.shape
    sh, sw = h // 8, w // 8
    dy, dx = (torch.randint(-s, s + 1, (n,), generator=g).tolist() for s in (sh, sw))
    padded = F.pad(x, (sw, sw, sh, sh))
    x = torch.stack([padded[i, :, sh - dy[i] : sh - dy[i] + h, sw - dx[i] : sw - dx[i] + w] for i in range(n)])
    ch, cw = h // 2, w // 2
    ys, xs = (torch.randint(-(c // 2), size - c // 2 + 1, (n,), generator=g).tolist() for c, size in ((ch, h), (cw, w)))
    keep = torch.ones(n, 1, h, w)
    for i in range(n):
        keep[i, :, max(0, ys[i]) : max(0, ys[i] + ch), max(0, xs[i]) : max(0, xs[i] + cw)] = 0
    return x * keep.to(device=x.device, dtype=x.dtype)


def lr_factor(epoch: int, epochs: int, decay_epoch: int) -> float:
    """Multiplier of the base lr in `epoch` (0-based): 1 before `decay_epoch`, then linearly towards 0 at `epochs`."""
    if epoch < decay_epoch:
        return 1.0
    return max(0.0, 1.0 - (epoch - decay_epoch) / max(1, epochs - decay_epoch))


class ImagePool:
    """Shrivastava et al.'s history buffer: up to `size` past fakes; each query returns, per image, the new fake or
    (with probability 0.5 once full) a stored one, which the new fake then replaces. Uses its own RNG so that a
    resumed run draws the same numbers."""

    def __init__(self, size: int, seed: int = 0) -> None:
        self.size = size
        self.images: list[torch.Tensor] = []  # each (C, H, W), detached
        self.rng = torch.Generator().manual_seed(seed)

    def query(self, images: torch.Tensor) -> torch.Tensor:  # (N, C, H, W) -> (N, C, H, W)
        if self.size == 0:
            return images
        out = []
        for img in images.detach():
            if len(self.images) < self.size:
                self.images.append(img.clone())
                out.append(img)
            elif torch.rand(1, generator=self.rng).item() > 0.5:
                i = int(torch.randint(0, self.size, (1,), generator=self.rng).item())
                out.append(self.images[i].clone())
                self.images[i] = img.clone()
            else:
                out.append(img)
        return torch.stack(out)

    def state_dict(self) -> dict:
        """Stored images (on the CPU) and the RNG state: tensors and ints only (weights_only-loadable)."""
        return {"size": self.size, "images": [t.cpu() for t in self.images], "rng": self.rng.get_state()}

    def load_state_dict(self, state: dict, device: torch.device | str = "cpu") -> None:
        """Restore what state_dict returned; images move to `device`."""
        self.size = int(state["size"])
        self.images = [t.to(device) for t in state["images"]]
        self.rng.set_state(state["rng"])
