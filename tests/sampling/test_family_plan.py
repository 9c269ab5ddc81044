"""Choosing a sampler: names, options, labels and whether it fits the model, as one-line errors."""

import dataclasses
import re

import pytest

from cases import process_cases
from diffcli.config import SampleConfig
from diffcli.errors import DiffcliError
from diffcli.processes import get_process
from diffcli.sampling.plan import SolverPlan, make_plan
from diffcli.sampling.registry import SAMPLERS, accepted, check_fits, default_solver, option_names

CASES = process_cases()  # every registered process under each of its sources


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_a_sampler_fits_exactly_when_the_model_has_what_it_needs(case):
    _, model, opts = case
    p = get_process(model, **opts)
    ok = accepted(p)
    assert ok == sorted(n for n in SAMPLERS.names() if SAMPLERS.get(n).needs <= p.capabilities)
    for name in SAMPLERS.names():
        plan = make_plan(name, steps=10)
        if name in ok:
            check_fits(plan, p)
        else:
            with pytest.raises(DiffcliError) as e:
                check_fits(plan, p)
            msg = str(e.value)
            assert "\n" not in msg and msg.endswith(f"accepts: {', '.join(ok)}") and repr(name) in msg


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_every_sampler_default_works_on_every_model_it_accepts(case):
    """With no steps, tolerances or options given, each accepted sampler's plan resolves on the
    model (its own default steps, the default grid), and `sample`'s default solver is accepted."""
    _, model, opts = case
    p = get_process(model, **opts)
    for name in accepted(p):
        spec = SAMPLERS.get(name)
        plan = make_plan(name, process=p)
        assert plan.steps >= 1 and len(spec.times(p, plan)) == plan.steps + 1
    assert default_solver(p) in accepted(p)


def test_what_the_models_accept():
    """The capabilities behind the reference models' samplers (at least these; new samplers add)."""
    def ok(model, **o):
        return set(accepted(get_process(model, **o)))

    assert {"euler", "heun", "tsit5", "dopri5"} <= ok("rf") and not {"ddim", "bridge", "ancestral"} & ok("rf")
    assert {"euler-maruyama", "euler-heun", "pc", "ddim", "heun"} <= ok("vpsde") and "ancestral" not in ok("vpsde")
    assert {"ancestral", "ddim"} <= ok("ddpm")
    assert ok("bridge", source="uniform-square") == {"bridge"}
    assert {"bridge", "heun"} <= ok("bridge", source="gaussian")


def test_the_issue_examples():
    with pytest.raises(DiffcliError, match=r"solver 'bridge' does not fit model 'vpsde'.*accepts: .*ddim, "):
        make_plan("bridge", process=get_process("vpsde"))
    with pytest.raises(DiffcliError, match=r"solver 'ddim' does not fit model 'rf': it needs a forward diffusion SDE"):
        make_plan("ddim", steps=50, process=get_process("rf"))


def test_one_default_grid():
    """The plan's grid defaults are the [sample] config's, the only place they are set."""
    assert (SolverPlan("heun").grid, SolverPlan("heun").grid_power) == (SampleConfig.grid, SampleConfig.grid_power)
    assert make_plan("heun").label() == f"heun 20 steps power^{SampleConfig.grid_power:g}"


def test_labels():
    assert make_plan("heun", grid="uniform").label() == "heun 20 steps"
    assert make_plan("tsit5", rtol=1e-2, atol=1e-2).label() == "tsit5 adaptive tol 0.01"
    assert make_plan("tsit5", rtol=1e-2, norm="rms").label(short=True) == "tsit5 tol 0.01 rms"
    assert make_plan("euler", steps=10, grid="power", grid_power=2.0).label() == "euler 10 steps power^2"
    assert make_plan("ddim", steps=50, grid="uniform", options={"eta": 0.5}).label() == "ddim 50 steps eta 0.5"
    assert make_plan("ddim", grid="uniform").label() == "ddim 100 steps eta 0"
    assert make_plan("pc", options={"snr": 0.1, "corrector_steps": 2}).label(short=True) == "pc 200 snr 0.1 corrector 2"
    assert make_plan("ancestral").steps == 1000
    assert make_plan("ancestral", process=get_process("ddpm", timesteps=50)).steps == 50
    assert make_plan("bridge").steps == 200 and make_plan("euler-maruyama").steps == 200


