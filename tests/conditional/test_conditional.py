"""Class-conditional models and classifier-free guidance (conditioning.py), for every process and network."""

from __future__ import annotations

import copy
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from cases import process_cases
from diffcli.errors import DiffcliError

# A conditional rectified flow on the 8 gaussians, the label being the component.
COND = {
    "data": {"name": "8gaussians"},
    "model": {"process": "rf", "conditional": True},
    "network": {"width": 64, "depth": 2, "n_freqs": 4},
    "train": {"steps": 400, "batch": 256, "lr": 3e-3, "schedule": "constant", "warmup": 0, "chunk": 200, "seed": 0},
    "sample": {"n": 200, "grid": "uniform"},
}


def conditional_setup(process: str = "rf", options: dict | None = None, network: dict | None = None,
                      data: str = "8gaussians"):
    from diffcli import config as C
    from diffcli.training.setup import build

    net = network or {"name": "mlp", "width": 16, "depth": 1, "n_freqs": 4}
    return build(C.from_dict({"data": {"name": data}, "model": {"process": process, "conditional": True, **(options or {})},
                              "network": net, "train": {"batch": 16}}))


def with_random_labels(setup, params, seed: int = 0):
    """params with the label embedding drawn at random (it starts at 0: conditional = unconditional)."""
    from flax import nnx

    model = nnx.merge(setup.graphdef, params)
    emb = model.label.embed.embedding
    emb[...] = jax.random.normal(jax.random.key(seed), emb.shape)
    return nnx.split(model, nnx.Param)[1]


@pytest.fixture(scope="module")
def cond_run(tmp_path_factory):
    from diffcli import config as C
    from diffcli.training.api import train_run

    run_dir, _ = train_run(C.from_dict(COND), tmp_path_factory.mktemp("cond"), "cond8")
    from diffcli.training.restore import load_run

    return load_run(run_dir)


# -- guidance is one combination, whatever the parameterisation ---------------------------------
@pytest.mark.parametrize("case, name, opts", process_cases(), ids=[c[0] for c in process_cases()])
def test_guidance_is_the_same_combination_in_every_parameterisation(case, name, opts):
    """(1 + w)·pred(c) − w·pred(∅) in the network's output equals that combination of the
    process's own prediction, and of every quantity it converts to (eps, x0, velocity, score)."""
    from diffcli.conditioning import guided
    from diffcli.processes.base import field

    setup = conditional_setup(name, opts)
    params = with_random_labels(setup, setup.init_state().params)
    net, k, w = setup.labelled_net(params), setup.n_classes, 1.7
    p = setup.process
    x = jax.random.normal(jax.random.key(1), (12, 2))
    labels = np.arange(12) % k
    fields = {"guided": guided(net, labels, w, k), "cond": guided(net, labels, 0.0, k),
              "uncond": lambda t, x: net(t, x, None)}
    assert not np.allclose(fields["cond"](jnp.full(12, 0.5), x), fields["uncond"](jnp.full(12, 0.5), x))
    kinds = (["eps", "x0", "velocity"] + (["score"] if "score" in p.capabilities else [])
             if "path" in p.capabilities else [])
    for frac in (0.2, 0.5, 0.8):
        t = p.t0 + frac * (p.t1 - p.t0)
        tt = jnp.full((12,), t)
        got = {kk: p.predict(f)(tt, x) for kk, f in fields.items()}
        np.testing.assert_allclose(got["guided"], (1 + w) * got["cond"] - w * got["uncond"], rtol=1e-4, atol=1e-4)
        for dst in kinds:
            got = {kk: field(p, f, dst)(jnp.asarray(t), x) for kk, f in fields.items()}
            scale = float(np.abs(got["cond"]).max()) + 1.0
            np.testing.assert_allclose(got["guided"], (1 + w) * got["cond"] - w * got["uncond"], rtol=1e-4,
                                       atol=1e-4 * scale, err_msg=f"{case} {dst} at t = {t}")


