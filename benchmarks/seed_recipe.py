"""The seed project's recipe, reproduced as a baseline: aitorzip's PyTorch-CycleGAN training loop.

What it does, as that loop does it: ResNet-9 generators at ngf 64 with transposed convolutions, 70x70 PatchGANs whose
patch map is averaged to one number before the MSE, fp32, one generator call at a time (identity, GAN, cycle), the
discriminators left trainable during the generator step, Adam 2e-4 (0.5, 0.999), identity 5, cycle 10, a 50-image
replay buffer, images resized to 1.12 x size (bicubic), random size x size crop and flip. The networks are the
project's (their state_dicts are aitorzip's, so the weights load in both).
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import torch
import torch.nn.functional as F
from PIL import Image

from core.images import load_rgb
from model.checkpoint import export_generator
from model.data import train_transform
from model.losses import ImagePool, lr_factor
from model.networks import NetConfig, PatchDiscriminator, ResnetGenerator, init_weights

SEED_NET = NetConfig(ngf=64, ndf=64, n_blocks=9, upsample="deconv", output="image")


def seed_transform(im: Image.Image, size: int, g: torch.Generator) -> torch.Tensor:
    """transforms.Resize(int(size * 1.12), BICUBIC), RandomCrop(size), RandomHorizontalFlip, to [-1, 1]: the project's
    training transform with the seed's load size."""
    return train_transform(im, int(size * 1.12), size, g)


def _d(net: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """aitorzip's Discriminator.forward: the patch map averaged to one score per image."""
    y = net(x)
    return F.avg_pool2d(y, y.size()[2:]).view(y.size(0), -1)


class SeedTrainer:
    """The seed's networks, optimizers and one training step."""

    def __init__(self, seed: int, epochs: int, decay_epoch: int) -> None:
        torch.manual_seed(seed)
        self.G_AB = init_weights(ResnetGenerator(SEED_NET))
        self.G_BA = init_weights(ResnetGenerator(SEED_NET))
        self.D_A = init_weights(PatchDiscriminator(SEED_NET))
        self.D_B = init_weights(PatchDiscriminator(SEED_NET))
        betas = (0.5, 0.999)
        self.opt_G = torch.optim.Adam(
            itertools.chain(self.G_AB.parameters(), self.G_BA.parameters()), 2e-4, betas=betas
        )
        self.opt_D_A = torch.optim.Adam(self.D_A.parameters(), 2e-4, betas=betas)
        self.opt_D_B = torch.optim.Adam(self.D_B.parameters(), 2e-4, betas=betas)
        sched = lambda opt: torch.optim.lr_scheduler.LambdaLR(opt, lambda e: lr_factor(e, epochs, decay_epoch))  # noqa: E731
        self.scheds = [sched(o) for o in (self.opt_G, self.opt_D_A, self.opt_D_B)]
        self.pool_A, self.pool_B = ImagePool(50, seed * 7919 + 1), ImagePool(50, seed * 7919 + 2)

    def step(self, real_A: torch.Tensor, real_B: torch.Tensor) -> None:
        """aitorzip's train.py loop body: generators, then D_A, then D_B."""
        ones, zeros = torch.ones(real_A.size(0), 1), torch.zeros(real_A.size(0), 1)
        self.opt_G.zero_grad()
        loss_idt = F.l1_loss(self.G_AB(real_B), real_B) * 5.0 + F.l1_loss(self.G_BA(real_A), real_A) * 5.0
        fake_B = self.G_AB(real_A)
        loss_gan = F.mse_loss(_d(self.D_B, fake_B), ones)
        fake_A = self.G_BA(real_B)
        loss_gan = loss_gan + F.mse_loss(_d(self.D_A, fake_A), ones)
        loss_cyc = F.l1_loss(self.G_BA(fake_B), real_A) * 10.0 + F.l1_loss(self.G_AB(fake_A), real_B) * 10.0
        (loss_idt + loss_gan + loss_cyc).backward()
        self.opt_G.step()
        for D, opt, real, fake, pool in (
            (self.D_A, self.opt_D_A, real_A, fake_A, self.pool_A),
            (self.D_B, self.opt_D_B, real_B, fake_B, self.pool_B),
        ):
            opt.zero_grad()
            loss_real = F.mse_loss(_d(D, real), ones)
            loss_fake = F.mse_loss(_d(D, pool.query(fake.detach())), zeros)
            ((loss_real + loss_fake) * 0.5).backward()
            opt.step()

    def end_epoch(self) -> None:
        for s in self.scheds:
            s.step()


def train_seed(files_A: list[Path], files_B: list[Path], size: int, steps: int, seed: int, out: Path) -> Path:
    """Train for `steps` (an epoch is one pass over A; lr constant for the first half, then linear to 0) and export
    G_AB as a sakura generator file, which `model.checkpoint.load_generator` reads like any other."""
    epochs = max(1, math.ceil(steps / len(files_A)))
    trainer = SeedTrainer(seed, epochs, epochs // 2)
    g = torch.Generator().manual_seed(seed)
    cache: dict[Path, Image.Image] = {}
    load = lambda p: cache.setdefault(p, load_rgb(p))  # noqa: E731  (the seed's loader reads every epoch; cost kept out)
    for step in range(steps):
        if step and step % len(files_A) == 0:
            trainer.end_epoch()
        i = int(torch.randint(0, len(files_A), (1,), generator=g))
        j = int(torch.randint(0, len(files_B), (1,), generator=g))
        real_A = seed_transform(load(files_A[i]), size, g)[None]  # (1, 3, size, size)
        real_B = seed_transform(load(files_B[j]), size, g)[None]
        trainer.step(real_A, real_B)
    meta = {"recipe": "seed", "steps": steps, "seed": seed, "size": size}
    return export_generator(out, trainer.G_AB.state_dict(), SEED_NET, "A2B", meta)
