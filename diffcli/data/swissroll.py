"""A 2-D swiss roll: the spiral (t cos t, t sin t)/5, t in [1.5π, 4.5π]."""

import jax
import jax.numpy as jnp

from diffcli.data.base import DATASETS, Dataset, noise_level


@DATASETS.register("swissroll")
def swissroll(noise: float | None = None) -> Dataset:
    noise = noise_level(noise, 0.05)

    def sample(key: jax.Array, n: int) -> jax.Array:
        kt, kn = jax.random.split(key)
        t = 1.5 * jnp.pi * (1.0 + 2.0 * jax.random.uniform(kt, (n,)))
        x = jnp.stack([t * jnp.cos(t), t * jnp.sin(t)], -1) / 5.0
        return x + noise * jax.random.normal(kn, (n, 2))

    return Dataset("swissroll", (2,), sample)
