"""diffcli.metrics against float64 brute force, plus symmetry and closed-form checks.

Every registered metric is checked against its own direct definition (Metric.brute) on small
sets of unequal sizes; CD and MMD² also against the definitions written out here (the reference
benchmark's), through their blocked kernels.
"""

import numpy as np
import pytest

from diffcli.errors import DiffcliError
from diffcli.metrics import METRICS, evaluate
from diffcli.metrics.chamfer import chamfer_distance
from diffcli.metrics.mmd import mmd2

SIGMA = 0.5
# Smaller than both set sizes and dividing neither: several blocks plus a padded last one.
BLOCK = 64


def pair_sq_dists(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(n, d), (m, d) -> (n, m) squared distances in float64."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)


def brute_cd(a, b) -> float:
    dist = np.sqrt(pair_sq_dists(a, b))
    return dist.min(axis=1).mean() + dist.min(axis=0).mean()


def brute_mmd2(a, b, sigma=SIGMA) -> float:
    def k(x, y):
        return np.exp(-pair_sq_dists(x, y) / (2 * sigma**2)).mean()

    return k(a, a) - 2 * k(a, b) + k(b, b)


def random_classifier(dim: int, k: int = 3):
    """A classifier of dim-dimensional points with random weights: the metrics' formulas hold for
    any feature map, so their direct definitions are checked without training one."""
    import jax

    from diffcli.classifier import Classifier, _init

    return Classifier({n: np.asarray(v) for n, v in _init(jax.random.key(dim), dim, k).items()}, k, float("nan"), "")


def extra(m, a) -> dict:
    """The arguments beyond the two point sets that metric m takes (a classifier, labels)."""
    kw = {}
    if m.uses_classifier:
        kw["classifier"] = random_classifier(int(np.prod(np.shape(a)[1:])))
    if m.uses_labels:
        kw["labels"] = np.arange(np.shape(a)[0]) % 3
    return kw


DISTANCES = [n for n in METRICS.names() if not METRICS.get(n).uses_labels]  # zero between identical sets


def point_sets(d: int, shift: float, seed: int = 0):
    """(300, d) and (217, d) float32 Gaussian sets, the second shifted by `shift`."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(300, d)).astype(np.float32)
    b = (rng.normal(size=(217, d)) + shift).astype(np.float32)
    return a, b


@pytest.mark.parametrize("d", [2, 3])
def test_chamfer_matches_brute_force(d):
    a, b = point_sets(d, shift=0.3)
    assert chamfer_distance(a, b, block=BLOCK) == pytest.approx(brute_cd(a, b), rel=1e-5)


@pytest.mark.parametrize("d", [2, 3])
@pytest.mark.parametrize("shift", [0.3, 0.02])
def test_mmd2_matches_brute_force(d, shift):
    a, b = point_sets(d, shift)
    assert abs(mmd2(a, b, sigma=SIGMA, block=BLOCK) - brute_mmd2(a, b)) < 1e-6


def test_mmd2_small_value_precision():
    """MMD^2 ~ 1e-3 from O(1) means: float64 accumulation must keep ~1e-6 absolute."""
    rng = np.random.default_rng(1)
    a = rng.normal(size=(1500, 2)).astype(np.float32)
    b = (rng.normal(size=(1300, 2)) + 0.1).astype(np.float32)
    want = brute_mmd2(a, b)
    assert 1e-4 < want < 1e-2
    assert abs(mmd2(a, b, block=256) - want) < 1e-6


def test_default_block_and_multiple_column_tiles():
    """Sets larger than one column tile (1024) exercise the +inf column padding."""
    a, b = point_sets(2, shift=0.2)
    a = np.concatenate([a] * 4)[:1100]
    b = np.concatenate([b] * 6)[:1300]
    assert chamfer_distance(a, b) == pytest.approx(brute_cd(a, b), rel=1e-5)
    assert abs(mmd2(a, b) - brute_mmd2(a, b)) < 1e-6


def test_block_size_does_not_change_result():
    a, b = point_sets(2, shift=0.3)
    assert chamfer_distance(a, b, block=7) == pytest.approx(chamfer_distance(a, b, block=1000), rel=1e-6)
    assert mmd2(a, b, block=7) == pytest.approx(mmd2(a, b, block=1000), abs=1e-7)


def test_identical_sets():
    a, _ = point_sets(3, shift=0.0)
    assert chamfer_distance(a, a, block=BLOCK) == 0.0
    assert abs(mmd2(a, a, block=BLOCK)) <= 1e-6


def test_symmetry():
    a, b = point_sets(2, shift=0.3)
    assert chamfer_distance(a, b, block=BLOCK) == pytest.approx(chamfer_distance(b, a, block=BLOCK), rel=1e-6)
    assert mmd2(a, b, block=BLOCK) == pytest.approx(mmd2(b, a, block=BLOCK), abs=1e-7)


@pytest.mark.parametrize("r", [0.1, 0.5, 2.0])
def test_two_single_points_closed_form(r):
    a = np.array([[0.0, 0.0, 0.0]])
    b = np.array([[r, 0.0, 0.0]])
    assert chamfer_distance(a, b) == pytest.approx(2 * r, rel=1e-6)
    assert mmd2(a, b, sigma=SIGMA) == pytest.approx(2 - 2 * np.exp(-(r**2) / (2 * SIGMA**2)), abs=1e-6)


@pytest.mark.parametrize("name", METRICS.names())
@pytest.mark.parametrize("d, shift", [(2, 0.3), (3, 0.05)])
def test_every_metric_matches_its_direct_definition(name, d, shift):
    m = METRICS.get(name)
    assert m.brute is not None, f"metric {name!r} states no direct definition to check it against"
    rng = np.random.default_rng(2)
    a = rng.normal(size=(60, d)).astype(np.float32)
    b = (rng.normal(size=(45, d)) + shift).astype(np.float32)
    kw = extra(m, a)
    want = m.brute(a.astype(np.float64), b.astype(np.float64), **kw)
    assert m.compute(a, b, **kw) == pytest.approx(want, rel=1e-4, abs=1e-6)


@pytest.mark.parametrize("name", DISTANCES)
def test_every_distance_is_zero_on_identical_sets_and_grows_with_a_shift(name):
    m = METRICS.get(name)
    rng = np.random.default_rng(3)
    a = rng.normal(size=(50, 2)).astype(np.float32)
    kw = extra(m, a)
    assert abs(m.compute(a, a, **kw)) <= 1e-6
    assert 0 < m.compute(a, a + 0.1, **kw) < m.compute(a, a + 1.0, **kw)
    assert m.format(m.compute(a, a + 1.0, **kw))  # it can be shown


@pytest.mark.parametrize("name", METRICS.names())
def test_every_metric_takes_points_of_any_shape(name):
    """(n, H, W, C) sets are compared as flat vectors."""
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(30, 2, 2, 1)).astype(np.float32), rng.normal(size=(25, 2, 2, 1)).astype(np.float32)
    m = METRICS.get(name)
    kw = extra(m, a)
    assert m.compute(a, b, **kw) == pytest.approx(m.compute(a.reshape(30, 4), b.reshape(25, 4), **kw), rel=1e-6)


def test_evaluate_selects_metrics_by_name():
    a, b = point_sets(2, shift=0.3)
    assert set(evaluate(a, b)) == {"cd", "mmd2"}
    assert list(evaluate(a, b, ["mmd2", "cd"])) == ["mmd2", "cd"]
    with pytest.raises(DiffcliError, match="unknown metric 'fid'; accepted: acc, cd"):
        evaluate(a, b, ["fid"])


def test_accepts_jax_arrays_and_returns_floats():
    import jax.numpy as jnp

    a, b = point_sets(2, shift=0.3)
    out = evaluate(jnp.asarray(a), jnp.asarray(b))
    assert set(out) == {"cd", "mmd2"}
    assert all(type(v) is float for v in out.values())
    assert out["cd"] == pytest.approx(brute_cd(a, b), rel=1e-5)
    assert abs(out["mmd2"] - brute_mmd2(a, b)) < 1e-6


@pytest.mark.parametrize(
    "a, b",
    [
        (np.zeros((3, 2)), np.zeros((3, 3))),  # dimension mismatch
        (np.zeros(3), np.zeros((3, 1))),  # not (n, *shape)
        (np.zeros((0, 2)), np.zeros((3, 2))),  # empty
        (np.array([[np.nan, 0.0]]), np.zeros((3, 2))),  # non-finite
    ],
)
def test_bad_inputs_are_user_errors(a, b):
    for name in METRICS.names():
        m = METRICS.get(name)
        with pytest.raises(DiffcliError):
            m.compute(a, b, **extra(m, np.zeros((3, 2))))


def test_one_seed_has_no_spread():
    """The sample standard deviation of one value does not exist: NaN, shown as '—'."""
    from types import SimpleNamespace

    from rich.console import Console

    from diffcli.render import bench_table
    from diffcli.scoring import Floor, spread

    assert spread([0.05]) != spread([0.05]) and spread([1.0, 3.0]) == pytest.approx(2**0.5)
    row = SimpleNamespace(name="euler 4", nfe=4, nfe_min=4, nfe_max=4, scores={"cd": 0.1}, sds={"cd": spread([0.1])},
                          ms_per_call=1.0, ms_per_nfe=0.25)
    c = Console(width=200, record=True)
    c.print(bench_table([row], Floor({"cd": 0.05}, {"cd": spread([0.05])}, 1), "t"))
    text = c.export_text()
    assert "0.1000±—" in text and "0.0500±—" in text
