"""Generative networks for images: a variational autoencoder and a DCGAN, each one layer.

Each is a whole network in one layer (as PatchCore is) whose `forward(x)` gives every
sample's two losses, (N, 2): the loss the run reports first and the second number it
tracks (VAE: the whole loss, reconstruction + KL, and the KL; DCGAN: the generator's and
the discriminator's loss). `generate(z)` turns latent points (N, L) into images
(N, C, H, W) in [0, 1]; the generate task (`training.tasks_generate`) trains them and
draws their samples. Images are expected with pixels in [0, 1] (the presets keep them so).
"""

from __future__ import annotations

from typing import ClassVar

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import nn

from lernwerk.models.registry import (
    BuildContext,
    Built,
    LayerMisfit,
    LayerType,
    Shape,
    _Params,
    fmt_shape,
    register,
)

VAE_OUTPUT = "vae"  # the output activation that says: the outputs are a VAE's losses
GAN_OUTPUT = "gan"  # ... a GAN's generator and discriminator losses


class GenerativeModule(nn.Module):
    """What the generate task needs of a generative network."""

    latent_dims: int
    image_shape: tuple[int, int, int]
    loss_names: ClassVar[tuple[str, str]] = ("loss", "score")
    steps_itself: ClassVar[bool] = False  # True: `step` does its own optimisation step

    def generate(self, z: torch.Tensor) -> torch.Tensor:
        """(N, L) latent points -> (N, C, H, W) images in [0, 1]."""
        raise NotImplementedError

    def encode(self, x: torch.Tensor) -> torch.Tensor | None:
        """(N, C, H, W) images -> (N, L) latent points; None where the network has no encoder."""
        return None

    def parameter_groups(self) -> list[list[nn.Parameter]]:
        """The weights each optimizer steps, in `step`'s order."""
        return [list(self.parameters())]


def _decoder(
    latent: int, c: int, h: int, w: int, width: int, norm: bool, refine: bool = False
) -> nn.Sequential:
    """z (N, L) -> (N, C, H, W) in [0, 1], up from (2*width, H/4, W/4) by two transposed
    convs (`refine`: each followed by a 3x3 convolution, for sharper strokes)."""
    ch, cw = h // 4, w // 4
    layers: list[nn.Module] = [nn.Linear(latent, 2 * width * ch * cw)]
    layers += [nn.BatchNorm1d(2 * width * ch * cw)] if norm else []
    layers += [nn.ReLU(), nn.Unflatten(1, (2 * width, ch, cw))]
    layers += [nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1)]
    layers += [nn.BatchNorm2d(width)] if norm else []
    layers += [nn.ReLU()]
    layers += [nn.Conv2d(width, width, 3, padding=1), nn.ReLU()] if refine else []
    layers += [nn.ConvTranspose2d(width, width if refine else c, 4, stride=2, padding=1)]
    layers += [nn.ReLU(), nn.Conv2d(width, c, 3, padding=1)] if refine else []
    return nn.Sequential(*layers, nn.Sigmoid())


