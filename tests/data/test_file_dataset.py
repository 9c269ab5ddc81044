"""The `file` data set: a user's (n, d) points from .npy or .csv, and every way a file can be bad."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from diffcli import config as C
from diffcli.data import get_dataset
from diffcli.data.file import load_points
from diffcli.errors import DiffcliError

POINTS = np.array([[0.5, -1.0], [2.0, 3.25], [-0.125, 7.0], [1e-3, -2e3]])


def test_npy_loads(tmp_path):
    p = tmp_path / "pts.npy"
    np.save(p, POINTS.astype(np.float32))
    got = load_points(p)
    assert got.dtype == np.float64 and got.shape == (4, 2)
    np.testing.assert_array_equal(got, POINTS.astype(np.float32).astype(np.float64))


def test_npy_of_images_loads_with_its_point_shape(tmp_path):
    """A .npy of shape (n, H, W, C) is a data set of (H, W, C) points."""
    imgs = np.random.default_rng(0).normal(size=(10, 8, 8, 1)).astype(np.float32)
    np.save(tmp_path / "imgs.npy", imgs)
    ds = get_dataset(str(tmp_path / "imgs.npy"))
    assert ds.shape == (8, 8, 1) and ds.dim == 64
    x = np.asarray(ds.sample(jax.random.key(0), 5))
    assert x.shape == (5, 8, 8, 1) and all(any(np.array_equal(r, i) for i in imgs) for r in x)


def test_csv_with_a_header_line_loads(tmp_path):
    """What pandas writes: one non-numeric first line, then the points."""
    (tmp_path / "h.csv").write_text("x,y\n1,2\n3,4.5\n")
    assert get_dataset(str(tmp_path / "h.csv")).shape == (2,)
    from diffcli.data.file import load_points

    np.testing.assert_array_equal(load_points(tmp_path / "h.csv"), [[1, 2], [3, 4.5]])


def test_csv_loads(tmp_path):
    p = tmp_path / "pts.csv"
    p.write_text("\n".join(",".join(repr(float(v)) for v in row) for row in POINTS) + "\n")
    np.testing.assert_array_equal(load_points(p), POINTS)


def test_single_row_csv_is_one_point(tmp_path):
    p = tmp_path / "one.csv"
    p.write_text("1.5,2.5\n")
    np.testing.assert_array_equal(load_points(p), [[1.5, 2.5]])


def test_file_dataset_resamples_rows_of_the_file(tmp_path):
    p = tmp_path / "pts.npy"
    np.save(p, POINTS)
    ds = get_dataset("file", path=str(p))
    assert ds.dim == 2
    x = np.asarray(ds.sample(jax.random.key(0), 400))
    assert x.shape == (400, 2) and x.dtype == np.float32
    rows = {tuple(r) for r in POINTS.astype(np.float32)}
    trained = {tuple(r) for r in x}
    held = {tuple(r) for r in np.asarray(ds.held_out_sample(jax.random.key(1), 50))}
    # only rows of the file: (400 draws of 3) every training row, and the one held out apart
    assert len(trained) == 3 and len(held) == 1 and trained | held == rows


def test_a_path_as_the_data_set_name_loads_the_file(tmp_path):
    p = tmp_path / "pts.csv"
    p.write_text("1,2\n3,4\n")
    ds = get_dataset(str(p))
    assert ds.dim == 2


def test_a_path_as_data_name_builds_through_the_config(tmp_path):
    from diffcli.training.setup import build

    p = tmp_path / "pts.npy"
    np.save(p, POINTS)
    setup = build(C.from_dict({"data": {"name": str(p)}, "network": {"width": 16, "depth": 1}}))
    assert setup.dataset.dim == 2


def test_file_set_through_data_path_builds(tmp_path):
    from diffcli.training.setup import build

    p = tmp_path / "pts.npy"
    np.save(p, POINTS)
    setup = build(C.from_dict({"data": {"name": "file", "path": str(p)}, "network": {"width": 16, "depth": 1}}))
    assert setup.dataset.dim == 2


def _write(tmp_path, name, content):
    p = tmp_path / name
    if isinstance(content, np.ndarray):
        np.save(p, content)
    elif content is not None:
        p.write_text(content)
    return p


BAD = [
    ("missing.npy", None, "does not exist"),
    ("missing.csv", None, "does not exist"),
    ("points.txt", "1,2\n", ".npy, .csv or .npz"),
    ("points.json", "[[1, 2]]", ".npy, .csv or .npz"),
    ("one_d.npy", np.arange(5.0), "shape"),
    ("empty_images.npy", np.zeros((0, 3, 4)), "empty"),
    ("empty_rows.npy", np.zeros((0, 2)), "empty"),
    ("empty_cols.npy", np.zeros((3, 0)), "empty"),
    ("empty.csv", "", "empty"),
    ("nan.npy", np.array([[1.0, np.nan], [2.0, 3.0]]), "NaN"),
    ("inf.npy", np.array([[1.0, np.inf]]), "NaN or Inf"),
    ("nan.csv", "1,2\nnan,3\n", "NaN"),
    ("words.csv", "a,b\nc,d\n", "could not be read"),
    ("header_only.csv", "x,y\n", "empty"),
    ("complex.npy", np.array([[1 + 2j, 3.0]]), "complex"),
    ("huge.npy", np.array([[1e300, 0.0]]), "float32"),
    ("ragged.csv", "1,2\n3\n", "could not be read"),
    ("strings.npy", np.array([["a", "b"]]), "not numbers"),
    ("bools.npy", np.array([[True, False]]), "not numbers"),
    ("objects.npy", np.array([[1, None]], dtype=object), "could not be read"),
    ("garbage.npy", "this is not an npy file", "could not be read"),
]


@pytest.mark.filterwarnings("ignore::UserWarning")  # numpy warns about the empty CSV
@pytest.mark.parametrize("name, content, words", BAD, ids=[b[0] for b in BAD])
def test_bad_file_is_a_one_line_diffcli_error(tmp_path, name, content, words):
    if name == "objects.npy":
        np.save(tmp_path / name, content, allow_pickle=True)
        p = tmp_path / name
    else:
        p = _write(tmp_path, name, content)
    with pytest.raises(DiffcliError) as e:
        load_points(p)
    msg = str(e.value)
    assert "\n" not in msg and msg.strip() == msg and msg
    assert name in msg  # names the file
    assert words in msg
    with pytest.raises(DiffcliError):  # the same through the registry
        get_dataset(str(p)) if name.endswith((".npy", ".csv")) else get_dataset("file", path=str(p))


def test_file_data_set_without_a_path_is_an_error():
    with pytest.raises(DiffcliError) as e:
        get_dataset("file")
    assert "path" in str(e.value) and "\n" not in str(e.value)


def test_a_run_on_a_file_is_portable_and_notices_a_changed_file(tmp_path, monkeypatch, capsys):
    """The run records the file's absolute path and sha256: it loads from another directory, and
    says so when the file has changed since."""
    from diffcli.training.restore import load_run
    from diffcli.training.setup import build

    work = tmp_path / "work"
    work.mkdir()
    np.save(work / "pts.npy", POINTS)
    monkeypatch.chdir(work)
    setup = build(C.from_dict({"data": {"name": "pts.npy"}, "network": {"width": 8, "depth": 1}}))
    assert setup.cfg.data.name == str(work / "pts.npy") and len(setup.cfg.data.options["sha256"]) == 64
    run = work / "runs" / "r"
    run.mkdir(parents=True)
    (run / "config.toml").write_text(C.to_toml(setup.cfg))
    from diffcli.training import checkpoint

    checkpoint.save(run, setup.init_state())
    monkeypatch.chdir(tmp_path)  # elsewhere
    assert load_run(run)[1].dataset.shape == (2,)
    assert "changed" not in capsys.readouterr().err
    np.save(work / "pts.npy", POINTS + 1)
    load_run(run)
    assert "has changed since this run recorded it" in capsys.readouterr().err
