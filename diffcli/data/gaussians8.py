"""Eight Gaussians on a circle of radius 2 (std = noise, default 0.1)."""

import jax
import jax.numpy as jnp

from diffcli.data.base import DATASETS, Dataset, noise_level


@DATASETS.register("8gaussians")
def gaussians8(noise: float | None = None) -> Dataset:
    noise = noise_level(noise, 0.1)

    def sample(key: jax.Array, n: int) -> jax.Array:
        kc, kn = jax.random.split(key)
        th = jax.random.randint(kc, (n,), 0, 8) * (jnp.pi / 4)
        x = 2.0 * jnp.stack([jnp.cos(th), jnp.sin(th)], -1)
        return x + noise * jax.random.normal(kn, (n, 2))

    return Dataset("8gaussians", (2,), sample)
