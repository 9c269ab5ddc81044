"""ODE samplers on an analytic vector field that counts its own calls.

The "network" is f(t, x) = a·x + b·sin(w·t) with params {a, b, w} (runtime arguments, so one
compiled program serves every field). Each call runs a jax.debug.callback that increments a
Python counter: the count is the true number of network evaluations of a solve.

With b = 0 the flow is linear and exact: x(t0) = x(t1)·exp(a·(t0 − t1)).
Compiled samplers are cached for the session, keyed by (solver, steps or adaptive, max_steps).
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import pytest

N, DIM = 16, 2


class Counter:
    def __init__(self):
        self.calls = 0

    def bump(self):
        self.calls += 1


COUNTER = Counter()


def counting_apply(params):
    def f(t, x):
        jax.debug.callback(COUNTER.bump)
        return params["a"] * x + params["b"] * jnp.sin(params["w"] * t)[:, None]

    return f


def field_params(a: float, b: float = 0.0, w: float = 0.0) -> dict:
    return {"a": jnp.float32(a), "b": jnp.float32(b), "w": jnp.float32(w)}


@dataclass
class Solve:
    result: object  # SampleResult
    calls: int  # counted network evaluations
    exact: np.ndarray | None  # exact x(t0) when the field is linear (b = 0)


class OdeBench:
    def __init__(self):
        from diffcli.processes import get_process

        self.process = get_process("rf", source="gaussian")
        self._samplers = {}

    def sampler(self, solver: str, steps: int | None = None, max_steps: int = 4096):
        from diffcli.sampling.driver import make_sampler
        from diffcli.sampling.plan import make_plan

        key = (solver, steps, max_steps)
        if key not in self._samplers:
            plan = make_plan(solver, steps, None, None, max_steps=max_steps, grid="uniform") if steps else \
                make_plan(solver, rtol=1e-3, atol=1e-3, max_steps=max_steps)
            self._samplers[key] = make_sampler(self.process, counting_apply, plan, N, (DIM,))
        return self._samplers[key]

    def exact(self, a: float, seed: int) -> np.ndarray:
        x1 = np.asarray(self.process.prior_sample(jax.random.key(seed), (N, DIM)), dtype=np.float64)
        return x1 * np.exp(a * (self.process.t0 - self.process.t1))

    def solve(self, solver: str, steps: int | None = None, *, a: float = 1.0, b: float = 0.0, w: float = 0.0,
              tol: float | None = None, seed: int = 0, max_steps: int = 4096) -> Solve:
        s = self.sampler(solver, steps, max_steps)
        jax.effects_barrier()
        COUNTER.calls = 0
        r = s(field_params(a, b, w), seed, tol, tol)
        jax.effects_barrier()  # every debug callback has run
        return Solve(r, COUNTER.calls, self.exact(a, seed) if b == 0 else None)


@pytest.fixture(scope="session")
def ode_bench() -> OdeBench:
    return OdeBench()
