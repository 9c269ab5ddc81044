"""Labelled data: the bundled digits, the 8 gaussians' components, a user's .npz with labels; the
classifier that judges samples of them and the floor of its metrics."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from diffcli.data import DATASETS, get_dataset
from diffcli.errors import DiffcliError


def labelled_datasets():
    return [n for n in DATASETS.names() if n != "file" and get_dataset(n).n_classes]


def test_the_digits_are_scikit_learns_split_a_fifth_held_out_by_class():
    from sklearn.datasets import load_digits

    from diffcli.data.digits import split

    xa, ya, xb, yb = split()
    assert xa.shape == (1437, 8, 8, 1) and xb.shape == (360, 8, 8, 1) and xa.dtype == np.float32
    assert xa.min() == -1.0 and xa.max() == 1.0
    d = load_digits()
    # together the two parts are the whole data set, image for image (with its label), scaled
    both = np.concatenate([np.c_[xa.reshape(-1, 64), ya], np.c_[xb.reshape(-1, 64), yb]])
    whole = np.c_[d.images.reshape(-1, 64) / 8.0 - 1.0, d.target]
    np.testing.assert_array_equal(np.unique(both, axis=0), np.unique(whole, axis=0))
    # stratified: every class holds a fifth of its images back
    share = np.bincount(yb, minlength=10) / np.bincount(d.target, minlength=10)
    assert np.abs(share - 0.2).max() < 0.02


@pytest.mark.parametrize("name", labelled_datasets())
def test_labelled_draws_are_the_points_sample_draws(name):
    ds = get_dataset(name)
    key = jax.random.key(3)
    x, y = ds.labelled_sample(key, 500)
    np.testing.assert_array_equal(np.asarray(x), np.asarray(ds.sample(key, 500)))
    assert y.shape == (500,) and y.dtype == np.int32 and set(np.unique(y)) == set(range(ds.n_classes))
    hx, hy = ds.labelled_sample(key, 500, held_out=True)
    assert hx.shape == x.shape and hy.shape == y.shape


def test_the_digits_held_out_points_are_never_training_points():
    ds = get_dataset("digits")
    x = np.asarray(ds.sample(jax.random.key(0), 4000)).reshape(4000, -1)
    h = np.asarray(ds.held_out_sample(jax.random.key(0), 4000)).reshape(4000, -1)
    from diffcli.data.digits import split

    xa, _, xb, _ = split()
    train_rows = {r.tobytes() for r in xa.reshape(len(xa), -1)}
    held_only = [r for r in xb.reshape(len(xb), -1) if r.tobytes() not in train_rows]
    assert {r.tobytes() for r in x} <= train_rows
    assert len({r.tobytes() for r in h} & {r.tobytes() for r in held_only}) > 0.9 * len(held_only)


def test_the_8_gaussians_label_is_the_component():
    x, y = get_dataset("8gaussians").labelled_sample(jax.random.key(0), 1000)
    angle = np.arctan2(np.asarray(x)[:, 1], np.asarray(x)[:, 0]) % (2 * np.pi)
    nearest = np.round(angle / (np.pi / 4)).astype(int) % 8
    np.testing.assert_array_equal(nearest, np.asarray(y))


def test_a_npz_with_labels_keeps_each_point_with_its_label(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 3)).astype(np.float32)
    y = np.arange(60) % 4
    np.savez(tmp_path / "pts.npz", x=x, y=y)
    ds = get_dataset(str(tmp_path / "pts.npz"))
    assert ds.n_classes == 4 and ds.shape == (3,)
    for held in (False, True):
        px, py = ds.labelled_sample(jax.random.key(1), 200, held_out=held)
        rows = {r.tobytes(): int(c) for r, c in zip(x, y)}
        assert all(rows[r.tobytes()] == int(c) for r, c in zip(np.asarray(px), np.asarray(py)))
    np.savez(tmp_path / "plain.npz", x=x)
    assert get_dataset(str(tmp_path / "plain.npz")).n_classes == 0


@pytest.mark.parametrize("arrays, words", [
    ({"points": np.zeros((3, 2))}, "holds arrays ['points']; a .npz needs the points as x"),
    ({"x": np.zeros((3, 2)), "y": np.zeros(4, int)}, "y has shape (4,); expected one label per point, (3,)"),
    ({"x": np.zeros((3, 2)), "y": np.array([0.0, 1.5, 2.0])}, "y must hold integer class labels"),
    ({"x": np.zeros((3, 2)), "y": np.array([0, -1, 2])}, "labels must be in [0, 10000), got -1 … 2"),
])
def test_a_bad_npz_is_a_one_line_error(tmp_path, arrays, words):
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(DiffcliError) as e:
        get_dataset(str(tmp_path / "bad.npz"))
    assert words in str(e.value) and "\n" not in str(e.value)


def test_an_unlabelled_data_set_says_so():
    with pytest.raises(DiffcliError, match="data set 'cat' has no labels"):
        get_dataset("cat").labelled_sample(jax.random.key(0), 3)


# -- the classifier and its metrics on the digits ------------------------------------------------
@pytest.fixture(scope="module")
def digits_classifier():
    from diffcli.classifier import classifier_for

    return classifier_for(get_dataset("digits"))


def test_the_digits_classifier_is_accurate_and_cached(digits_classifier, monkeypatch):
    from diffcli import classifier as C

    assert 0.95 < digits_classifier.accuracy < 1.0
    ds = get_dataset("digits")  # another object: not in memory; read from the user's cache, not trained
    monkeypatch.setattr(C, "train_classifier", lambda *a, **k: pytest.fail("trained again"))
    again = C.classifier_for(ds)
    assert again.accuracy == digits_classifier.accuracy
    np.testing.assert_array_equal(again.params["w3"], np.asarray(digits_classifier.params["w3"]))


def test_the_floor_of_the_accuracy_is_the_classifiers_own_and_fd_sees_a_wrong_class(digits_classifier):
    from diffcli.scoring import data_floor, score

    ds = get_dataset("digits")
    floor = data_floor(ds, 2000, 2, ["acc", "fd"])
    assert floor.mean["acc"] == pytest.approx(digits_classifier.accuracy, abs=0.01)
    assert 0 < floor.mean["fd"] < 20
    # real training digits asked for their own labels score (nearly) perfectly; asked for the next class, ~never
    x, y = ds.labelled_sample(jax.random.key(7), 1000)
    assert score(ds, x, 0, ["acc"], labels=y)["acc"] > 0.97
    assert score(ds, x, 0, ["acc"], labels=(np.asarray(y) + 1) % 10)["acc"] < 0.05
    # only zeros: far from the data in the classifier's features
    zeros = x[np.asarray(y) == 0]
    assert score(ds, zeros, 0, ["fd"])["fd"] > 10 * floor.mean["fd"]
