"""One CycleGAN training step: the four networks, their optimizers, schedules, AMP scaler, pools and DDP wrapping."""

from __future__ import annotations

import contextlib
import itertools
import math
from dataclasses import dataclass

import torch
import torch.distributed as torch_dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP

from model.config import TrainConfig
from model.losses import ImagePool, cycle_loss, diff_augment, lr_factor, lsgan_loss
from model.networks import CycleGAN

LOSS_NAMES = ("G_GAN", "G_cycle", "G_identity", "D_A", "D_B")
AMP_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


class NonFiniteLossError(RuntimeError):
    """A loss became NaN or infinite; the step was not applied."""


@dataclass(frozen=True)
class DistInfo:
    """Where this process sits in a torchrun job (world 1 when not distributed)."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world > 1


def _set_requires_grad(nets: tuple[nn.Module, ...], flag: bool) -> None:
    for net in nets:
        for p in net.parameters():
            p.requires_grad_(flag)


class CycleGANTrainer:
    """Holds the networks and optimizer state of one run and applies training steps.

    `self.model` holds the plain modules (state_dicts, export); `self.G_AB` etc. are what forward passes use
    (compiled and/or DDP-wrapped). The generator step calls the plain-or-compiled discriminators with their
    parameters frozen (no DDP hooks fire); the discriminator step calls their DDP wrappers.
    """

    def __init__(self, cfg: TrainConfig, device: torch.device, dist: DistInfo = DistInfo()) -> None:
        self.cfg, self.device, self.dist = cfg, device, dist
        torch.manual_seed(cfg.seed)  # same initial weights on every rank (DDP also broadcasts rank 0's)
        self.memory_format = torch.channels_last if cfg.channels_last else torch.contiguous_format
        self.model = CycleGAN(cfg.net_config()).to(device=device, memory_format=self.memory_format)
        m = self.model
        # fused: one kernel per step, and it skips an update on the device (found_inf) with no host sync
        adam = dict(lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), fused=True)
        self.opt_G = torch.optim.Adam(itertools.chain(m.G_AB.parameters(), m.G_BA.parameters()), **adam)
        self.opt_D = torch.optim.Adam(itertools.chain(m.D_A.parameters(), m.D_B.parameters()), **adam)
        epochs, decay = cfg.epochs, cfg.decay_epoch
        self.sched_G = torch.optim.lr_scheduler.LambdaLR(self.opt_G, lambda e: lr_factor(e, epochs, decay))
        self.sched_D = torch.optim.lr_scheduler.LambdaLR(self.opt_D, lambda e: lr_factor(e, epochs, decay))
        self.scaler = torch.amp.GradScaler(device.type, enabled=cfg.precision == "fp16")
        self.pool_A = ImagePool(cfg.pool_size, seed=cfg.seed * 7919 + 2 * dist.rank + 1)  # past fake_A
        self.pool_B = ImagePool(cfg.pool_size, seed=cfg.seed * 7919 + 2 * dist.rank + 2)  # past fake_B
        self.augment_rng = torch.Generator().manual_seed(cfg.seed * 7919 + 2 * dist.rank + 3)
        self._wrap()

    def _wrap(self) -> None:
        """DDP first, then torch.compile of the wrapper (as PyTorch's DDP notes ask: the compiler then splits the
        graph at DDP's gradient buckets, so all-reduce overlaps the backward)."""
        m, cfg = self.model, self.cfg
        comp = (lambda net: torch.compile(net)) if cfg.compile else (lambda net: net)
        self.D_A_frozen, self.D_B_frozen = comp(m.D_A), comp(m.D_B)
        if self.dist.distributed:
            ids = [self.device.index] if self.device.type == "cuda" else None
            nets = [comp(DDP(net, device_ids=ids)) for net in (m.G_AB, m.G_BA, m.D_A, m.D_B)]
        else:
            nets = [comp(m.G_AB), comp(m.G_BA), self.D_A_frozen, self.D_B_frozen]
        self.G_AB, self.G_BA, self.D_A, self.D_B = nets

    def autocast(self) -> contextlib.AbstractContextManager:
        """Mixed precision per the config (a no-op for fp32)."""
        if self.cfg.precision == "fp32":
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=AMP_DTYPES[self.cfg.precision])

    def to_device(self, x: torch.Tensor) -> torch.Tensor:
        return x.to(self.device, non_blocking=True).contiguous(memory_format=self.memory_format)

    def generator_forward(self, real_A: torch.Tensor, real_B: torch.Tensor) -> dict[str, torch.Tensor]:
        """fake_B = G_AB(real_A), rec_A = G_BA(fake_B), idt_B = G_AB(real_B) and the mirror images, with the calls
        that share a network batched together (instance norm is per image, so batching changes nothing)."""
        n = real_A.shape[0]
        if self.cfg.lambda_identity > 0:
            fake_B, idt_B = self.G_AB(torch.cat([real_A, real_B])).split(n)
            fake_A, idt_A, rec_A = self.G_BA(torch.cat([real_B, real_A, fake_B])).split(n)
        else:
            fake_B, idt_B, idt_A = self.G_AB(real_A), None, None
            fake_A, rec_A = self.G_BA(torch.cat([real_B, fake_B])).split(n)
        rec_B = self.G_AB(fake_A)
        return {"fake_B": fake_B, "fake_A": fake_A, "rec_A": rec_A, "rec_B": rec_B, "idt_A": idt_A, "idt_B": idt_B}

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        """What a discriminator sees of x: DiffAugment's shift and cutout when the config asks for it, else x."""
        return diff_augment(x, self.augment_rng) if self.cfg.diff_augment else x

    def generator_losses(self, real_A: torch.Tensor, real_B: torch.Tensor, out: dict) -> dict[str, torch.Tensor]:
        """L_GAN(G_AB, D_B) + L_GAN(G_BA, D_A) + lambda_cyc * L_cyc + lambda_cyc * lambda_idt * L_identity (eq. 3 of
        the paper plus the identity term of its section 5.2); LSGAN over the whole patch map."""
        cfg = self.cfg
        aug = self.augment
        g_gan = lsgan_loss(self.D_B_frozen(aug(out["fake_B"])), True) + lsgan_loss(
            self.D_A_frozen(aug(out["fake_A"])), True
        )
        g_cyc = (cycle_loss(out["rec_A"], real_A) + cycle_loss(out["rec_B"], real_B)) * cfg.lambda_cycle
        if out["idt_A"] is not None:
            g_idt = cycle_loss(out["idt_A"], real_A) + cycle_loss(out["idt_B"], real_B)
            g_idt = g_idt * cfg.lambda_cycle * cfg.lambda_identity
        else:
            g_idt = torch.zeros((), device=real_A.device)
        return {"G_GAN": g_gan, "G_cycle": g_cyc, "G_identity": g_idt}

    def discriminator_losses(self, real_A, real_B, fake_A, fake_B) -> dict[str, torch.Tensor]:
        """0.5 * (L(D(real), 1) + L(D(pool(fake)), 0)) for D_A and D_B; real and fake go through D in one batch."""
        n = real_A.shape[0]
        pred_real_B, pred_fake_B = self.D_B(self.augment(torch.cat([real_B, self.pool_B.query(fake_B)]))).split(n)
        pred_real_A, pred_fake_A = self.D_A(self.augment(torch.cat([real_A, self.pool_A.query(fake_A)]))).split(n)
        d_b = 0.5 * (lsgan_loss(pred_real_B, True) + lsgan_loss(pred_fake_B, False))
        d_a = 0.5 * (lsgan_loss(pred_real_A, True) + lsgan_loss(pred_fake_A, False))
        return {"D_A": d_a, "D_B": d_b}

    def train_step(self, real_A: torch.Tensor, real_B: torch.Tensor) -> torch.Tensor:
        """One generator update then one discriminator update; returns the five losses (LOSS_NAMES order) as one
        detached float tensor on the device. Nothing here waits for the device: both backward passes are queued
        before either optimizer steps (the D step does not read the G weights, so this equals stepping G first), and
        a step whose loss is NaN or infinite (on any rank) applies no update, skipped on the device by the fused
        Adam; `check_finite` raises NonFiniteLossError for it when the losses are read."""
        real_A, real_B = self.to_device(real_A), self.to_device(real_B)  # (N, 3, H, W)
        m = self.model
        _set_requires_grad((m.D_A, m.D_B), False)
        with self.autocast():
            out = self.generator_forward(real_A, real_B)
            g = self.generator_losses(real_A, real_B, out)
        self.opt_G.zero_grad(set_to_none=True)
        self.scaler.scale(sum(g.values())).backward()
        _set_requires_grad((m.D_A, m.D_B), True)
        with self.autocast():
            d = self.discriminator_losses(real_A, real_B, out["fake_A"].detach(), out["fake_B"].detach())
        self.opt_D.zero_grad(set_to_none=True)
        self.scaler.scale(d["D_A"] + d["D_B"]).backward()
        losses = torch.stack([v.detach().float() for v in (*g.values(), *d.values())])  # (5,)
        bad = (~torch.isfinite(losses).all()).float()  # 1.0: skip this step's updates
        if self.dist.distributed:  # every rank skips (and later raises) together
            torch_dist.all_reduce(bad, op=torch_dist.ReduceOp.MAX)
            losses = torch.where(bad > 0, torch.full_like(losses, math.nan), losses)
        for opt in (self.opt_G, self.opt_D):
            if self.scaler.is_enabled():  # fp16: the scaler's own inf check (a non-finite loss has non-finite grads)
                self.scaler.step(opt)
            else:
                opt.found_inf = bad  # what GradScaler hands a fused optimizer: skip the update where it is 1
                opt.step()
                del opt.found_inf
        self.scaler.update()
        return losses

    def end_epoch(self) -> None:
        """Advance both learning-rate schedules by one epoch."""
        self.sched_G.step()
        self.sched_D.step()

    def state_dict(self) -> dict:
        """Networks, optimizers, schedules and scaler (the per-rank pools are in rank_state)."""
        m = self.model
        return {
            "G_AB": m.G_AB.state_dict(),
            "G_BA": m.G_BA.state_dict(),
            "D_A": m.D_A.state_dict(),
            "D_B": m.D_B.state_dict(),
            "opt_G": self.opt_G.state_dict(),
            "opt_D": self.opt_D.state_dict(),
            "sched_G": self.sched_G.state_dict(),
            "sched_D": self.sched_D.state_dict(),
            "scaler": self.scaler.state_dict(),
        }

    def load_state_dict(self, state: dict) -> None:
        m = self.model
        for name in ("G_AB", "G_BA", "D_A", "D_B"):
            getattr(m, name).load_state_dict(state[name])
        self.opt_G.load_state_dict(state["opt_G"])
        self.opt_D.load_state_dict(state["opt_D"])
        self.sched_G.load_state_dict(state["sched_G"])
        self.sched_D.load_state_dict(state["sched_D"])
        for opt in (self.opt_G, self.opt_D):  # the kernel choice is this trainer's, not the checkpoint's
            for group in opt.param_groups:
                group.update(fused=True, foreach=None)
            for p, s in opt.state.items():  # the fused kernel keeps `step` beside the weights (older files: on the CPU)
                if torch.is_tensor(s.get("step")):
                    s["step"] = s["step"].to(device=p.device, dtype=torch.float32)
        if state.get("scaler") or not self.scaler.is_enabled():  # fp16 from an fp32/bf16 run: a fresh scale
            self.scaler.load_state_dict(state.get("scaler") or {})

    def rank_state(self) -> dict:
        """What differs between ranks: the image pools and the RNG states."""
        rng = {"cpu": torch.get_rng_state()}
        if self.device.type == "cuda":
            rng["cuda"] = torch.cuda.get_rng_state(self.device)
        rng["augment"] = self.augment_rng.get_state()
        return {"pool_A": self.pool_A.state_dict(), "pool_B": self.pool_B.state_dict(), "rng": rng}

    def load_rank_state(self, state: dict) -> None:
        self.pool_A.load_state_dict(state["pool_A"], self.device)
        self.pool_B.load_state_dict(state["pool_B"], self.device)
        torch.set_rng_state(state["rng"]["cpu"])
        if "augment" in state["rng"]:  # checkpoints from before the setting have none
            self.augment_rng.set_state(state["rng"]["augment"])
        if self.device.type == "cuda" and "cuda" in state["rng"]:
            torch.cuda.set_rng_state(state["rng"]["cuda"], self.device)

    def check_ranks_in_sync(self) -> None:
        """Under DDP, raise if any rank's weights differ from rank 0's (they must stay identical)."""
        if not self.dist.distributed:
            return
        sums = torch.stack([p.detach().double().sum() for p in self.model.parameters()])
        ref = sums.clone()  # on the training device (NCCL needs CUDA tensors)
        torch.distributed.broadcast(ref, src=0)
        if not torch.equal(sums, ref):
            raise RuntimeError(f"DDP: the weights of rank {self.dist.rank} differ from rank 0's")

    def lr(self) -> float:
        return self.opt_G.param_groups[0]["lr"]


