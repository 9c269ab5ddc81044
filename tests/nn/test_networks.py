"""Every registered network: the shapes it takes, its options, and a few training steps on
images of shape (8, 8, 1) through the whole pipeline (train, sample, score, likelihood, plot)
for every network that takes images."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from diffcli import config as C
from diffcli.errors import DiffcliError
from diffcli.nn.base import NETWORKS, build_network

SHAPES = [(2,), (5,), (8, 8, 1), (4, 4, 3)]  # points, and images (H, W, C)


def built(name: str, shape) -> nnx.Module | None:
    """The network for points of `shape` at its default options, or None when it refuses them
    (with a one-line error)."""
    try:
        return build_network(name, {}, shape, nnx.Rngs(0))
    except DiffcliError as e:
        assert "\n" not in str(e)
        return None


@pytest.mark.parametrize("name", NETWORKS.names())
def test_every_network_maps_points_to_their_own_shape(name):
    took = 0
    for shape in SHAPES:
        net = built(name, shape)
        if net is None:
            continue
        took += 1
        x = jax.random.normal(jax.random.key(0), (5, *shape))
        g, p = nnx.split(net)
        call = jax.jit(lambda p, t, x, g=g: nnx.merge(g, p)(t, x))  # one compile, not op by op
        y0, y1 = call(p, jnp.zeros(5), x), call(p, jnp.full(5, 0.7), x)
        assert y0.shape == x.shape and y0.dtype == jnp.float32 and bool(jnp.isfinite(y0).all())
        assert not np.allclose(y0, y1), "the output does not depend on t"
    assert took, f"network {name!r} takes none of the shapes {SHAPES}"


@pytest.mark.parametrize("name", NETWORKS.names())
def test_every_network_refuses_an_option_it_does_not_take(name):
    accepted = list(NETWORKS.options(name))
    with pytest.raises(DiffcliError, match=f"network '{name}' takes no option network.bogus; it accepts: "
                                           + ", ".join(f"network.{k}" for k in accepted)):
        build_network(name, {"bogus": 1}, (2,), nnx.Rngs(0))


def takes(name: str, shape) -> bool:
    """Whether the network takes points of `shape`, found without initialising it (nnx.eval_shape:
    an eager init compiles a program per parameter shape, seconds for a U-Net, at every collection
    of this module); a network whose __init__ computes on concrete values is built for real."""
    try:
        nnx.eval_shape(lambda: build_network(name, {}, shape, nnx.Rngs(0)))
    except jax.errors.JAXTypeError:  # a tracer where it wants a concrete value
        return built(name, shape) is not None
    except DiffcliError as e:
        assert "\n" not in str(e)
        return False
    return True


IMAGE_NETS = [n for n in NETWORKS.names() if takes(n, (8, 8, 1))]


def blobs(n: int, seed: int = 0) -> np.ndarray:
    """n images (8, 8, 1) of one Gaussian blob at a random place, in [-1, 1]."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:8, 0:8]
    c = rng.uniform(1.5, 5.5, size=(n, 2))
    img = np.exp(-((yy - c[:, :1, None]) ** 2 + (xx - c[:, 1:, None]) ** 2) / 3.0)
    return (2 * img - 1)[..., None].astype(np.float32)


@pytest.mark.parametrize("name", IMAGE_NETS)
def test_a_few_training_steps_on_images_through_the_pipeline(name, tmp_path):
    from diffcli.likelihood import likelihood_run
    from diffcli.plot import N_IMAGES, PLOT_SEED, PLOT_STEPS, plot_run
    from diffcli.sampling.api import plan_for, sample_run
    from diffcli.training.api import train_run
    from diffcli.training.loop import load_losses
    from diffcli.training.restore import load_run

    np.save(tmp_path / "blobs.npy", blobs(256))
    cfg = C.from_dict({"data": {"name": str(tmp_path / "blobs.npy")}, "network": {"name": name},
                       "train": {"steps": 40, "batch": 32, "chunk": 10, "lr": 3e-3, "warmup": 0, "schedule": "constant"},
                       "sample": {"n": 16}})
    run_dir, summary = train_run(cfg, tmp_path / "runs", "img")
    losses = load_losses(run_dir)[:, 1]
    assert np.isfinite(losses).all() and losses[-1] < losses[0], losses

    # Sampled as `plot` samples when told nothing (its solver, steps, n and seed, every trajectory),
    # so that the plot below draws these samples instead of compiling a second sampler.
    n, plan = N_IMAGES**2, plan_for(load_run(run_dir)[1], None, PLOT_STEPS)
    _, scored, floor, path, _ = sample_run(run_dir, plan, n, PLOT_SEED, trajectories=n, metrics=["cd", "mmd2", "sw"])
    assert np.load(path).shape == (n, 8, 8, 1) and scored.result.trajectories.shape[2:] == (8, 8, 1)
    assert set(scored.scores) == {"cd", "mmd2", "sw"} and all(np.isfinite(v) for v in scored.scores.values())

    _, nll, _ = likelihood_run(run_dir, n=4, rtol=1e-1, atol=1e-1, exact=False)
    assert not nll.exact and np.isfinite(nll.nats_per_dim)

    made, _ = plot_run(run_dir)
    assert {p.name for p in made} >= {"samples.png", "trajectories.png", "flow.gif", "loss.png"}
