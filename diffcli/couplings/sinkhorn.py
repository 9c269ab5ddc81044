"""Entropic minibatch optimal transport: pairs drawn from each block's Sinkhorn plan.

ott-jax's Sinkhorn solves min <P, C> − ε·H(P) with uniform marginals, ε = `coupling_epsilon` ×
the block's mean cost (so ε is free of the data's scale). Each x0_i then takes x1_j with
j ~ P[i, :] / P[i, :].sum(): x0's marginal is kept exactly, x1's up to Sinkhorn's tolerance.
ε → 0 tends to the exact OT pairs, ε → ∞ to independent ones. Cost per iteration grows as b².
"""

import jax
import jax.numpy as jnp

from diffcli.couplings.base import COUPLINGS, Coupling

MAX_ITERATIONS = 500  # Sinkhorn iterations per block; it stops earlier at its default threshold


def match(key: jax.Array, x0: jax.Array, x1: jax.Array, epsilon: float) -> jax.Array:
    from ott.geometry import pointcloud
    from ott.solvers import linear

    geom = pointcloud.PointCloud(x0, x1, epsilon=epsilon, relative_epsilon="mean")
    plan = linear.solve(geom, max_iterations=MAX_ITERATIONS).matrix
    j = jax.random.categorical(key, jnp.log(jnp.maximum(plan, 1e-30)), axis=1)
    return x1[j]


COUPLINGS.register("sinkhorn")(Coupling(
    "sinkhorn", "entropic OT within each block (Sinkhorn, ott-jax; coupling_epsilon × mean cost)", match,
    uses_epsilon=True,
))
