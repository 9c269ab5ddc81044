"""The README's examples run as written.

Each ```python block after an `<!-- example -->` marker in "Extending diffcli" is written out as a
module and imported by a pytest plugin in a fresh process; that process then runs the suite's
registry-driven tests selected by the new entries' names: a new entry is tested without
editing a test. The "Python API" block runs as a script. Both run in the background from the
start of the session (tests/conftest.py Jobs).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MARK = "<!-- example -->"
# The entries the examples register, and the registry-driven tests that then cover them.
NAMES = ["mean-gap", "dopri8", "velocity-euler", "vp-quadratic", "spiral", "tiny"]
# (The recovery, order and likelihood suites, which cover them too, are left out here for time:
# they compile a program per entry.)
SUITES = ["tests/metrics/test_metrics.py", "tests/sampling/test_family_plan.py", "tests/sampling/test_nfe.py",
          "tests/processes/test_processes.py", "tests/processes/test_parameterisation.py",
          "tests/data/test_datasets.py", "tests/nn/test_networks.py"]


def examples() -> list[str]:
    text = (REPO / "README.md").read_text()
    return [re.match(r"\s*```python\n(.*?)```", part, re.S).group(1) for part in text.split(MARK)[1:]]


def write(d: Path) -> tuple[list[str], str]:
    """The extension examples as modules in d, and a plugin readme_examples importing them all;
    (their module names, the API example's code)."""
    *extensions, api = examples()
    mods = []
    for i, code in enumerate(extensions):
        (d / f"readme_example_{i}.py").write_text(code)
        mods.append(f"readme_example_{i}")
    (d / "readme_examples.py").write_text("".join(f"import {m}  # noqa: F401\n" for m in mods))
    return mods, api


def registry_driven_run(job):
    """The suites' registry-driven tests selected by the entries' names, in a fresh pytest with
    the examples imported as a plugin."""
    d = job.dir
    write(d)
    env = {"PYTHONPATH": f"{d}:{REPO / 'tests'}", "PATH": "/usr/bin:/bin", "HOME": str(d), "EQX_ON_ERROR": "nan"}
    return job.run([sys.executable, "-m", "pytest", "-q", "-p", "readme_examples", "-p", "no:cacheprovider",
                    "-k", " or ".join(NAMES), *SUITES], REPO, env, timeout=600)


def api_run(job):
    """The "Python API" example run as a script (in this environment)."""
    _, api = write(job.dir)
    return job.run([sys.executable, "-c", api], job.dir, None, timeout=300)


# Both are subprocesses that take a while: they run in the background from the start of the
# session (tests/conftest.py Jobs); the tests check what they did.
BACKGROUND = {"test_the_extensions_register_and_the_registry_driven_tests_cover_them": registry_driven_run,
              "test_the_python_api_example_runs": api_run}


def test_there_is_one_example_per_kind_and_an_api_example():
    assert len(examples()) == 7


def test_the_extensions_register_and_the_registry_driven_tests_cover_them(background, request):
    r = background(request)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    ran = r.stdout + r.stderr
    passed = int(re.search(r"(\d+) passed", ran).group(1))
    assert passed >= 20, ran[-2000:]  # each entry is met by several generic tests


def test_the_python_api_example_runs(background, request):
    r = background(request)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 3 and "euler 10 steps" in lines[0] and "NFE  10" in lines[0] and "tsit5 adaptive" in lines[2]