def _encoder(c: int, h: int, w: int, width: int, out: int, norm: bool) -> nn.Sequential:
    """(N, C, H, W) -> (N, out), down by two stride-2 convs."""
    layers: list[nn.Module] = [nn.Conv2d(c, width, 4, stride=2, padding=1), nn.LeakyReLU(0.2)]
    layers += [nn.Conv2d(width, 2 * width, 4, stride=2, padding=1)]
    layers += [nn.BatchNorm2d(2 * width)] if norm else []
    layers += [nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(2 * width * (h // 4) * (w // 4), out)]
    return nn.Sequential(*layers)


class VAEModule(GenerativeModule):
    """Encoder to a Gaussian over L latent dims, decoder back to pixels; the loss per
    sample is the pixels' binary cross-entropy (summed) plus the KL to N(0, 1)."""

    loss_names = ("loss", "kl")

    def __init__(self, shape: tuple[int, int, int], latent_dims: int, width: int) -> None:
        super().__init__()
        c, h, w = shape
        self.latent_dims, self.image_shape = latent_dims, shape
        self.encoder = _encoder(c, h, w, width, 2 * latent_dims, norm=False)
        self.decoder = _decoder(latent_dims, c, h, w, width, norm=False, refine=True)

    def _posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.encoder(x).float().chunk(2, dim=1)  # (N, L) each
        return mu, logvar.clamp(-10, 10)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self._posterior(x)[0]

    def generate(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z).float()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mu, logvar = self._posterior(x)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp() if self.training else mu
        rebuilt = self.decoder(z).float().clamp(1e-6, 1 - 1e-6)  # (N, C, H, W)
        target = x.float().clamp(0, 1)
        recon = F.binary_cross_entropy(rebuilt, target, reduction="none").flatten(1).sum(1)
        kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)  # (N,)
        return torch.stack([recon + kl, kl], dim=1)  # (N, 2)


class DCGANModule(GenerativeModule):
    """A generator from L latent dims and a discriminator, trained in turns (`step`): the
    discriminator on real against generated images, then the generator to fool it."""

    loss_names = ("generator_loss", "discriminator_loss")
    steps_itself = True

    def __init__(self, shape: tuple[int, int, int], latent_dims: int, width: int) -> None:
        super().__init__()
        c, h, w = shape
        self.latent_dims, self.image_shape = latent_dims, shape
        self.generator = _decoder(latent_dims, c, h, w, width, norm=True)
        self.discriminator = _encoder(c, h, w, width, 1, norm=True)

    def generate(self, z: torch.Tensor) -> torch.Tensor:
        return self.generator(z).float()

    def parameter_groups(self) -> list[list[nn.Parameter]]:
        return [list(self.generator.parameters()), list(self.discriminator.parameters())]

    def _losses(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Per sample: the discriminator's loss on real and on fake, the generator's."""
        z = torch.randn(len(x), self.latent_dims, device=x.device)
        fake = self.generator(z)
        real_logit = self.discriminator(x)[:, 0].float()
        fake_logit = self.discriminator(fake.detach())[:, 0].float()
        ones, zeros = torch.ones_like(real_logit), torch.zeros_like(real_logit)
        d = F.binary_cross_entropy_with_logits(real_logit, ones, reduction="none")
        d = d + F.binary_cross_entropy_with_logits(fake_logit, zeros, reduction="none")
        g_logit = self.discriminator(fake)[:, 0].float()
        g = F.binary_cross_entropy_with_logits(g_logit, ones, reduction="none")
        return d, g, fake

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        d, g, _ = self._losses(x)
        return torch.stack([g, d], dim=1)  # (N, 2)

    def step(self, x: torch.Tensor, optimizers: list[torch.optim.Optimizer]) -> torch.Tensor:
        """One discriminator step, then one generator step; (N, 2) the losses, detached."""
        g_opt, d_opt = optimizers
        z = torch.randn(len(x), self.latent_dims, device=x.device)
        fake = self.generator(z)
        real_logit = self.discriminator(x)[:, 0].float()
        fake_logit = self.discriminator(fake.detach())[:, 0].float()
        d = F.binary_cross_entropy_with_logits(
            real_logit, torch.full_like(real_logit, 0.9), reduction="none"
        ) + F.binary_cross_entropy_with_logits(
            fake_logit, torch.zeros_like(fake_logit), reduction="none"
        )
        d_opt.zero_grad(set_to_none=True)
        d.mean().backward()
        d_opt.step()
        g_logit = self.discriminator(fake)[:, 0].float()
        g = F.binary_cross_entropy_with_logits(g_logit, torch.ones_like(g_logit), reduction="none")
        g_opt.zero_grad(set_to_none=True)
        g.mean().backward()
        g_opt.step()
        return torch.stack([g.detach(), d.detach()], dim=1)


class _GenerativeParams(_Params):
    latent_dims: int = Field(16, ge=2, le=512, description="dimensions of the latent space")
    width: int = Field(32, ge=4, le=512, description="channels of the first convolution")


def _image_shape(shape: Shape, name: str, ctx: BuildContext) -> tuple[int, int, int]:
    if len(shape) != 3 or shape[1] % 4 or shape[2] % 4:
        raise LayerMisfit(
            f"{name} needs images whose height and width divide by 4 (C×H×W); "
            f"got {fmt_shape(shape)}"
        )
    if not ctx.is_last:
        raise LayerMisfit(f"{name} is a whole generative network: it must be the last layer")
    return int(shape[0]), int(shape[1]), int(shape[2])


def _conv_flops(c: int, h: int, w: int, width: int, latent: int) -> int:
    """Rough multiply-adds per sample of one encoder or decoder, times two."""
    ch, cw = h // 4, w // 4
    convs = 16 * (c * width * (h // 2) * (w // 2) + width * 2 * width * ch * cw)
    return 2 * (convs + latent * 2 * width * ch * cw)


@register
class VAE(LayerType):
    name = "VAE"
    Params = _GenerativeParams
    description = (
        "variational autoencoder for images: encoder, latent Gaussian, decoder; "
        "trains with --task generate"
    )

    def build(self, p: _GenerativeParams, shape: Shape, ctx: BuildContext) -> Built:
        c, h, w = _image_shape(shape, self.name, ctx)
        ctx.output_activation = VAE_OUTPUT
        module = VAEModule((c, h, w), p.latent_dims, p.width)
        return Built(module, (2,), 2 * _conv_flops(c, h, w, p.width, p.latent_dims))


@register
class DCGAN(LayerType):
    name = "DCGAN"
    Params = _GenerativeParams
    description = (
        "deep convolutional GAN for images: a generator and a discriminator trained "
        "against each other; trains with --task generate"
    )

    def build(self, p: _GenerativeParams, shape: Shape, ctx: BuildContext) -> Built:
        c, h, w = _image_shape(shape, self.name, ctx)
        ctx.output_activation = GAN_OUTPUT
        module = DCGANModule((c, h, w), p.latent_dims, p.width)
        return Built(module, (2,), 3 * _conv_flops(c, h, w, p.width, p.latent_dims))


def generative_module(model: nn.Module) -> GenerativeModule | None:
    """The generative network inside a built network, or None."""
    return next((m for m in model.modules() if isinstance(m, GenerativeModule)), None)
