"""Datasets by name: the one table the ``neuralab`` command, the playground and its script
export read.

Each :class:`DatasetInfo` says what kind of problem the set poses and how to make it; names are
the functions' own (``multi_gauss``, ``checkerboard``, ``breast_cancer``), and the other
spellings in use are aliases (the playground's ``reg-gauss``, ``reg-plane``, ``checker``; the
command line's ``multi-gauss``, ``breast-cancer``: case and ``-``/``_`` never matter).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from neuralab.data import files, real, sequences, synthetic
from neuralab.data.scenes import scenes
from neuralab.registry import Registry

__all__ = ["DATASETS", "KINDS", "PLAYGROUND_DATASETS", "DatasetInfo"]

KINDS = {
    "two_class": "2-D points in two classes",
    "regression": "2-D points with a real-valued target",
    "multiclass": "2-D points in several classes",
    "tabular": "a table of measurements in classes",
    "images": "images in classes",
    "image_files": "images in classes, read from files in a folder",
    "scenes": "images with a class for every pixel",
    "pairs": "pairs of strings (source → target)",
    "text": "a text, as characters",
    "sequences": "token sequences in classes",
    "points": "points from a distribution (no labels)",
}
"""What each dataset kind holds, as errors and help texts say it."""


@dataclass(frozen=True)
class DatasetInfo:
    """A named dataset: the function that makes or reads it, its kind (see ``KINDS``), and the
    keyword arguments the playground's size, noise, seed and class-count settings map to."""

    function: Callable[..., Any]
    kind: str
    playground_args: tuple[str | tuple[str, Any], ...] = ("n", "noise", "seed")

    def make(self, n: int, noise: float, seed: int | None, k: int = 2) -> Any:
        """The generated set for the playground's settings (2-D sets only)."""
        return self.function(**self.arguments(n, noise, seed, k))

    def arguments(self, n: int, noise: float, seed: int | None, k: int = 2) -> dict[str, Any]:
        """The keyword arguments :meth:`make` passes, in the function's order."""
        given = {"n": n, "noise": noise, "seed": seed, "k": k}
        pairs = (a if isinstance(a, tuple) else (a, given[a]) for a in self.playground_args)
        return dict(pairs)

    def source(self, n: int, noise: float, seed: int | None, k: int = 2) -> str:
        """The same call as Python source (``checkerboard(n=500, k=3, cells=4, ...)``)."""
        args = self.arguments(n, noise, seed, k)
        return f"{self.function.__name__}({', '.join(f'{a}={v!r}' for a, v in args.items())})"


DATASETS: Registry[DatasetInfo] = Registry("dataset")
_PLAYGROUND = ("n", "noise", "seed")
for _fn, _kind, _aliases, _args in (
    (synthetic.circle, "two_class", (), _PLAYGROUND),
    (synthetic.xor, "two_class", (), _PLAYGROUND),
    (synthetic.gauss, "two_class", (), _PLAYGROUND),
    (synthetic.spiral, "two_class", (), _PLAYGROUND),
    (synthetic.plane, "regression", ("reg-plane",), _PLAYGROUND),
    (synthetic.multi_gauss, "regression", ("reg-gauss",), _PLAYGROUND),
    (synthetic.moons, "multiclass", (), _PLAYGROUND),
    (synthetic.blobs, "multiclass", (), ("n", "k", "noise", "seed")),
    (synthetic.checkerboard, "multiclass", ("checker",), ("n", "k", ("cells", 4), "noise", "seed")),
    (real.iris, "tabular", (), ()),
    (real.wine, "tabular", (), ()),
    (real.breast_cancer, "tabular", (), ()),
    (real.digits, "images", (), ()),
    (files.mnist, "image_files", (), ()),
    (files.fashion_mnist, "image_files", (), ()),
    (files.cifar10, "image_files", ("cifar",), ()),
    (scenes, "scenes", (), ()),
    (sequences.dates, "pairs", (), ()),
):
    DATASETS.register(_fn.__name__, DatasetInfo(_fn, _kind, _args), aliases=_aliases)


def _tiny_text(**_: Any) -> str:
    """The shipped text the character language model learns (``neuralab.data.TINY_TEXT``)."""
    return sequences.TINY_TEXT


DATASETS.register("text", DatasetInfo(_tiny_text, "text"), aliases=("tiny_text",))

PLAYGROUND_DATASETS = {
    name: DATASETS.get(name).function for name in DATASETS.where(
        lambda info: info.kind in ("two_class", "regression")
    )
}  # fmt: skip
"""The TensorFlow Playground's datasets by name (the first four classify, the last two regress)."""