# -- NFE: a guided call is two evaluations --------------------------------------------------------
ROWS = {"n": 0}


def _count(rows):
    ROWS["n"] += int(rows)


def counting(setup):
    """A copy of the setup whose network counts the rows it evaluates (host callback)."""
    s = copy.copy(setup)
    inner = setup.labelled_net

    def labelled_net(params):
        net = inner(params)

        def f(t, x, y):
            jax.debug.callback(_count, x.shape[0])
            return net(t, x, y)

        return f

    object.__setattr__(s, "labelled_net", labelled_net)
    return s


@pytest.mark.parametrize("process, solver, w", [
    ("rf", "euler", 0.0), ("rf", "euler", 2.0), ("rf", "heun", 2.0), ("rf", "tsit5", 2.0), ("vpsde", "dpm++2m", 1.0),
    ("vpsde", "euler-maruyama", 1.0)])
def test_guided_nfe_counts_both_evaluations(process, solver, w):
    from diffcli.conditioning import Guide
    from diffcli.sampling.api import plan_for, sampler_for

    setup = conditional_setup(process)
    params = setup.init_state().params
    n = 8
    plan = plan_for(setup, solver, None if solver == "tsit5" else 5, 1e-3 if solver == "tsit5" else None)
    sampler = sampler_for(counting(setup), plan, n, guide=Guide(w))
    ROWS["n"] = 0
    r = sampler(params, 0)
    jax.effects_barrier()
    assert ROWS["n"] % n == 0 and r.nfe == ROWS["n"] // n  # every row of the batched pair counts
    per_call = {"euler": 1, "heun": 2}.get(solver)  # evaluations per step of the network alone
    if per_call:
        assert r.nfe == (2 if w else 1) * per_call * r.steps
    np.testing.assert_array_equal(r.labels, np.arange(n) * setup.n_classes // n)


# -- training with labels, sampling with guidance -------------------------------------------------
def test_conditional_training_learns_the_classes_and_guidance_sharpens_them(cond_run):
    from diffcli.conditioning import Guide
    from diffcli.sampling.api import plan_for, sampler_for, weights
    from diffcli.scoring import score

    run_dir, setup, state = cond_run
    params = weights(setup, state)
    plan = plan_for(setup, "euler", 8)
    acc = {}
    for w in (0.0, 2.0):
        r = sampler_for(setup, plan, 400, guide=Guide(w))(params, 0)
        acc[w] = score(setup.dataset, r.samples, 0, ["acc"], labels=r.labels)["acc"]
    assert acc[0.0] > 0.8 and acc[2.0] > 0.95 and acc[2.0] >= acc[0.0], acc
    # label dropout taught the same network the unconditional field: every class, in about equal shares
    from diffcli.classifier import classifier_for
    from diffcli.sampling.driver import make_sampler

    r = make_sampler(setup.process, setup.apply, plan, 800, setup.dataset.shape)(params, 1)
    shares = np.bincount(classifier_for(setup.dataset).predict(r.samples), minlength=8) / 800
    assert shares.min() > 0.06 and shares.max() < 0.2, shares


def test_a_class_asks_for_that_class(cond_run):
    from diffcli.classifier import classifier_for
    from diffcli.conditioning import Guide
    from diffcli.sampling.api import plan_for, sampler_for, weights

    run_dir, setup, state = cond_run
    r = sampler_for(setup, plan_for(setup, "heun", 4), 100, guide=Guide(1.0, cls=5))(weights(setup, state), 0)
    assert (r.labels == 5).all() and r.nfe == 2 * 8
    assert (classifier_for(setup.dataset).predict(r.samples) == 5).mean() > 0.95


def test_drop_labels_replaces_the_asked_share_by_the_null_label():
    from diffcli.conditioning import drop_labels

    y = jnp.arange(100_000) % 7
    out = np.asarray(drop_labels(jax.random.key(0), y, 0.1, 7))
    dropped = out == 7
    assert abs(dropped.mean() - 0.1) < 0.005
    np.testing.assert_array_equal(out[~dropped], np.asarray(y)[~dropped])
    assert drop_labels(jax.random.key(0), y, 0.0, 7) is y


def test_class_labels_in_equal_shares_or_one_class():
    from diffcli.conditioning import class_labels

    np.testing.assert_array_equal(np.bincount(class_labels(2000, 10)), [200] * 10)
    assert (np.diff(class_labels(2000, 10)) >= 0).all()  # blocks: a row per class in a grid
    assert set(class_labels(7, 3, 2)) == {2}


@pytest.mark.parametrize("w, cls, k, words", [
    (1.0, None, 0, "--guidance needs a class-conditional model"),
    (0.0, 2, 0, "--class needs a class-conditional model"),
    (-1.0, None, 3, "--guidance must be in [0, 100]"),
    (float("nan"), None, 3, "--guidance must be in [0, 100]"),
    (1.0, 3, 3, "--class must be a class of the data, 0 … 2, got 3"),
])
def test_bad_guidance_is_a_one_line_error(w, cls, k, words):
    from diffcli.conditioning import check_guidance

    with pytest.raises(DiffcliError) as e:
        check_guidance(w, cls, k)
    assert words in str(e.value) and "\n" not in str(e.value)


def test_conditional_needs_labelled_data_and_fresh_draws():
    from diffcli import config as C
    from diffcli.training.setup import build

    with pytest.raises(DiffcliError, match="model.conditional needs labelled data; data 'cat' has no labels"):
        build(C.from_dict({"model": {"conditional": True}}))
    with pytest.raises(DiffcliError, match=r"model.label_dropout must be in \[0, 1\)"):
        build(C.from_dict({"data": {"name": "digits"}, "model": {"conditional": True, "label_dropout": 1.0}}))
    # the conditioning stays when another process is named
    cfg = C.from_dict({"model": {"process": "vpsde"}}, C.from_dict({"model": {"conditional": True}}))
    assert cfg.model.options == {"conditional": True}


# -- every network takes labels --------------------------------------------------------------------
def label_networks():
    from diffcli.nn.base import NETWORKS, takes_labels

    return [n for n in NETWORKS.names() if takes_labels(n)]


@pytest.mark.parametrize("name", label_networks())
def test_every_label_network_adds_the_label_and_knows_the_null_label(name):
    from flax import nnx

    from diffcli.nn.base import build_network

    net = build_network(name, {}, (8, 8, 1), nnx.Rngs(0), n_classes=3)
    plain = build_network(name, {}, (8, 8, 1), nnx.Rngs(0))
    assert "label" not in nnx.state(plain, nnx.Param)  # an unconditional network's weights are as before
    emb = net.label.embed.embedding
    emb[...] = jax.random.normal(jax.random.key(0), emb.shape)
    graph, params = nnx.split(net)
    t, x = jnp.full((4,), 0.5), jax.random.normal(jax.random.key(1), (4, 8, 8, 1))

    @jax.jit
    def outputs(params):  # one compiled program: labels 0, 1, ∅ (= 3) and none
        f = nnx.merge(graph, params)
        return [f(t, x, jnp.full((4,), y, jnp.int32)) for y in (0, 1, 3)] + [f(t, x)]

    out0, out1, out_null, out_none = (np.asarray(o) for o in outputs(params))
    assert out0.shape == x.shape
    assert not np.allclose(out0, out1)
    np.testing.assert_allclose(out_none, out_null, rtol=1e-6, atol=1e-6)  # no label = ∅


@pytest.mark.parametrize("name", label_networks())
def test_a_conditional_training_step_on_labelled_images(name):
    """Labelled digits through each network: the loss falls over a few steps and the label
    embedding learns (it starts at 0)."""
    from diffcli.training.step import make_train_step

    small = {"mlp": {"width": 32, "depth": 1, "n_freqs": 4}, "unet": {"channels": [8], "n_freqs": 4, "groups": 4}}
    setup = conditional_setup("rf", network={"name": name, **small.get(name, {})}, data="digits")
    step = jax.jit(make_train_step(setup))
    state = setup.init_state()
    losses = []
    for _ in range(6):
        state, loss = step(state)
        losses.append(float(loss))
    assert np.isfinite(losses).all() and losses[-1] < losses[0]
    from flax import nnx

    emb = nnx.merge(setup.graphdef, state.params).label.embed.embedding[...]
    assert np.abs(np.asarray(emb)).max() > 0


# -- the command line ----------------------------------------------------------------------------
def test_bench_rows_per_guidance_scale_and_sample_at_a_class(cond_run, cli, cli_env, tmp_path):
    run_dir = cond_run[0]
    r = cli(["bench", str(run_dir), "--solvers", "euler", "--steps", "4", "--tols", "", "--seeds", "2", "--n", "200",
             "--guidance", "0,2", "--metrics", "acc,cd"], tmp_path, cli_env)
    assert r.returncode == 0, r.stderr
    b = json.loads((run_dir / "bench.json").read_text())
    rows = {row["guidance"]: row for row in b["rows"]}
    assert set(rows) == {0.0, 2.0} and rows[0.0]["nfe"] == 4 and rows[2.0]["nfe"] == 8
    assert b["meta"]["guidance"] == [0.0, 2.0] and "floor_acc" in (run_dir / "bench.csv").read_text()
    assert "w=2" in r.stdout
    r = cli(["sample", str(run_dir), "--solver", "euler", "--steps", "4", "--n", "100", "--guidance", "2", "--class",
             "3", "--json"], tmp_path, cli_env)
    assert r.returncode == 0, r.stderr
    rec = json.loads(r.stdout)
    assert rec["guidance"] == 2.0 and rec["class"] == 3 and rec["nfe"] == 8 and rec["acc"] > 0.9
    stem = run_dir / "samples" / "euler_4_steps-n100-w2-c3-seed0"
    assert (np.load(stem.with_name(stem.name + "-labels.npy")) == 3).all()
    r = cli(["sample", str(run_dir), "--guidance", "1", "--class", "8"], tmp_path, cli_env)
    assert r.returncode == 2 and r.stderr.strip().count("\n") == 0  # a user error
    assert "--class must be a class of the data, 0 … 7, got 8" in r.stderr


def test_guidance_without_label_dropout_is_refused():
    from diffcli.conditioning import Guide
    from diffcli.sampling.api import plan_for, sampler_for

    setup = conditional_setup("rf", {"label_dropout": 0.0})
    sampler_for(setup, plan_for(setup, "euler", 2), 8, guide=Guide(0.0))  # w = 0 needs no unconditional field
    with pytest.raises(DiffcliError, match="trained with model.label_dropout = 0"):
        sampler_for(setup, plan_for(setup, "euler", 2), 8, guide=Guide(1.0))


@pytest.mark.parametrize("metric, data, conditional, words", [
    ("acc", "8gaussians", False, "metric 'acc' scores samples against the classes they were asked for"),
    ("fd", "cat", False, "metric 'fd' judges samples with a classifier of labelled data; 'cat' has no labels"),
])
def test_a_metric_that_does_not_fit_is_refused_before_any_work(metric, data, conditional, words):
    from diffcli.data import get_dataset
    from diffcli.metrics import check_fit

    with pytest.raises(DiffcliError) as e:
        check_fit([metric], get_dataset(data), conditional)
    assert words in str(e.value) and "\n" not in str(e.value)


def test_fd_needs_two_points_in_each_set():
    from diffcli.data import get_dataset
    from diffcli.scoring import score

    ds = get_dataset("8gaussians")
    with pytest.raises(DiffcliError, match="needs at least 2 points in each, got 1 and 1"):
        score(ds, np.zeros((1, 2), np.float32), 0, ["fd"])
