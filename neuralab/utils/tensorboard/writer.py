"""torch.utils.tensorboard's ``SummaryWriter``: values, histograms, images, text, hyperparameters.

Events are written with the ``tensorboard`` package's own event-file writer, queued and flushed
every ``flush_secs`` by its background thread. ``add_graph`` writes nothing (neuralab does not
trace models into graphs) and says so once; embeddings, audio, video, meshes and PR curves are
not provided.
"""

from __future__ import annotations

import os
import socket
import time
import warnings
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from tensorboard.compat.proto.event_pb2 import Event, SessionLog
from tensorboard.compat.proto.summary_pb2 import Summary
from tensorboard.summary.writer.event_file_writer import EventFileWriter

from neuralab.utils.tensorboard import summary as tb

__all__ = ["SummaryWriter"]


def _default_log_dir(comment: str) -> str:
    """runs/<Mon><dd>_<HH>-<MM>-<SS>_<host><comment>, as torch names a run."""
    stamp = datetime.now().strftime("%b%d_%H-%M-%S")
    return os.path.join("runs", f"{stamp}_{socket.gethostname()}{comment}")


class SummaryWriter:
    """Write TensorBoard event files under ``log_dir`` (default ``runs/<time>_<host><comment>``).

    ``purge_step``: TensorBoard drops the events of an earlier run at and after this step (to
    resume a crashed run). ``max_queue`` events are buffered; the queue is flushed every
    ``flush_secs`` seconds and by :meth:`flush` and :meth:`close`. Use it as a context manager
    to close it.
    """

    def __init__(
        self,
        log_dir: str | os.PathLike | None = None,
        comment: str = "",
        purge_step: int | None = None,
        max_queue: int = 10,
        flush_secs: int = 120,
        filename_suffix: str = "",
    ) -> None:
        self.log_dir = os.fspath(log_dir) if log_dir else _default_log_dir(comment)
        self.purge_step = purge_step
        self.max_queue = max_queue
        self.flush_secs = flush_secs
        self.filename_suffix = filename_suffix
        self.file_writer: EventFileWriter | None = None
        self.all_writers: dict[str, EventFileWriter] | None = None
        self._get_file_writer()

    # --- event files ---------------------------------------------------------------------
    def _open(self, log_dir: str) -> EventFileWriter:
        return EventFileWriter(log_dir, self.max_queue, self.flush_secs, self.filename_suffix)

    def _get_file_writer(self) -> EventFileWriter:
        """The writer of ``log_dir``; opened again (a new event file) after :meth:`close`."""
        if self.file_writer is None:
            self.file_writer = self._open(self.log_dir)
            self.all_writers = {self.log_dir: self.file_writer}
            if self.purge_step is not None:
                start = SessionLog(status=SessionLog.START)
                self.file_writer.add_event(Event(step=self.purge_step, session_log=start))
                self.purge_step = None
        return self.file_writer

    def _add(
        self,
        summary: Summary,
        global_step: Any = None,
        walltime: float | None = None,
        writer: EventFileWriter | None = None,
    ) -> None:
        event = Event(summary=summary, wall_time=time.time() if walltime is None else walltime)
        if global_step is not None:
            event.step = int(global_step)
        (writer or self._get_file_writer()).add_event(event)

    def get_logdir(self) -> str:
        """The directory this writer writes to."""
        return self.log_dir

    # --- values --------------------------------------------------------------------------
    def add_scalar(
        self,
        tag: str,
        scalar_value: Any,
        global_step: int | None = None,
        walltime: float | None = None,
        new_style: bool = False,
        double_precision: bool = False,
    ) -> None:
        """Log one number (a float, int, NumPy scalar or one-element tensor) at ``global_step``."""
        summary = tb.scalar(tag, scalar_value, new_style, double_precision)
        self._add(summary, global_step, walltime)

    def add_scalars(
        self,
        main_tag: str,
        tag_scalar_dict: Mapping[str, Any],
        global_step: int | None = None,
        walltime: float | None = None,
    ) -> None:
        """Log several numbers as one chart: each goes to ``<log_dir>/<main_tag>_<tag>``."""
        walltime = time.time() if walltime is None else walltime
        self._get_file_writer()
        for tag, value in tag_scalar_dict.items():
            run = os.path.join(self.log_dir, f"{main_tag.replace('/', '_')}_{tag}")
            if run not in self.all_writers:
                self.all_writers[run] = self._open(run)
            self._add(tb.scalar(main_tag, value), global_step, walltime, self.all_writers[run])

    def add_histogram(
        self,
        tag: str,
        values: Any,
        global_step: int | None = None,
        bins: Any = "tensorflow",
        walltime: float | None = None,
        max_bins: int | None = None,
    ) -> None:
        """Log the distribution of ``values``; ``bins`` as np.histogram's, or 'tensorflow'."""
        self._add(tb.histogram(tag, values, bins, max_bins), global_step, walltime)

    def add_image(
        self,
        tag: str,
        img_tensor: Any,
        global_step: int | None = None,
        walltime: float | None = None,
        dataformats: str = "CHW",
    ) -> None:
        """Log an image: floats in [0, 1] or uint8, laid out as ``dataformats`` (CHW, HWC, HW)."""
        self._add(tb.image(tag, img_tensor, dataformats), global_step, walltime)

    def add_images(
        self,
        tag: str,
        img_tensor: Any,
        global_step: int | None = None,
        walltime: float | None = None,
        dataformats: str = "NCHW",
    ) -> None:
        """Log a batch of images tiled into one, 8 to a row."""
        self._add(tb.image(tag, img_tensor, dataformats, "add_images"), global_step, walltime)

    def add_figure(
        self,
        tag: str,
        figure: Any,
        global_step: int | None = None,
        close: bool = True,
        walltime: float | None = None,
    ) -> None:
        """Log a matplotlib figure (or a list of them, tiled) as an image; ``close`` closes it."""
        figures = figure if isinstance(figure, list) else [figure]
        images = [tb.figure_chw(f) for f in figures]
        if close:
            import matplotlib.pyplot as plt  # already imported by whoever made the figure

            for f in figures:
                plt.close(f)
        if isinstance(figure, list):
            self.add_images(tag, images, global_step, walltime)
        else:
            self.add_image(tag, images[0], global_step, walltime)

    def add_text(
        self,
        tag: str,
        text_string: str,
        global_step: int | None = None,
        walltime: float | None = None,
    ) -> None:
        """Log text (TensorBoard renders it as Markdown)."""
        self._add(tb.text(tag, text_string), global_step, walltime)

    def add_graph(
        self,
        model: Any,
        input_to_model: Any = None,
        verbose: bool = False,
        use_strict_trace: bool = True,
    ) -> None:
        """Accepted for torch programs, but writes nothing: neuralab does not trace graphs."""
        warnings.warn(
            "SummaryWriter.add_graph: neuralab does not trace models into graphs; no graph "
            "is written (everything else is logged as usual)",
            UserWarning,
            stacklevel=2,
        )

    def add_hparams(
        self,
        hparam_dict: dict[str, Any],
        metric_dict: dict[str, Any],
        hparam_domain_discrete: dict[str, list] | None = None,
        run_name: str | None = None,
        global_step: int | None = None,
    ) -> None:
        """Log a run's hyperparameters and final metrics for the HPARAMS tab.

        They go to a sub-run ``<log_dir>/<run_name>`` (default: the current time), as in torch;
        each metric is also logged there as a scalar.
        """
        if not isinstance(hparam_dict, dict) or not isinstance(metric_dict, dict):
            raise TypeError("add_hparams: hparam_dict and metric_dict must be dicts")
        _check_domains(hparam_dict, hparam_domain_discrete)
        summaries = tb.hparams(hparam_dict, metric_dict, hparam_domain_discrete)
        log_dir = os.path.join(self.log_dir, run_name or str(time.time()))
        with SummaryWriter(log_dir) as run:
            for summary in summaries:
                run._add(summary, global_step)
            for tag, value in metric_dict.items():
                run.add_scalar(tag, value, global_step)

    # --- lifetime ------------------------------------------------------------------------
    def flush(self) -> None:
        """Write every queued event to disk."""
        for writer in (self.all_writers or {}).values():
            writer.flush()

    def close(self) -> None:
        """Flush and close the event files (a later ``add_*`` opens new ones)."""
        for writer in (self.all_writers or {}).values():
            writer.close()
        self.file_writer = self.all_writers = None

    def __enter__(self) -> SummaryWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _check_domains(hparams: dict[str, Any], domains: dict[str, list] | None) -> None:
    """Each discrete domain names a logged hyperparameter and lists values of its type."""
    if domains is None:
        return
    if not isinstance(domains, dict):
        raise TypeError("add_hparams: hparam_domain_discrete must be a dict of lists")
    for name, values in domains.items():
        if name not in hparams or not isinstance(values, list):
            raise TypeError(
                f"add_hparams: hparam_domain_discrete['{name}'] must be a list of the values "
                f"hparam_dict['{name}'] can take"
            )
        if not all(isinstance(v, type(hparams[name])) for v in values):
            raise TypeError(
                f"add_hparams: hparam_domain_discrete['{name}'] must hold values of the type of "
                f"hparam_dict['{name}'] ({type(hparams[name]).__name__})"
            )