@pytest.mark.parametrize("name", SAMPLERS.names())
def test_every_sampler_refuses_an_option_it_does_not_have(name):
    with pytest.raises(DiffcliError, match=f"solver '{re.escape(name)}' takes no option --bogus; its options: "):
        make_plan(name, options={"bogus": 1})


@pytest.mark.parametrize("name", [n for n in SAMPLERS.names() if option_names(n)])
def test_every_option_has_help_and_a_checked_type(name):
    for f in dataclasses.fields(SAMPLERS.get(name).Options):
        assert f.metadata.get("help"), f"{name}: option {f.name} has no help"
        with pytest.raises(DiffcliError, match=f"--{f.name} must be"):
            make_plan(name, options={f.name: "words"})


@pytest.mark.parametrize("kw,match", [
    ({"solver": "euler", "options": {"eta": 0.5}}, r"solver 'euler' takes no option --eta \(--eta is an option of ddim\)"),
    ({"solver": "ddim", "options": {"snr": 0.1}}, r"--snr is an option of pc\); its options: --eta"),
    ({"solver": "ddim", "options": {"eta": 1.5}}, r"--eta must be in \[0, 1\]"),
    ({"solver": "pc", "options": {"snr": 0.0}}, "--snr must be > 0"),
    ({"solver": "pc", "options": {"snr": float("inf")}}, "--snr must be finite"),
    ({"solver": "pc", "options": {"corrector_steps": 0}}, "--corrector-steps"),
    ({"solver": "ddim", "options": {"eta": None}}, "--eta needs a value"),
    ({"solver": "euler-maruyama", "rtol": 1e-3}, "takes --steps, not tolerances; adaptive solvers: .*heun"),
    ({"solver": "rk9"}, "unknown solver 'rk9'; accepted: ancestral, "),
    ({"solver": "heun", "grid_power": float("inf")}, r"--grid-power must be a finite number in \[0.1, 10\]"),
    ({"solver": "heun", "icoeff": float("nan")}, "--icoeff must be a finite number"),
])
def test_bad_plans(kw, match):
    with pytest.raises(DiffcliError, match=match):
        make_plan(**kw)


def test_discrete_chain_has_finitely_many_steps():
    p = get_process("ddpm", timesteps=100)
    make_plan("ancestral", steps=100, process=p)
    make_plan("ancestral", process=p)  # its default: every timestep
    with pytest.raises(DiffcliError, match="has 100 timesteps, too few for 101 distinct steps; use at most 100 steps"):
        make_plan("ddim", steps=101, process=p)


def test_discrete_grid_keeps_every_step_distinct():
    """Rounded to a T-step chain the grid moves as little as needed: at steps = T it is every
    timestep, whatever the grid's power."""
    import numpy as np

    p = get_process("ddpm", timesteps=100)
    for steps in (100, 99, 10):
        t = np.asarray(SAMPLERS.get("ancestral").times(p, make_plan("ancestral", steps=steps, grid_power=3.0))) * 100
        assert np.allclose(t, np.round(t), atol=1e-3) and np.all(np.diff(t) <= -1 + 1e-3) and t[0] == 100 and t[-1] == 0


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_the_network_is_called_inside_the_trained_interval(case):
    """Every fixed-step sampler calls the network at its grid's points but the last, all within
    [t0, t1], the times the process trains on (a sampler that ends on the data steps from t0 to
    t = 0 last)."""
    import numpy as np

    _, model, opts = case
    p = get_process(model, **opts)
    for name in accepted(p):
        spec = SAMPLERS.get(name)
        for steps in (5, 200):
            plan = make_plan(name, steps=min(steps, p.n_timesteps or steps), process=p)
            calls = np.asarray(spec.times(p, plan), np.float64)[:-1]
            assert calls.min() >= p.t0 - 1e-7 and calls.max() <= p.t1 + 1e-7, (name, steps, calls.min())
