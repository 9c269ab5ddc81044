"""The README's examples run as written.

Each ```python block after an `<!-- example -->` marker in "Extending diffcli" is written out as a
module and imported by a pytest plugin in a fresh process; that process then runs the suite's
registry-driven tests selected by the new entries' names: a new entry is tested without
editing a test. The "Python API" block runs as a script.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

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


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> tuple[Path, list[str], str]:
    d = tmp_path_factory.mktemp("readme")
    *extensions, api = examples()
    mods = []
    for i, code in enumerate(extensions):
        (d / f"readme_example_{i}.py").write_text(code)
        mods.append(f"readme_example_{i}")
    (d / "readme_examples.py").write_text("".join(f"import {m}  # noqa: F401\n" for m in mods))
    return d, mods, api


def test_there_is_one_example_per_kind_and_an_api_example():
    assert len(examples()) == 7


def test_the_extensions_register_and_the_registry_driven_tests_cover_them(written):
    d, mods, _ = written
    env = {"PYTHONPATH": f"{d}:{REPO / 'tests'}", "PATH": "/usr/bin:/bin", "HOME": str(d), "EQX_ON_ERROR": "nan"}
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "readme_examples", "-p", "no:cacheprovider",
                        "-k", " or ".join(NAMES), *SUITES], cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    ran = r.stdout + r.stderr
    passed = int(re.search(r"(\d+) passed", ran).group(1))
    assert passed >= 20, ran[-2000:]  # each entry is met by several generic tests


def test_the_python_api_example_runs(written):
    d, _, api = written
    r = subprocess.run([sys.executable, "-c", api], cwd=d, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 3 and "euler 10 steps" in lines[0] and "NFE  10" in lines[0] and "tsit5 adaptive" in lines[2]
