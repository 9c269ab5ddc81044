"""A small classifier of a labelled data set, trained locally: the judge of class-conditional samples.

Image quality without downloads: an MLP (flattened input → 256 → FEATURES → K, GELU) trained with
Adam (optax) on the data set's training points and labels (STEPS minibatches of BATCH from a
fixed key; for digits the training split, the held-out fifth never seen), then frozen. Its
accuracy on held-out points is what a perfect generator could score on class accuracy; its
penultimate layer (FEATURES numbers) is the feature space of the Fréchet distance (metrics/fd.py).

It is trained once per data set and kept in the user's cache directory (classifiers/<key>,
weights in safetensors, its record in JSON), keyed by VERSION, the architecture and a digest of
a fixed draw of the data's training and held-out points with their labels — so another data set,
or a changed file, trains its own.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

VERSION = 1
HIDDEN, FEATURES = 256, 64
STEPS, BATCH, LR = 3000, 256, 2e-3
EVAL_POINTS = 4000  # held-out draws the accuracy is measured on
TRAIN_SALT, EVAL_SALT, DIGEST_SALT = 0xC1A5, 0xE7A1, 0xD16E


@dataclass(frozen=True, eq=False)
class Classifier:
    params: dict  # {"w1", "b1", "w2", "b2", "w3", "b3"} float32 arrays
    n_classes: int
    accuracy: float  # on held-out points
    key: str  # its cache key

    def features(self, x) -> np.ndarray:
        """Penultimate-layer features (n, FEATURES) of points (n, *shape), float64."""
        return np.asarray(_features(self.params, _flat(x)), np.float64)

    def predict(self, x) -> np.ndarray:
        """The most likely class of each point, (n,) int."""
        return np.asarray(jnp.argmax(_logits(self.params, _flat(x)), -1))


def _flat(x) -> jax.Array:
    x = jnp.asarray(x, jnp.float32)
    return x.reshape(x.shape[0], -1)


@jax.jit
def _features(p, x):
    h = jax.nn.gelu(x @ p["w1"] + p["b1"])
    return jax.nn.gelu(h @ p["w2"] + p["b2"])


@jax.jit
def _logits(p, x):
    return _features(p, x) @ p["w3"] + p["b3"]


def _init(key, dim: int, k: int) -> dict:
    k1, k2, k3 = jax.random.split(key, 3)

    def dense(key, a, b):
        return jax.random.normal(key, (a, b), jnp.float32) * jnp.sqrt(1.0 / a)

    return {"w1": dense(k1, dim, HIDDEN), "b1": jnp.zeros(HIDDEN), "w2": dense(k2, HIDDEN, FEATURES),
            "b2": jnp.zeros(FEATURES), "w3": dense(k3, FEATURES, k), "b3": jnp.zeros(k)}


@partial(jax.jit, static_argnums=(0, 2, 3))
def _train(draw, key, dim: int, k: int):
    import optax

    tx = optax.adamw(optax.cosine_decay_schedule(LR, STEPS), weight_decay=1e-4)
    params = _init(jax.random.fold_in(key, 0), dim, k)

    def loss(p, x, y):
        return optax.softmax_cross_entropy_with_integer_labels(_logits(p, x), y).mean()

    def step(carry, i):
        p, opt = carry
        x, y = draw(jax.random.fold_in(key, i + 1), BATCH)
        g = jax.grad(loss)(p, x.reshape(BATCH, -1), y)
        upd, opt = tx.update(g, opt, p)
        return (optax.apply_updates(p, upd), opt), None

    (params, _), _ = jax.lax.scan(step, (params, tx.init(params)), jnp.arange(STEPS))
    return params


def _digest(dataset) -> str:
    """A digest of the data set's fingerprint (a file's sha256) and of a fixed draw of its training
    and held-out points with their labels."""
    h = hashlib.sha256(f"{VERSION}|{HIDDEN}|{FEATURES}|{STEPS}|{BATCH}|{LR}|{dataset.n_classes}|{dataset.fingerprint}"
                       .encode())
    for held in (False, True):
        x, y = dataset.labelled_sample(jax.random.key(DIGEST_SALT), 512, held_out=held)
        h.update(np.asarray(x, np.float32).tobytes())
        h.update(np.asarray(y, np.int32).tobytes())
    return h.hexdigest()[:32]


_MEMO: dict = {}  # data set -> its classifier, for this process


def classifier_for(dataset) -> Classifier:
    """The data set's classifier: from memory, else the user's cache, else trained now and cached."""
    if dataset in _MEMO:
        return _MEMO[dataset]
    from diffcli.jaxsetup import cache_dir

    key = _digest(dataset)
    root = cache_dir().parent / "classifiers"
    clf = _read(root, key, dataset.n_classes)
    if clf is None:
        clf = train_classifier(dataset, key)
        _write(root, clf)
    _MEMO[dataset] = clf
    return clf


def train_classifier(dataset, key: str = "") -> Classifier:
    """Train the classifier on the data's training points; measure it on held-out points."""
    dim = int(np.prod(dataset.shape))
    params = _train(dataset.labelled, jax.random.key(TRAIN_SALT), dim, dataset.n_classes)
    x, y = dataset.labelled_sample(jax.random.key(EVAL_SALT), EVAL_POINTS, held_out=True)
    clf = Classifier({k: np.asarray(v) for k, v in params.items()}, dataset.n_classes, float("nan"), key)
    return replace(clf, accuracy=float(np.mean(clf.predict(x) == np.asarray(y))))


def _read(root, key: str, k: int) -> Classifier | None:
    from safetensors.numpy import load_file

    try:
        info = json.loads((root / f"{key}.json").read_text())
        params = load_file(str(root / f"{key}.safetensors"))
        if info.get("version") != VERSION or info.get("n_classes") != k or set(params) != {
                "w1", "b1", "w2", "b2", "w3", "b3"}:
            return None
        return Classifier(params, k, float(info["accuracy"]), key)
    except (OSError, ValueError, KeyError, TypeError):  # absent or damaged: train it again
        return None


def _write(root, clf: Classifier) -> None:
    from safetensors.numpy import save

    from diffcli.runs import write_bytes, write_json

    try:
        root.mkdir(parents=True, exist_ok=True)
        write_bytes(root / f"{clf.key}.safetensors", save({k: np.asarray(v) for k, v in clf.params.items()}))
        write_json(root / f"{clf.key}.json", {"version": VERSION, "n_classes": clf.n_classes,
                                              "accuracy": clf.accuracy, "features": FEATURES})
    except OSError:  # a read-only cache costs time, never a result
        pass