def loss_dict(losses: torch.Tensor) -> dict[str, float]:
    """The five losses of one step (train_step's tensor) as floats: a host read, so a sync on a GPU."""
    return dict(zip(LOSS_NAMES, losses.tolist(), strict=True))


def check_finite(rows: torch.Tensor, steps: list[str]) -> None:
    """NonFiniteLossError naming the first of `steps` (labels) whose losses (a (len(steps), 5) host tensor) are not
    finite, and which of them."""
    bad = (~torch.isfinite(rows)).any(dim=1)
    if bad.any():
        i = int(bad.nonzero()[0, 0])
        values = loss_dict(rows[i])
        bad_values = {k: v for k, v in values.items() if not math.isfinite(v)}
        nets = {"G_": "generator", "D_": "discriminator"}
        what = " and ".join(dict.fromkeys(nets[k[:2]] for k in bad_values))
        raise NonFiniteLossError(f"non-finite {what} loss {bad_values} at {steps[i]}; the update was not applied")


class LossLog:
    """The losses of the steps since the last read, kept on the device: `read` copies them to the host in one go
    (one wait for the GPU per read, not per step) and raises NonFiniteLossError for a step whose loss was not finite."""

    def __init__(self) -> None:
        self._losses: list[torch.Tensor] = []
        self._meta: list[dict] = []

    def __len__(self) -> int:
        return len(self._losses)

    def add(self, losses: torch.Tensor, **meta) -> None:
        """One step's (5,) losses from train_step and what to log beside them (its `step` at least)."""
        self._losses.append(losses)
        self._meta.append(meta)

    def read(self) -> list[tuple[dict, dict[str, float]]]:
        """(meta, losses) of every step added since the last read, oldest first; the log is empty afterwards."""
        if not self._losses:
            return []
        rows = torch.stack(self._losses).cpu()  # (steps, 5): the one host sync
        meta, self._losses, self._meta = self._meta, [], []
        check_finite(rows, [_label(m) for m in meta])
        return [(m, loss_dict(r)) for m, r in zip(meta, rows, strict=True)]


def _label(meta: dict) -> str:
    where = f" (epoch {meta['epoch']}, iteration {meta['iteration']})" if "epoch" in meta else ""
    return f"step {meta['step']}{where}"
