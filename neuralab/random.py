"""Randomness: one global NumPy Generator, seeded by ``nl.manual_seed``, behind every random op,
and torch's ``Generator`` for independent streams. The sampling functions (randperm,
multinomial, ...) are in :mod:`neuralab.ops.sampling`. It imports no Tensor
code, so every module can import it."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import numpy as np

from neuralab.device import CPU, require_cpu


class Generator(np.random.Generator):
    """torch.Generator: an independent random stream (a NumPy Generator, so every neuralab
    function that takes a NumPy Generator takes it too). CPU only."""

    def __init__(self, device: Any = "cpu", seed: int | None = None) -> None:
        require_cpu(device, "Generator")
        seq = np.random.SeedSequence(seed)
        super().__init__(np.random.PCG64(seq))
        self._seed = int(seq.entropy)

    @property
    def device(self) -> Any:
        """The CPU, where every generator lives."""
        return CPU

    def manual_seed(self, seed: int) -> Generator:
        """Restart the stream from ``seed``; returns the generator itself."""
        seed = _check_seed(seed)
        self.bit_generator.state = np.random.PCG64(seed).state
        self._seed = seed
        return self

    def seed(self) -> int:
        """Restart the stream from a fresh nondeterministic seed, and return that seed."""
        seed = int(np.random.SeedSequence().entropy) % 2**63
        self.manual_seed(seed)
        return seed

    def initial_seed(self) -> int:
        """The seed the stream was last started from."""
        return self._seed

    def get_state(self) -> Any:
        """The stream's state as a uint8 tensor (for :meth:`set_state`)."""
        from neuralab.tensor import constant

        text = json.dumps({"seed": self._seed, "state": self.bit_generator.state})
        return constant(np.frombuffer(text.encode(), np.uint8).copy())

    def set_state(self, new_state: Any) -> Generator:
        """Restore a state taken by :meth:`get_state`."""
        saved = json.loads(bytes(np.asarray(new_state, np.uint8)).decode())
        self.bit_generator.state = saved["state"]
        self._seed = saved["seed"]
        return self


def _check_seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise TypeError(f"manual_seed: seed must be an int, got {type(seed).__name__}")
    return int(seed) % 2**64  # torch wraps negative seeds too


_generator: np.random.Generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Reseed the global generator, making every later random op reproducible; returns it."""
    global _generator
    _generator = Generator().manual_seed(seed)
    return _generator


def seed() -> int:
    """Reseed the global generator nondeterministically and return the seed."""
    return manual_seed(int(np.random.SeedSequence().entropy) % 2**63).initial_seed()


def initial_seed() -> int:
    """The seed the global generator was last started from."""
    return getattr(_generator, "_seed", 0)


def get_rng_state() -> Any:
    """The global generator's state as a uint8 tensor (for :func:`set_rng_state`)."""
    if not isinstance(_generator, Generator):
        raise RuntimeError("get_rng_state: the global generator is a plain NumPy Generator here")
    return _generator.get_state()


def set_rng_state(new_state: Any) -> None:
    """Restore the global generator's state taken by :func:`get_rng_state`."""
    global _generator
    _generator = Generator().set_state(new_state)


def generator() -> np.random.Generator:
    """The global generator (replaced by each ``manual_seed`` call)."""
    return _generator


def numpy_rng(generator: Any = None, where: str = "random") -> np.random.Generator:
    """The stream a sampling function draws from: ``generator`` or the global one."""
    if generator is None:
        return _generator
    if not isinstance(generator, np.random.Generator):
        raise TypeError(f"{where}: generator must be a Generator, got {type(generator).__name__}")
    return generator


@contextlib.contextmanager
def use_generator(rng: np.random.Generator) -> Iterator[np.random.Generator]:
    """Make ``rng`` the global generator inside the block, then put the previous one back.

    For code that keeps its own random stream (a playground session, a search trial) while
    calling layers that draw from the global one (initialisation, dropout).
    """
    global _generator
    saved, _generator = _generator, rng
    try:
        yield rng
    finally:
        _generator = saved
