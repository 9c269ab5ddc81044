"""Eight Gaussians on a circle of radius 2 (std = noise, default 0.1); the label is the component."""

import jax
import jax.numpy as jnp

from diffcli.data.base import DATASETS, Dataset, noise_level


@DATASETS.register("8gaussians")
def gaussians8(noise: float | None = None) -> Dataset:
    noise = noise_level(noise, 0.1)

    def labelled(key: jax.Array, n: int) -> tuple[jax.Array, jax.Array]:
        kc, kn = jax.random.split(key)
        c = jax.random.randint(kc, (n,), 0, 8)
        th = c * (jnp.pi / 4)
        x = 2.0 * jnp.stack([jnp.cos(th), jnp.sin(th)], -1)
        return x + noise * jax.random.normal(kn, (n, 2)), c.astype(jnp.int32)

    return Dataset("8gaussians", (2,), lambda key, n: labelled(key, n)[0], n_classes=8, labelled=labelled)
