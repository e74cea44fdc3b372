"""What a search leaves: the records of its trials, as a table, a best configuration, a plot,
and a results file from which an interrupted search resumes.

The results file is JSON lines: a header line naming the search (its kind, seed, mode and
metric), then one record per finished trial, appended as one ``write`` and flushed to disk
(``fsync``) as soon as the trial ends, in the order trials finish. A search given the same
file again reads the records, checks that each belongs to it (same configuration and seed at
the same trial index), runs only the missing trials, and gives the same table as an
uninterrupted run (apart from the durations). A last line cut short by a crash is dropped.
A NaN or infinite value a trial reported is written as Python's ``json`` writes it (``NaN``,
``Infinity``), so it reads back as it was.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from neuralab.tune.space import Distribution

__all__ = ["ResultsFile", "SearchResults"]

FORMAT_VERSION = 1
_STATUSES = ("ok", "failed", "stopped")
_COLUMNS = ("trial", "score", "status", "error", "duration", "seed")


class ResultsFile:
    """A search's JSON-lines results file: read the finished trials, append new ones."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)

    def read(self) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        """(header, records) of the file; (None, []) when it does not exist or is empty.

        A final line without its newline (a write cut short) is removed from the file.
        """
        if not self.path.exists() or self.path.stat().st_size == 0:
            return None, []
        raw = self.path.read_bytes()
        complete = raw[: raw.rfind(b"\n") + 1]
        if len(complete) < len(raw):
            with open(self.path, "r+b") as f:  # drop the torn tail so appends start a new line
                f.truncate(len(complete))
        lines = complete.decode("utf-8").splitlines()
        if not lines:
            return None, []
        try:
            entries = [json.loads(line) for line in lines]
        except json.JSONDecodeError as e:
            raise ValueError(f"results file {self.path}: a line is not JSON ({e})") from e
        header = entries[0].get("header") if isinstance(entries[0], dict) else None
        if not isinstance(header, dict) or header.get("format") != FORMAT_VERSION:
            raise ValueError(
                f"results file {self.path} does not start with a neuralab.tune header "
                f"(format {FORMAT_VERSION}); it is not a search's results file"
            )
        return header, entries[1:]

    def create(self, header: dict[str, Any]) -> None:
        """Start the file with ``header`` (written whole to a temporary file, then renamed)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps({"header": header}) + "\n", encoding="utf-8")
        os.replace(tmp, self.path)

    def append(self, record: dict[str, Any]) -> None:
        """Append one record as a single write (continued if the OS wrote only part of it),
        flushed to disk before returning."""
        data = memoryview((json.dumps(record) + "\n").encode("utf-8"))
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        try:
            while data:
                data = data[os.write(fd, data) :]
            os.fsync(fd)
        finally:
            os.close(fd)


def _try_pandas() -> Any:
    try:
        import pandas
    except ImportError:
        return None
    return pandas


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _format_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _log_scale(ax: Any, which: str, values: list[float]) -> None:
    """A log ``which`` ('x' or 'y') axis labelled with plain numbers: 1-2-5 ticks over up to
    three decades, one tick per decade beyond."""
    from matplotlib import ticker

    getattr(ax, f"set_{which}scale")("log")
    axis = getattr(ax, f"{which}axis")
    decades = math.log10(max(values) / min(values))
    axis.set_major_locator(ticker.LogLocator(subs=(1.0,) if decades > 3 else (1.0, 2.0, 5.0)))
    axis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(ticker.NullFormatter())


class SearchResults:
    """The trials of a search: ``records`` (one dict per trial, in trial order), ``table()``,
    ``best_config``, ``best_score``, ``plot()``. ``configs``: the configurations as generated,
    indexed by trial (None: use the records' JSON form).

    ``mode`` says which scores are better ('max' or 'min'); ``seed`` is the search's seed.
    Only trials with status 'ok' compete for the best; 'stopped' ones were ended early by the
    stopper and 'failed' ones raised (their ``error`` says what).
    """

    def __init__(
        self,
        records: Sequence[dict[str, Any]],
        mode: str,
        seed: int,
        space: Mapping[str, Any] | None = None,
        name: str = "search",
        configs: Sequence[dict[str, Any]] | None = None,
    ) -> None:
        self.records = sorted(records, key=lambda r: r["trial"])
        self.mode, self.seed, self.space, self.name = mode, seed, dict(space or {}), name
        self.configs = list(configs) if configs is not None else None

    def __len__(self) -> int:
        return len(self.records)

    def __repr__(self) -> str:
        counts = {s: sum(r["status"] == s for r in self.records) for s in _STATUSES}
        best = f", best {self.best_score:.4g}" if counts["ok"] else ""
        return (
            f"SearchResults({len(self)} trials: {counts['ok']} ok, {counts['stopped']} stopped, "
            f"{counts['failed']} failed{best})"
        )

    # --- the best -------------------------------------------------------------------------
    @property
    def best(self) -> dict[str, Any]:
        """The record of the best 'ok' trial (the first of equals, in trial order)."""
        ok = [r for r in self.records if r["status"] == "ok"]
        if not ok:
            errors = sorted({r["error"] for r in self.records if r["error"]})
            raise ValueError(
                f"{self.name}: none of the {len(self.records)} trials finished ok; "
                f"errors: {errors[:3]}"
            )
        sign = 1.0 if self.mode == "max" else -1.0
        return max(ok, key=lambda r: (sign * r["score"], -r["trial"]))

    @property
    def best_config(self) -> dict[str, Any]:
        """The configuration of the best trial, as the search generated it (tuples stay tuples;
        the records hold the JSON form)."""
        best = self.best
        if self.configs is not None:
            return dict(self.configs[best["trial"]])
        return dict(best["config"])

    @property
    def best_score(self) -> float:
        """The score of the best trial."""
        return self.best["score"]

    @property
    def best_trial(self) -> int:
        """The index of the best trial."""
        return self.best["trial"]

    # --- tables ---------------------------------------------------------------------------
    def rows(self) -> list[dict[str, Any]]:
        """One flat dict per trial: trial, each hyperparameter, score, status, the other metrics,
        error, duration, seed. A name clashing with these columns gets a ``config.`` or
        ``metric.`` prefix."""
        rows = []
        for r in self.records:
            row: dict[str, Any] = {"trial": r["trial"]}
            for key, value in r["config"].items():
                row[f"config.{key}" if key in _COLUMNS else key] = value
            row["score"], row["status"] = r["score"], r["status"]
            for key, value in r["metrics"].items():
                row[f"metric.{key}" if key in _COLUMNS or key in r["config"] else key] = value
            row["error"], row["duration"], row["seed"] = r["error"], r["duration"], r["seed"]
            rows.append(row)
        return rows

    def table(self) -> Any:
        """The trials as a pandas DataFrame (index: trial) when pandas is installed, else as
        :meth:`rows`."""
        pandas = _try_pandas()
        rows = self.rows()
        if pandas is None:
            return rows
        columns = list(dict.fromkeys(key for row in rows for key in row))
        return pandas.DataFrame(rows, columns=columns).set_index("trial")

    def format(self, sort: bool = False, max_rows: int | None = None) -> str:
        """The table as aligned text (best first with ``sort``), errors and seeds left out."""
        rows = [{k: v for k, v in row.items() if k not in ("error", "seed")} for row in self.rows()]
        if sort:
            sign = -1.0 if self.mode == "max" else 1.0
            rows.sort(key=lambda r: (r["status"] != "ok", sign * (r["score"] or 0.0)))
        rows = rows[:max_rows]
        columns = list(dict.fromkeys(key for row in rows for key in row))
        cells = [[_format_value(row.get(c)) for c in columns] for row in rows]
        widths = [max([len(c)] + [len(line[i]) for line in cells]) for i, c in enumerate(columns)]
        lines = ["  ".join(c.rjust(w) for c, w in zip(columns, widths))]
        lines += ["  ".join(v.rjust(w) for v, w in zip(line, widths)) for line in cells]
        return "\n".join(lines)

    # --- the plot -------------------------------------------------------------------------
    def _log_axis(self, key: str, values: list[Any]) -> bool:
        """A log axis for a log-scale distribution, or positive values spanning 10x or more."""
        dist = self.space.get(key)
        if isinstance(dist, Distribution):
            return dist.log_scale
        positive = [v for v in values if _is_number(v) and v > 0]
        return len(positive) == len(values) and max(positive) >= 10 * min(positive)

    def plot(
        self, path: str | os.PathLike | None = None, params: Sequence[str] | None = None
    ) -> Any:
        """Score against each hyperparameter (log axes for log-scale ones), the first two numeric
        ones against each other coloured by score (the grid-versus-random picture), and the
        reported values per epoch when trials reported any. Saved to ``path`` when given;
        returns the matplotlib Figure. Needs matplotlib (``pip install 'neuralab[viz]'``)."""
        from neuralab.viz._figure import finish, pyplot

        plt = pyplot()
        keys = list(params) if params is not None else [
            k for k in dict.fromkeys(k for r in self.records for k in r["config"])
            if len({json.dumps(r["config"].get(k), sort_keys=True) for r in self.records}) > 1
        ]  # fmt: skip
        numeric = [k for k in keys if all(_is_number(r["config"].get(k)) for r in self.records)]
        curves = [r for r in self.records if r["curve"]]
        panels = len(keys) + (len(numeric) >= 2) + bool(curves)
        fig, axes = plt.subplots(1, max(panels, 1), figsize=(4.0 * max(panels, 1), 3.4))
        axes = list(axes.flat) if hasattr(axes, "flat") else [axes]
        ok = [r for r in self.records if r["status"] == "ok"]
        best = self.best if ok else None
        for ax, key in zip(axes, keys):
            self._score_panel(ax, key, key in numeric, best)
        panel = len(keys)
        if len(numeric) >= 2:
            self._pair_panel(axes[panel], numeric[0], numeric[1], fig)
            panel += 1
        if curves:
            ax = axes[panel]
            for r in curves:
                epochs, values = zip(*r["curve"])
                style = {"ok": "-", "stopped": ":", "failed": "--"}[r["status"]]
                ax.plot(epochs, values, style, lw=2.2 if r is best else 0.9, alpha=0.85)
            stopped = any(r["status"] == "stopped" for r in curves)
            ax.set(xlabel="epoch", ylabel="reported value")
            ax.set_title("per epoch (dotted: stopped)" if stopped else "per epoch")
        title = f"{self.name}: {len(self)} trials"
        if best is not None:
            title += f", best score {best['score']:.4g} (trial {best['trial']})"
        fig.suptitle(title)
        fig.tight_layout()
        return finish(fig, path)

    def _score_panel(self, ax: Any, key: str, numeric: bool, best: dict | None) -> None:
        values = [r["config"].get(key) for r in self.records]
        if numeric:
            positions = values
        else:
            labels = list(dict.fromkeys(json.dumps(v) for v in values))
            positions = [labels.index(json.dumps(v)) for v in values]
            ax.set_xticks(range(len(labels)), [label.strip('"') for label in labels])
        scored = [r["score"] is not None for r in self.records]
        for status, marker in (("ok", "o"), ("stopped", "x")):
            pts = [
                (x, r["score"])
                for x, r, s in zip(positions, self.records, scored)
                if s and r["status"] == status
            ]
            if pts:
                ax.scatter(*zip(*pts), marker=marker, label=status, alpha=0.8)
        if best is not None:
            x = positions[self.records.index(best)]
            ax.scatter([x], [best["score"]], marker="*", s=220, c="gold", edgecolors="k", zorder=3)
        if numeric and self._log_axis(key, values):
            _log_scale(ax, "x", values)
        ax.set(xlabel=key, ylabel="score")

    def _pair_panel(self, ax: Any, kx: str, ky: str, fig: Any) -> None:
        pts = [
            (r["config"][kx], r["config"][ky], r["score"])
            for r in self.records
            if r["score"] is not None and math.isfinite(r["score"])
        ]
        if pts:
            xs, ys, scores = zip(*pts)
            sc = ax.scatter(xs, ys, c=scores, cmap="viridis", edgecolors="k")
            fig.colorbar(sc, ax=ax, label="score")
        for key, which in ((kx, "x"), (ky, "y")):
            values = [r["config"][key] for r in self.records]
            if self._log_axis(key, values):
                _log_scale(ax, which, values)
        ax.set(xlabel=kx, ylabel=ky, title="configurations tried")
