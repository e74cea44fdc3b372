"""Progress display of ``fit``: live tqdm bars in terminals and notebooks, plain lines elsewhere.

``verbose=1``: a tqdm bar per epoch (``tqdm.auto``, so a widget in Jupyter) showing the running
loss and metrics, if standard error is a terminal or the code runs in a notebook; otherwise
(output redirected to a file or a pipe, CI logs) the same as ``verbose=2``, so log files do not
fill with bar redraws. ``verbose=2``: one line per epoch on standard output::

    Epoch 3/10 - 0.21s - loss: 0.2345 - accuracy: 0.9120 - val_loss: 0.2500 - lr: 0.0100

``verbose=0``: nothing (messages are still kept in ``history.messages``).
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from neuralab.train.callbacks import Callback

__all__ = ["ProgressLogger", "format_logs", "is_interactive"]


def is_interactive(stream: TextIO) -> bool:
    """Whether live bars make sense on ``stream``: a terminal, or a Jupyter kernel's output."""
    try:
        if stream.isatty():
            return True
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        pass
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def _number(value: float) -> str:
    """Four decimals for ordinary magnitudes, scientific notation for tiny or huge ones."""
    if value == 0 or 1e-3 <= abs(value) < 1e5:
        return f"{value:.4f}"
    return f"{value:.3e}"


def format_logs(logs: dict[str, Any], separator: str = " - ") -> str:
    """``"loss: 0.2345 - accuracy: 0.9120"``: the values of ``logs`` as one line."""
    return separator.join(f"{key}: {_number(value)}" for key, value in logs.items())


class ProgressLogger(Callback):
    """Shows training progress (``fit`` adds it for verbose 1 and 2); see the module docstring."""

    def __init__(self, verbose: int = 1) -> None:
        if verbose not in (1, 2):
            raise ValueError(f"ProgressLogger: verbose must be 1 or 2, got {verbose!r}")
        self.verbose = verbose
        self._bars = False
        self._bar: Any = None
        self._start = 0.0

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._bars = self.verbose == 1 and is_interactive(sys.stderr)

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._start = time.perf_counter()
        if self._bars:
            from tqdm.auto import tqdm

            self._bar = tqdm(
                total=self.params.get("steps"),
                desc=f"Epoch {epoch + 1}/{self.params['epochs']}",
                unit="batch",
                leave=True,
                dynamic_ncols=True,
            )

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if self._bar is not None:
            self._bar.set_postfix_str(format_logs(logs or {}, ", "), refresh=False)
            self._bar.update(1)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self._bar is not None:
            self._bar.set_postfix_str(format_logs(logs or {}, ", "), refresh=False)
            self._close()
            return
        seconds = time.perf_counter() - self._start
        head = f"Epoch {epoch + 1}/{self.params['epochs']} - {seconds:.2f}s"
        print(f"{head} - {format_logs(logs)}" if logs else head, file=sys.stdout, flush=True)

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self._close()

    def _close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def write(self, message: str) -> None:
        """Print a message without breaking an open bar (tqdm.write clears and redraws it)."""
        if self._bar is not None:
            self._bar.write(message, file=sys.stdout)
        else:
            print(message, file=sys.stdout, flush=True)
