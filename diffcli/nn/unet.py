"""A small convolutional U-Net for images (n, H, W, C), in the style of Ho et al. (2020).

Each resolution has one residual block (GroupNorm → act → 3×3 conv, the time embedding added
per channel, GroupNorm → act → 3×3 conv, plus a skip); a strided 3×3 conv halves the resolution
between levels, nearest-neighbour upsampling and a 3×3 conv double it on the way back, and the
decoder's blocks see the encoder's output at the same resolution concatenated to their input.
The time embedding is the sinusoidal features of raw t through a two-layer MLP (plus the label's
embedding in a conditional network). `channels`
gives the width per resolution, so H and W must be divisible by 2^(len(channels) − 1).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from flax import nnx

from diffcli.errors import DiffcliError
from diffcli.nn.base import NETWORKS, LabelEmbedding, activation_fn, add_label, positive, time_features


class ResBlock(nnx.Module):
    def __init__(self, c_in: int, c_out: int, emb: int, groups: int, act, rngs: nnx.Rngs):
        self.act = act
        self.norm1 = nnx.GroupNorm(c_in, num_groups=math.gcd(groups, c_in), rngs=rngs)
        self.conv1 = nnx.Conv(c_in, c_out, (3, 3), rngs=rngs)
        self.time = nnx.Linear(emb, c_out, rngs=rngs)
        self.norm2 = nnx.GroupNorm(c_out, num_groups=math.gcd(groups, c_out), rngs=rngs)
        self.conv2 = nnx.Conv(c_out, c_out, (3, 3), rngs=rngs)
        self.skip = nnx.Conv(c_in, c_out, (1, 1), rngs=rngs) if c_in != c_out else None

    def __call__(self, h: jax.Array, e: jax.Array) -> jax.Array:
        y = self.conv1(self.act(self.norm1(h)))
        y = y + self.time(self.act(e))[:, None, None, :]
        y = self.conv2(self.act(self.norm2(y)))
        return y + (h if self.skip is None else self.skip(h))


@NETWORKS.register("unet")
class UNet(nnx.Module):
    """A small convolutional U-Net for images (H, W, C) with a sinusoidal time embedding."""

    def __init__(
        self,
        shape: tuple[int, ...],
        *,
        channels: list[int] = (32, 64),
        n_freqs: int = 16,
        groups: int = 8,
        activation: str = "silu",
        rngs: nnx.Rngs,
        n_classes: int = 0,
    ):
        channels = tuple(channels)
        if len(shape) != 3:
            raise DiffcliError(f"network 'unet' needs images of shape (H, W, C), got points of shape {tuple(shape)}; "
                               "use network 'mlp' for vectors")
        if not channels:
            raise DiffcliError("network.channels must list at least one width, e.g. [32, 64]")
        positive(n_freqs=n_freqs, groups=groups, **{f"channels[{i}]": c for i, c in enumerate(channels)})
        h, w, c = shape
        f = 2 ** (len(channels) - 1)
        if h % f or w % f:
            raise DiffcliError(f"network 'unet' with {len(channels)} levels needs H and W divisible by {f}, "
                               f"got {h}×{w}; use fewer network.channels")
        act = activation_fn(activation)
        emb = 4 * channels[0]
        self.act, self.n_freqs = act, n_freqs
        self.time1 = nnx.Linear(2 * n_freqs, emb, rngs=rngs)
        self.time2 = nnx.Linear(emb, emb, rngs=rngs)
        self.inp = nnx.Conv(c, channels[0], (3, 3), rngs=rngs)
        self.down = nnx.List([ResBlock(ch, ch, emb, groups, act, rngs) for ch in channels])
        self.downsample = nnx.List([nnx.Conv(channels[i], channels[i + 1], (3, 3), strides=2, rngs=rngs)
                                    for i in range(len(channels) - 1)])
        self.mid = ResBlock(channels[-1], channels[-1], emb, groups, act, rngs)
        self.upsample = nnx.List([nnx.Conv(channels[i + 1], channels[i], (3, 3), rngs=rngs)
                                  for i in range(len(channels) - 1)])
        self.up = nnx.List([ResBlock(2 * ch, ch, emb, groups, act, rngs) for ch in channels])
        self.norm = nnx.GroupNorm(channels[0], num_groups=math.gcd(groups, channels[0]), rngs=rngs)
        self.out = nnx.Conv(channels[0], c, (3, 3), rngs=rngs)
        self.label = LabelEmbedding(n_classes, emb, rngs) if n_classes else None

    def __call__(self, t: jax.Array, x: jax.Array, y: jax.Array | None = None) -> jax.Array:
        """t shape (n,), x shape (n, H, W, C), labels y (n,) or None -> (n, H, W, C)."""
        e = add_label(self.time2(self.act(self.time1(time_features(t, self.n_freqs)))), self.label, y)
        h = self.inp(x)
        skips = []
        for i, block in enumerate(self.down):
            h = block(h, e)
            skips.append(h)
            if i < len(self.downsample):
                h = self.downsample[i](h)
        h = self.mid(h, e)
        for i in reversed(range(len(self.up))):
            if i < len(self.upsample):
                h = self.upsample[i](jnp.repeat(jnp.repeat(h, 2, axis=1), 2, axis=2))
            h = self.up[i](jnp.concatenate([h, skips[i]], axis=-1), e)
        return self.out(self.act(self.norm(h)))
