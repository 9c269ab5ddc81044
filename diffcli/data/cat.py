"""The parametric cat (shared/reference/cat.md): a 30-term Fourier curve, /200, plus noise."""

from __future__ import annotations

from fractions import Fraction
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from diffcli.data.base import DATASETS, Dataset, noise_level

_A = "-721/4 196/3 -86/3 -131/2 477/14 27 -29/2 68/5 1/10 23/4 0 -19/2 -85/21 2/3 27/5 7/4 17/9 -4 -1/2 1/6 6/7 -1/8 1/3 3/2 13/5 1 -2 3/5 -1/5 1/5"
_B = "2337/8 -43/5 322/5 -117/5 -26/5 -23/3 143/4 -11/4 -31/3 -13/4 -9/2 41/20 8 2/3 6 17/4 -3/2 -29/10 11/6 12/5 3/2 11/12 -4/5 1 17/8 -7/2 -5/6 -11/10 1/2 -1/5"
_C = "-637/2 -188/5 -11/7 -12/5 11/3 -37/4 8/3 65/6 -32/5 -41/4 -38/3 -47/8 5/4 -41/7 -7/3 -13/7 17/4 -9/4 8/9 3/5 -2/5 4/3 1/3 3/5 -3/5 6/5 -1/5 10/9 1/3 -3/4"
_D = "-125/2 -521/9 -359/3 47/3 -33/2 -5/4 31/8 9/10 -119/4 -17/2 22/3 15/4 -5/2 19/6 7/4 31/4 -1 11/10 -2/3 13/3 -5/4 2/3 1/4 5/6 0 3/4 -1/2 -1/10 -1/3 -1/19"


def _coeffs(text: str) -> np.ndarray:
    return np.array([float(Fraction(v)) for v in text.split()], dtype=np.float64)


# (4, 30) float64: rows a, b, c, d for k = 1..30.
COEFFS = np.stack([_coeffs(_A), _coeffs(_B), _coeffs(_C), _coeffs(_D)])
SCALE = 200.0
DEFAULT_NOISE = 0.05


def curve_np(s: np.ndarray) -> np.ndarray:
    """The noiseless curve in float64 NumPy: s shape (n,) in [0, 2π) -> (n, 2), already /200."""
    ks = np.arange(1, 31, dtype=np.float64)
    sin, cos = np.sin(np.outer(s, ks)), np.cos(np.outer(s, ks))
    a, b, c, d = COEFFS
    return np.stack([sin @ a + cos @ b, sin @ c + cos @ d], axis=-1) / SCALE


def _curve(s: jax.Array) -> jax.Array:
    """The noiseless curve in JAX (float64 when traced under the x64 context)."""
    ph = s[:, None] * jnp.arange(1, 31, dtype=s.dtype)[None, :]
    sin, cos = jnp.sin(ph), jnp.cos(ph)
    a, b, c, d = (jnp.asarray(r, dtype=s.dtype) for r in COEFFS)
    return jnp.stack([sin @ a + cos @ b, sin @ c + cos @ d], axis=-1) / SCALE


@partial(jax.jit, static_argnums=1)
def _draw(key: jax.Array, n: int) -> tuple[jax.Array, jax.Array]:
    kb, kn = jax.random.split(key)
    return jax.random.bits(kb, (n, 2), dtype=jnp.uint32), jax.random.normal(kn, (n, 2), dtype=jnp.float32)


@jax.jit
def _points(bits: jax.Array, eps: jax.Array, noise) -> jax.Array:
    """Under the x64 context: the curve at the 53-bit parameter the bits make, plus noise·eps."""
    hi = (bits[:, 0] >> 6).astype(jnp.float64)  # 26 bits
    lo = (bits[:, 1] >> 5).astype(jnp.float64)  # 27 bits
    s = (hi * 2.0**27 + lo) * (2 * np.pi / 2.0**53)
    xy = _curve(s) + jnp.asarray(noise, jnp.float64) * eps.astype(jnp.float64)
    return xy.astype(jnp.float32)


@DATASETS.register("cat")
def cat(noise: float | None = None) -> Dataset:
    noise = noise_level(noise, DEFAULT_NOISE)

    def sample(key: jax.Array, n: int) -> jax.Array:
        # JAX's samplers cannot run inside the x64 context, so draw raw bits here and build
        # a 53-bit uniform parameter from them (as NumPy does), then evaluate the curve in
        # float64 as the reference does; the network sees float32. Outside a trace each half is
        # one compiled program (eager, the ops cost a dispatch each: 0.24 s for a draw).
        bits, eps = _draw(key, n)
        with jax.enable_x64(True):
            return _points(bits, eps, noise)

    return Dataset("cat", (2,), sample, mmd_sigma=MMD_SIGMA)


MMD_SIGMA = 0.5  # the reference benchmark's kernel bandwidth, part of its definition
