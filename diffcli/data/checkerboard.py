"""A 4x4 checkerboard on [-2, 2]^2: uniform on the 8 'black' unit squares."""

import jax
import jax.numpy as jnp

from diffcli.data.base import DATASETS, Dataset, noise_level


@DATASETS.register("checkerboard")
def checkerboard(noise: float | None = None) -> Dataset:
    noise = noise_level(noise, 0.02)

    def sample(key: jax.Array, n: int) -> jax.Array:
        ku, kc, kn = jax.random.split(key, 3)
        u = jax.random.uniform(ku, (n, 2))
        cell = jax.random.randint(kc, (n,), 0, 8)  # 8 black cells out of 16
        row = cell // 2
        col = 2 * (cell % 2) + (row % 2)  # alternate which columns are black per row
        x = jnp.stack([col, row], -1).astype(jnp.float32) + u - 2.0
        return x + noise * jax.random.normal(kn, (n, 2))

    return Dataset("checkerboard", (2,), sample)
