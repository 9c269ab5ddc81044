"""Error norms of adaptive solves over a batch of independent ODEs (n, *shape), by name (--norm)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optimistix as optx


def worst_sample_rms(err) -> jax.Array:
    """The RMS over each sample's numbers, then the worst sample: every sample meets the
    tolerance, not just the batch on average."""
    return jnp.max(jnp.sqrt(jnp.mean(err**2, axis=tuple(range(1, err.ndim)))))


# "rms": diffrax's default, the RMS over every number in the batch (one big ODE).
NORMS = {"max": worst_sample_rms, "rms": optx.rms_norm}
