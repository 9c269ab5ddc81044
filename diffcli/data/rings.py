"""Two concentric rings of radius 1 and 2, equal mass."""

import jax
import jax.numpy as jnp

from diffcli.data.base import DATASETS, Dataset, noise_level


@DATASETS.register("rings")
def rings(noise: float | None = None) -> Dataset:
    noise = noise_level(noise, 0.05)

    def sample(key: jax.Array, n: int) -> jax.Array:
        kt, kr, kn = jax.random.split(key, 3)
        th = jax.random.uniform(kt, (n,), maxval=2 * jnp.pi)
        r = jnp.where(jax.random.bernoulli(kr, 0.5, (n,)), 1.0, 2.0)[:, None]
        x = r * jnp.stack([jnp.cos(th), jnp.sin(th)], -1)
        return x + noise * jax.random.normal(kn, (n, 2))

    return Dataset("rings", (2,), sample)
