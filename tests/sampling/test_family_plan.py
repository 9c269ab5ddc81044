"""Choosing a sampler: names, options, labels and whether it fits the model, as one-line errors."""

import pytest

from diffcli.errors import DiffcliError
from diffcli.processes import PROCESSES, get_process
from diffcli.sampling.plan import make_plan
from diffcli.sampling.samplers import SAMPLERS, accepted, check_fits
from diffcli.sampling.solvers import ODE_SOLVERS

ACCEPTS = {  # what each model accepts, from its capabilities
    ("rf", "gaussian"): ["dopri5", "euler", "heun", "tsit5"],
    ("rf", "uniform-square"): ["dopri5", "euler", "heun", "tsit5"],
    ("vpsde", "gaussian"): ["ddim", "dopri5", "euler", "euler-heun", "euler-maruyama", "heun", "pc", "tsit5"],
    ("vesde", "gaussian"): ["ddim", "dopri5", "euler", "euler-heun", "euler-maruyama", "heun", "pc", "tsit5"],
    ("ddpm", "gaussian"): ["ancestral", "ddim", "dopri5", "euler", "euler-heun", "euler-maruyama", "heun", "pc", "tsit5"],
    ("bridge", "gaussian"): ["bridge", "dopri5", "euler", "heun", "tsit5"],
    ("bridge", "uniform-square"): ["bridge"],
}


def test_every_model_listed():
    assert {m for m, _ in ACCEPTS} == set(PROCESSES.names())


@pytest.mark.parametrize("model,source", list(ACCEPTS), ids=[f"{m}-{s}" for m, s in ACCEPTS])
def test_accepted_solvers(model, source):
    p = get_process(model, source=source)
    assert accepted(p) == ACCEPTS[model, source]
    for name in SAMPLERS.names():
        plan = make_plan(name, steps=10)
        if name in ACCEPTS[model, source]:
            check_fits(plan, p)
        else:
            with pytest.raises(DiffcliError) as e:
                check_fits(plan, p)
            msg = str(e.value)
            assert "\n" not in msg and f"accepts: {', '.join(ACCEPTS[model, source])}" in msg and repr(name) in msg


def test_the_issue_examples():
    with pytest.raises(DiffcliError, match=r"solver 'bridge' does not fit model 'vpsde'.*accepts: ddim, "):
        make_plan("bridge", process=get_process("vpsde"))
    with pytest.raises(DiffcliError, match=r"solver 'ddim' does not fit model 'rf'.*accepts: dopri5, euler, heun, tsit5$"):
        make_plan("ddim", steps=50, process=get_process("rf"))


def test_ode_plans_unchanged():
    assert make_plan("heun").label() == "heun 20 steps"
    assert make_plan("tsit5", rtol=1e-2, atol=1e-2).label() == "tsit5 adaptive tol 0.01"
    assert make_plan("euler", steps=10, grid="power", grid_power=2.0).label() == "euler 10 steps power^2"
    for name in ODE_SOLVERS.names():
        assert SAMPLERS.get(name).adaptive == ODE_SOLVERS.get(name).adaptive


def test_new_plans():
    assert make_plan("ddim", steps=50, eta=0.5).label() == "ddim 50 steps eta 0.5"
    assert make_plan("ddim").label() == "ddim 20 steps eta 0"
    assert make_plan("pc", snr=0.1, corrector_steps=2).label() == "pc 200 steps snr 0.1 corrector 2"
    assert make_plan("ancestral").steps == 1000
    assert make_plan("bridge").steps == 200 and make_plan("euler-maruyama").steps == 200


@pytest.mark.parametrize("kw,match", [
    ({"solver": "euler", "eta": 0.5}, "--eta applies to solver ddim only"),
    ({"solver": "ddim", "snr": 0.1}, "--snr applies to solver pc only"),
    ({"solver": "ddim", "eta": 1.5}, r"--eta must be in \[0, 1\]"),
    ({"solver": "pc", "snr": 0.0}, "--snr must be > 0"),
    ({"solver": "pc", "corrector_steps": 0}, "--corrector-steps"),
    ({"solver": "euler-maruyama", "rtol": 1e-3}, "takes --steps, not tolerances; adaptive solvers: dopri5, heun, tsit5"),
    ({"solver": "rk9"}, "unknown solver 'rk9'; accepted: ancestral, bridge, ddim"),
])
def test_bad_plans(kw, match):
    with pytest.raises(DiffcliError, match=match):
        make_plan(**kw)


def test_discrete_chain_has_finitely_many_steps():
    p = get_process("ddpm", timesteps=100)
    make_plan("ancestral", steps=100, process=p)
    with pytest.raises(DiffcliError, match="has 100 timesteps"):
        make_plan("ancestral", process=p)  # the default 1000 steps
    with pytest.raises(DiffcliError, match="at most 100 steps"):
        make_plan("ddim", steps=101, process=p)
