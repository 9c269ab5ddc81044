"""Two interleaving half circles (the classic 'moons'), centred at the origin."""

import jax
import jax.numpy as jnp

from diffcli.data.base import DATASETS, Dataset, noise_level


@DATASETS.register("moons")
def moons(noise: float | None = None) -> Dataset:
    noise = noise_level(noise, 0.05)

    def sample(key: jax.Array, n: int) -> jax.Array:
        kt, kc, kn = jax.random.split(key, 3)
        th = jax.random.uniform(kt, (n,), maxval=jnp.pi)
        upper = jax.random.bernoulli(kc, 0.5, (n,))[:, None]
        outer = jnp.stack([jnp.cos(th), jnp.sin(th)], -1)
        inner = jnp.stack([1.0 - jnp.cos(th), 0.5 - jnp.sin(th)], -1)
        x = jnp.where(upper, outer, inner) - jnp.array([0.5, 0.25])
        return x + noise * jax.random.normal(kn, (n, 2))

    return Dataset("moons", (2,), sample)
