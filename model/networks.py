"""CycleGAN networks: the ResNet generator and the 70x70 PatchGAN discriminator (no I/O, no training)."""

from __future__ import annotations

from typing import Annotated, Literal

import torch
from pydantic import Field
from torch import nn

from core.errors import Model
from core.settings import Int

Upsample = Literal["deconv", "resize"]
UPSAMPLES: tuple[str, ...] = Upsample.__args__
Output = Literal["image", "masked"]
OUTPUTS: tuple[str, ...] = Output.__args__


Channels = Literal[1, 3]


class NetConfig(Model):
    """Architecture of both generators (ResNet, `n_blocks`, `ngf`, how they upsample) and both discriminators
    (PatchGAN). `upsample`: "deconv" (the paper's stride-2 transposed convolutions) or "resize" (nearest-neighbour
    upsampling then a 3x3 convolution: no checkerboard by construction, the same parameter count). `output`: "image"
    (the paper's tanh image) or "masked" (the last convolution also gives a mask m, and the output is
    m * tanh(content) + (1 - m) * input: where m is 0 the input passes through unchanged)."""

    in_channels: Channels = 3
    out_channels: Channels = 3
    ngf: Annotated[Int, Field(ge=4)] = 64
    n_blocks: Annotated[Int, Field(ge=1, le=32)] = 9
    ndf: Annotated[Int, Field(ge=4)] = 64
    n_layers_d: Annotated[Int, Field(ge=1, le=6)] = 3
    upsample: Upsample = "deconv"
    output: Output = "image"

    def to_dict(self) -> dict[str, int | str]:
        """Plain dict (stored in checkpoints, which load with weights_only=True)."""
        return self.model_dump()


DEFAULT_NET = NetConfig()


def _norm(channels: int) -> nn.InstanceNorm2d:
    return nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)


class ResnetBlock(nn.Module):
    """x + conv_block(x): reflect-pad, conv3x3, IN, ReLU, reflect-pad, conv3x3, IN."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(dim, dim, 3, bias=True),
            _norm(dim),
            nn.ReLU(True),
            nn.ReflectionPad2d(1),
            nn.Conv2d(dim, dim, 3, bias=True),
            _norm(dim),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv_block(x)


class ResizeConv(nn.Module):
    """x2 nearest-neighbour upsampling, then a 3x3 convolution (reflect padding): every output pixel gets the same
    number of kernel taps, so no stride-periodic checkerboard (Odena et al. 2016)."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.conv = nn.Conv2d(in_channels, out_channels, 3, padding=1, padding_mode="reflect", bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, C, H, W) -> (N, C_out, 2H, 2W)
        return self.conv(self.up(x))


def _upsampler(cfg: NetConfig, c_in: int, c_out: int) -> nn.Module:
    if cfg.upsample == "resize":
        return ResizeConv(c_in, c_out)
    return nn.ConvTranspose2d(c_in, c_out, 3, 2, padding=1, output_padding=1, bias=True)


class ResnetGenerator(nn.Module):
    """c7s1-ngf, d(2ngf), d(4ngf), n_blocks x R(4ngf), u(2ngf), u(ngf), c7s1-out, tanh.

    Layer order and names (`model.<i>`, `model.<10+k>.conv_block.<j>`) match the public implementations'
    state_dicts, so their generator files load unchanged (upsample="deconv", output="image"; "resize" puts a
    ResizeConv at the transposed convolutions' places, `model.<i>.conv.weight`; "masked" gives the last convolution
    one more output channel, the mask's logit, and an Identity where the Tanh was: `compose` finishes the output).
    Input sides must be multiples of 4, at least 8.
    """

    def __init__(self, cfg: NetConfig = DEFAULT_NET) -> None:
        super().__init__()
        self.cfg = cfg
        ngf = cfg.ngf
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(3),
            nn.Conv2d(cfg.in_channels, ngf, 7, bias=True),
            _norm(ngf),
            nn.ReLU(True),
        ]
        for mult in (1, 2):
            layers += [nn.Conv2d(ngf * mult, ngf * mult * 2, 3, stride=2, padding=1, bias=True)]
            layers += [_norm(ngf * mult * 2), nn.ReLU(True)]
        layers += [ResnetBlock(ngf * 4) for _ in range(cfg.n_blocks)]
        for mult in (4, 2):
            layers += [_upsampler(cfg, ngf * mult, ngf * mult // 2), _norm(ngf * mult // 2), nn.ReLU(True)]
        masked = cfg.output == "masked"
        last = nn.Conv2d(ngf, cfg.out_channels + masked, 7, bias=True)
        layers += [nn.ReflectionPad2d(3), last, nn.Identity() if masked else nn.Tanh()]
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, C, H, W) in [-1, 1] -> same shape
        return self.compose(self.model(x), x)

    def compose(self, raw: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """The output from the last layer's `raw` map and the input `x`: `raw` itself for "image"; for "masked",
        m * tanh(content) + (1 - m) * x with m = sigmoid(raw's last channel). Pointwise, so tiling applies it too."""
        if self.cfg.output == "image":
            return raw
        content, logit = raw[:, :-1], raw[:, -1:]  # (N, C, H, W), (N, 1, H, W)
        m = torch.sigmoid(logit)
        return m * torch.tanh(content) + (1 - m) * x.to(raw.dtype)

    def mask(self, x: torch.Tensor) -> torch.Tensor:
        """The mask m (N, 1, H, W) of a "masked" generator: where it changes the input."""
        return torch.sigmoid(self.model(x)[:, -1:])


class PatchDiscriminator(nn.Module):
    """70x70 PatchGAN (n_layers_d=3): one real/fake score per overlapping patch, a (N, 1, h, w) map."""

    def __init__(self, cfg: NetConfig = DEFAULT_NET) -> None:
        super().__init__()
        ndf = cfg.ndf
        layers: list[nn.Module] = [nn.Conv2d(cfg.out_channels, ndf, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        mult = 1
        for n in range(1, cfg.n_layers_d + 1):
            prev, mult = mult, min(2**n, 8)
            stride = 2 if n < cfg.n_layers_d else 1
            layers += [nn.Conv2d(ndf * prev, ndf * mult, 4, stride, 1, bias=True), _norm(ndf * mult)]
            layers += [nn.LeakyReLU(0.2, True)]
        layers += [nn.Conv2d(ndf * mult, 1, 4, 1, 1)]
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, C, H, W) -> (N, 1, h, w) patch scores
        return self.model(x)


def init_weights(net: nn.Module, gain: float = 0.02) -> nn.Module:
    """The paper's init: conv weights ~ N(0, gain), biases 0."""
    for m in net.modules():
        if isinstance(m, nn.Conv2d | nn.ConvTranspose2d):  # ResizeConv's conv included
            nn.init.normal_(m.weight, 0.0, gain)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return net


def count_parameters(net: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in net.parameters() if p.requires_grad)


class CycleGAN(nn.Module):
    """The four networks of one CycleGAN: G_AB (A->B), G_BA (B->A), D_A (judges A), D_B (judges B)."""

    def __init__(self, cfg: NetConfig = DEFAULT_NET) -> None:
        super().__init__()
        self.cfg = cfg
        self.G_AB = init_weights(ResnetGenerator(cfg))
        self.G_BA = init_weights(ResnetGenerator(cfg))
        self.D_A = init_weights(PatchDiscriminator(cfg))
        self.D_B = init_weights(PatchDiscriminator(cfg))
