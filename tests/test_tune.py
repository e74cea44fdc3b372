"""neuralab.tune: the configurations of grids and distributions, seeded trials, failures, early
stopping, the results table and file, resuming an interrupted search, estimators, the plot."""

from __future__ import annotations

import json
import math
import random

import numpy as np
import pytest
from scipy import stats

import neuralab as nl
from neuralab import tune
from neuralab.tune.trial import run_trial

# ----------------------------------------------------------------------------- trial functions


def curve_trial(config, seed, report):
    """A fake training run: the value climbs toward a peak at lr=1e-2, width=32, with noise."""
    rng = np.random.default_rng(seed)
    if config.get("activation") == "bad":
        raise ValueError(f"unknown activation {config['activation']!r}")
    peak = -((math.log10(config["lr"]) + 2) ** 2) - (config["width"] / 32 - 1) ** 2
    value = None
    for epoch in range(config.get("epochs", 4)):
        value = peak - 1.0 / (epoch + 1) + 0.01 * rng.normal()
        report(epoch, value)
    return {"accuracy": value, "epochs_run": config.get("epochs", 4)}


def global_rng_trial(config, seed):
    """Draws from neuralab's, NumPy's and Python's global generators only (no use of seed)."""
    return float(nl.randn(1).item() + np.random.rand() + random.random()) + config["x"]


def no_report_trial(config, seed):
    return config["x"]


def nan_trial(config, seed, report):
    report(0, 0.5)
    report(1, float("nan"))
    return 0.5


class Interrupting:
    """A trial function that counts its calls and raises KeyboardInterrupt at trial ``at``."""

    def __init__(self, at=None):
        self.at, self.calls = at, []

    def __call__(self, config, seed, report):
        self.calls.append(config)
        if self.at is not None and len(self.calls) == self.at + 1:
            raise KeyboardInterrupt
        return curve_trial(config, seed, report)


def rows(results):
    """The table without the durations (the only column that changes from run to run)."""
    return [{k: v for k, v in row.items() if k != "duration"} for row in results.rows()]


GRID = {"lr": [1e-3, 1e-2, 1e-1], "width": [16, 32], "activation": ["relu", "bad"]}
SPACE = {
    "lr": tune.loguniform(1e-4, 1.0),
    "width": tune.lograndint(4, 128),
    "activation": tune.choice(["relu", "tanh", "bad"]),
    "dropout": tune.uniform(0.0, 0.5),
    "layers": tune.randint(1, 4),
}


# ----------------------------------------------------------------------------- configurations


def test_grid_order_is_nested_loops_last_key_fastest():
    configs = tune.grid_configs({"lr": [1, 2], "width": [8, 16, 32], "epochs": 5})
    assert configs == [{"lr": lr, "width": w, "epochs": 5} for lr in (1, 2) for w in (8, 16, 32)]
    search = tune.GridSearch(curve_trial, GRID, mode="max", metric="accuracy")
    assert len(search.configs()) == 12
    assert search.configs()[:3] == [
        {"lr": 1e-3, "width": 16, "activation": "relu"},
        {"lr": 1e-3, "width": 16, "activation": "bad"},
        {"lr": 1e-3, "width": 32, "activation": "relu"},
    ]


def test_grid_errors_name_the_hyperparameter():
    with pytest.raises(TypeError, match=r"'lr' is a distribution.*\.grid\(n\)"):
        tune.grid_configs({"lr": tune.loguniform(1e-3, 1)})
    with pytest.raises(ValueError, match="'width' has an empty list"):
        tune.grid_configs({"width": []})
    with pytest.raises(TypeError, match="non-empty dict"):
        tune.grid_configs({})
    with pytest.raises(ValueError, match="low < high"):
        tune.loguniform(1e-1, 1e-3)
    with pytest.raises(ValueError, match="> 0"):
        tune.loguniform(0, 1)
    with pytest.raises(ValueError, match="summing to 1"):
        tune.choice(["a", "b"], p=[0.5, 0.6])


def test_distribution_grids():
    assert tune.loguniform(1e-4, 1e-1).grid(4) == pytest.approx([1e-4, 1e-3, 1e-2, 1e-1])
    assert tune.uniform(0.0, 0.5).grid(3) == [0.0, 0.25, 0.5]
    assert tune.randint(1, 5).grid(10) == [1, 2, 3, 4]
    assert tune.lograndint(8, 129).grid(5) == [8, 16, 32, 64, 128]
    assert tune.choice(["relu", "tanh"]).grid() == ["relu", "tanh"]


def test_random_sampling_distributions():
    configs = tune.sample_configs(SPACE, 3000, seed=0)
    lr = np.array([c["lr"] for c in configs])
    assert lr.min() >= 1e-4 and lr.max() < 1.0
    # log-uniform: log10(lr) uniform on [-4, 0) — each decade gets a quarter of the draws
    assert stats.kstest((np.log10(lr) + 4) / 4, "uniform").pvalue > 1e-3
    assert np.histogram(np.log10(lr), bins=4, range=(-4, 0))[0] == pytest.approx(
        [750] * 4, rel=0.12
    )
    dropout = np.array([c["dropout"] for c in configs])
    assert stats.kstest(dropout / 0.5, "uniform").pvalue > 1e-3
    layers = np.array([c["layers"] for c in configs])
    assert set(layers) == {1, 2, 3} and np.bincount(layers)[1:] == pytest.approx(
        [1000] * 3, rel=0.12
    )
    width = np.array([c["width"] for c in configs])
    assert width.min() >= 4 and width.max() <= 127 and width.dtype.kind == "i"
    assert np.mean(width < 23) == pytest.approx(0.5, abs=0.04)  # 22.6 is the log-midpoint
    acts = [c["activation"] for c in configs]
    assert {a: acts.count(a) for a in set(acts)} == pytest.approx(
        {"relu": 1000, "tanh": 1000, "bad": 1000}, rel=0.12
    )
    assert all(type(c["lr"]) is float and type(c["layers"]) is int for c in configs)
    weighted = tune.sample_configs({"a": tune.choice([0, 1], p=[0.9, 0.1])}, 2000, seed=1)
    assert np.mean([c["a"] for c in weighted]) == pytest.approx(0.1, abs=0.025)


def test_random_configs_are_seeded_and_do_not_depend_on_the_number_of_trials():
    a = tune.sample_configs(SPACE, 10, seed=7)
    assert a == tune.sample_configs(SPACE, 10, seed=7)
    assert a[:4] == tune.sample_configs(SPACE, 4, seed=7)
    assert a != tune.sample_configs(SPACE, 10, seed=8)
    assert tune.sample_configs({"a": [1, 2], "b": 3}, 5, seed=0)[0]["b"] == 3  # list: a choice
    search = tune.RandomSearch(
        curve_trial, SPACE, n_trials=10, mode="max", metric="accuracy", seed=7
    )
    assert search.configs() == a
    seeds = [tune.trial_seed(7, i) for i in range(100)]
    assert len(set(seeds)) == 100 and seeds == [tune.trial_seed(7, i) for i in range(100)]


# ----------------------------------------------------------------------------- running


def test_grid_search_table_best_and_failures():
    search = tune.GridSearch(curve_trial, GRID, mode="max", metric="accuracy", n_jobs=1)
    with pytest.warns(RuntimeWarning, match=r"6 of 12 trials failed.*unknown activation 'bad'"):
        res = search.run()
    assert search.results_ is res and len(res) == 12
    table = res.rows()
    assert [r["trial"] for r in table] == list(range(12))
    assert list(table[0]) == [
        "trial", "lr", "width", "activation", "score", "status", "epochs_run", "error", "duration", "seed",
    ]  # fmt: skip
    for row, config in zip(table, search.configs()):
        assert {k: row[k] for k in config} == config
        if config["activation"] == "bad":
            assert row["status"] == "failed" and row["score"] is None
            assert row["error"] == "ValueError: unknown activation 'bad'"
            assert "in curve_trial" in res.records[row["trial"]]["traceback"]
        else:
            assert row["status"] == "ok" and row["error"] is None and row["epochs_run"] == 4
    assert res.best_config == {"lr": 1e-2, "width": 32, "activation": "relu"}
    assert res.best_trial == 6
    assert res.best_score == max(r["score"] for r in table if r["score"] is not None)
    assert res.records[6]["curve"][0][0] == 0 and len(res.records[6]["curve"]) == 4
    # the same search minimizing: the worst becomes the best
    low = tune.GridSearch(curve_trial, GRID, mode="min", metric="accuracy", n_jobs=1)
    with pytest.warns(RuntimeWarning):
        assert low.run().best_score == min(r["score"] for r in table if r["score"] is not None)
    text = res.format(sort=True)
    assert text.splitlines()[1].split()[:3] == ["6", "0.01", "32"]


def test_trial_results_forms_and_nonfinite_scores():
    rec = run_trial(no_report_trial, {"x": 2.5}, seed=1, index=0, mode="max")
    assert rec["status"] == "ok" and rec["score"] == 2.5 and rec["curve"] == []
    rec = run_trial(no_report_trial, {"x": float("nan")}, seed=1, index=0, mode="max")
    assert rec["status"] == "failed" and rec["error"] == "the trial's score is nan"
    assert rec["score"] is None
    rec = run_trial(curve_trial, {"lr": 0.01, "width": 32}, seed=1, index=0, mode="max")
    assert rec["status"] == "failed" and "name the one to optimize with metric=" in rec["error"]
    rec = run_trial(lambda c, s: "high", {}, seed=1, index=0, mode="max")
    assert "must return a number or a dict" in rec["error"]
    json.dumps(rec, allow_nan=False)


def test_trials_are_seeded_the_same_in_every_process():
    state = (nl.random.generator().bit_generator.state, np.random.get_state()[1][:4].copy())
    grid = {"x": [0.0, 10.0, 20.0]}
    one = tune.GridSearch(global_rng_trial, grid, mode="max", n_jobs=1, seed=3).run()
    again = tune.GridSearch(global_rng_trial, grid, mode="max", n_jobs=1, seed=3).run()
    two = tune.GridSearch(global_rng_trial, grid, mode="max", n_jobs=2, seed=3).run()
    other = tune.GridSearch(global_rng_trial, grid, mode="max", n_jobs=1, seed=4).run()
    assert rows(one) == rows(again) == rows(two)
    assert [r["score"] for r in one.rows()] != [r["score"] for r in other.rows()]
    # the caller's global generators are left as they were
    assert nl.random.generator().bit_generator.state == state[0]
    assert np.array_equal(np.random.get_state()[1][:4], state[1])


# ----------------------------------------------------------------------------- early stopping


def test_threshold_stopping_ends_hopeless_trials():
    grid = {"lr": [1e-4, 1e-2], "width": [32], "epochs": 6}
    stopper = tune.ThresholdStopping(-3.0, after=2)
    res = tune.GridSearch(
        curve_trial, grid, mode="max", metric="accuracy", n_jobs=1, stopper=stopper
    ).run()
    bad, good = res.records
    assert bad["status"] == "stopped" and [e for e, _ in bad["curve"]] == [0, 1, 2]
    assert bad["score"] == bad["curve"][-1][1] < -3.0 and "epoch 2" in bad["error"]
    assert good["status"] == "ok" and len(good["curve"]) == 6
    assert res.best_trial == 1
    assert tune.ThresholdStopping(0.5).should_stop([[0, 0.6]], [], "min")
    assert not tune.ThresholdStopping(0.5).should_stop([[0, 0.6]], [], "max")


def test_median_stopping_rule():
    rule = tune.MedianStopping(grace_epochs=1, min_trials=3)
    history = [[[0, 0.5], [1, 0.7]], [[0, 0.4], [1, 0.6]], [[0, 0.6], [1, 0.8]], [[0, 0.1]]]
    # running means at epoch 1 of the three trials that got there: 0.6, 0.5, 0.7 → median 0.6
    assert rule.should_stop([[0, 0.3], [1, 0.55]], history, "max")
    assert not rule.should_stop([[0, 0.3], [1, 0.65]], history, "max")
    assert not rule.should_stop([[0, 0.0]], history, "max")  # grace period
    assert not rule.should_stop([[0, 0.3], [1, 0.55]], history[:2], "max")  # too few trials
    assert rule.should_stop([[0, 0.9], [1, 0.65]], history, "min")  # best 0.65 > 0.6
    assert not rule.should_stop([[0, 0.3], [1, 0.65]], history, "min")  # best 0.3


def test_median_stopping_search_is_the_same_for_any_number_of_workers():
    space = {"lr": tune.loguniform(1e-4, 1.0), "width": tune.lograndint(8, 128), "epochs": 5}
    kw = dict(n_trials=12, mode="max", metric="accuracy", seed=0, round_size=4,
              stopper=tune.MedianStopping(grace_epochs=1, min_trials=2))  # fmt: skip
    one = tune.RandomSearch(curve_trial, space, n_jobs=1, **kw).run()
    two = tune.RandomSearch(curve_trial, space, n_jobs=2, **kw).run()
    assert rows(one) == rows(two)
    statuses = [r["status"] for r in one.records]
    assert statuses[:4] == ["ok"] * 4  # the first round has nobody to compare with
    assert "stopped" in statuses
    assert one.best_score >= max(r["score"] for r in one.records if r["status"] == "ok")


# ----------------------------------------------------------------------------- results file


def test_interrupted_search_resumes_to_the_same_table(tmp_path):
    space = {"lr": tune.loguniform(1e-4, 1.0), "width": tune.lograndint(8, 128), "epochs": 4,
             "activation": tune.choice(["relu", "relu", "bad"])}  # fmt: skip
    kw = dict(n_trials=10, mode="max", metric="accuracy", n_jobs=1, seed=5, round_size=3,
              stopper=tune.MedianStopping(min_trials=2))  # fmt: skip
    with pytest.warns(RuntimeWarning):
        full = tune.RandomSearch(Interrupting(), space, **kw).run()
    path = tmp_path / "runs" / "search.jsonl"
    interrupting = Interrupting(at=4)
    with pytest.raises(KeyboardInterrupt):
        tune.RandomSearch(interrupting, space, results_path=path, **kw).run()
    lines = path.read_text().splitlines()
    assert len(lines) == 1 + 4  # the header and trials 0-3
    assert json.loads(lines[0])["header"]["seed"] == 5
    assert [json.loads(line)["trial"] for line in lines[1:]] == [0, 1, 2, 3]
    rerun = Interrupting()
    with pytest.warns(RuntimeWarning):
        resumed = tune.RandomSearch(rerun, space, results_path=path, **kw).run()
    assert len(rerun.calls) == 6  # only the trials not in the file
    assert rows(resumed) == rows(full)
    # a third run finds every trial in the file and runs none; seed=None takes the file's seed
    again = Interrupting()
    with pytest.warns(RuntimeWarning):
        res = tune.RandomSearch(again, space, results_path=path, **{**kw, "seed": None}).run()
    assert again.calls == [] and rows(res) == rows(full)


def test_results_file_torn_line_and_foreign_file(tmp_path):
    path = tmp_path / "grid.jsonl"
    grid = {"lr": [1e-3, 1e-2, 1e-1], "width": [32]}
    kw = dict(mode="max", metric="accuracy", n_jobs=1, results_path=path)
    full = tune.GridSearch(curve_trial, grid, **kw).run()
    data = path.read_bytes()
    path.write_bytes(
        data[: data.rstrip(b"\n").rfind(b"\n") + 1] + b'{"trial": 2, "conf'
    )  # a torn write
    calls = Interrupting()
    assert rows(tune.GridSearch(calls, grid, **kw).run()) == rows(full)
    assert calls.calls == [{"lr": 1e-1, "width": 32}]
    assert all(json.loads(line) for line in path.read_text().splitlines())
    nan_path = tmp_path / "nan.jsonl"
    kw_nan = dict(mode="max", n_jobs=1, results_path=nan_path, stopper=tune.ThresholdStopping(0.0))
    first = tune.GridSearch(nan_trial, {"x": [1]}, **kw_nan).run()
    assert first.records[0]["status"] == "stopped" and first.records[0]["score"] is None
    assert first.records[0]["error"] == "reported nan at epoch 1"
    assert math.isnan(
        tune.GridSearch(nan_trial, {"x": [1]}, **kw_nan).run().records[0]["curve"][1][1]
    )
    with pytest.raises(ValueError, match=r"trial 0 with config .*the space changed"):
        tune.GridSearch(curve_trial, {"lr": [1e-4], "width": [32]}, **kw).run()
    with pytest.raises(ValueError, match="belongs to another search.*mode 'max' there"):
        tune.GridSearch(curve_trial, grid, **{**kw, "mode": "min"}).run()
    (tmp_path / "other.jsonl").write_text('{"a": 1}\n')
    with pytest.raises(ValueError, match="not a search's results file"):
        tune.GridSearch(curve_trial, grid, **{**kw, "results_path": tmp_path / "other.jsonl"}).run()


# ----------------------------------------------------------------------------- estimators


def test_estimator_search_with_holdout_and_cv():
    from sklearn.datasets import make_classification
    from sklearn.linear_model import SGDClassifier

    X, y = make_classification(200, 5, random_state=0)
    grid = {"alpha": [1e-4, 1e-1, 10.0], "max_iter": [20]}
    est = SGDClassifier(loss="log_loss", tol=None)
    a = tune.GridSearch(est, grid, n_jobs=1, seed=1).run(X, y)
    b = tune.GridSearch(est, grid, n_jobs=1, seed=1).run(X, y)
    assert rows(a) == rows(b)  # random_state comes from the trial seed
    assert all(r["status"] == "ok" and 0.5 <= r["score"] <= 1.0 for r in a.records)
    assert a.best_config["alpha"] in (1e-4, 1e-1) and a.records[2]["score"] < a.best_score
    cv = tune.GridSearch(est, grid, n_jobs=1, cv=3, scoring="neg_log_loss").run(X, y)
    assert {"score_std"} <= set(cv.rows()[0]) and all(r["score"] < 0 for r in cv.records)
    # a parameter the estimator does not have: the trial fails, the search goes on
    with pytest.warns(RuntimeWarning, match="3 of 3 trials failed.*Invalid parameter 'width'"):
        bad = tune.GridSearch(est, {"width": [1, 2, 3]}, n_jobs=1).run(X, y)
    with pytest.raises(ValueError, match="none of the 3 trials finished ok"):
        _ = bad.best_config


def test_argument_errors():
    with pytest.raises(ValueError, match="mode='max'.*mode='min'"):
        tune.GridSearch(curve_trial, GRID)
    with pytest.raises(ValueError, match="backend must be 'local' or 'ray'"):
        tune.GridSearch(curve_trial, GRID, mode="max", backend="dask")
    with pytest.raises(ValueError, match="address= joins a Ray cluster"):
        tune.GridSearch(curve_trial, GRID, mode="max", address="auto")
    with pytest.raises(ValueError, match="stopper= needs a trial function with a report"):
        tune.GridSearch(no_report_trial, {"x": [1]}, mode="max", stopper=tune.MedianStopping())
    with pytest.raises(TypeError, match=r"run\(X, y\) is for an estimator"):
        tune.GridSearch(no_report_trial, {"x": [1]}, mode="max").run(np.zeros((2, 2)), [0, 1])
    with pytest.raises(ValueError, match="n_trials must be an int >= 1"):
        tune.RandomSearch(no_report_trial, {"x": [1]}, n_trials=0, mode="max")
    with pytest.raises(ValueError, match="n_jobs must be a non-zero int"):
        tune.GridSearch(no_report_trial, {"x": [1]}, mode="max", n_jobs=0)


# ----------------------------------------------------------------------------- table and plot


def test_configs_are_recorded_as_json_and_best_config_as_generated():
    res = tune.GridSearch(lambda c, s: len(c["hidden"]), {"hidden": [(16,), (16, 16)], "act": [nl.relu]},
                          mode="max", n_jobs=1).run()  # fmt: skip
    assert res.records[1]["config"] == {"hidden": [16, 16], "act": "neuralab.ops.activation.relu"}
    assert res.best_config == {"hidden": (16, 16), "act": nl.relu}
    json.dumps(res.records)


def test_table_is_a_dataframe_when_pandas_is_there():
    res = tune.GridSearch(no_report_trial, {"x": [3.0, 1.0, 2.0]}, mode="min", n_jobs=1).run()
    try:
        import pandas
    except ImportError:
        assert res.table() == res.rows()
        return
    df = res.table()
    assert isinstance(df, pandas.DataFrame) and list(df.index) == [0, 1, 2]
    assert df["score"].tolist() == [3.0, 1.0, 2.0] and res.best_config == {"x": 1.0}


def test_plot_saves_a_figure(tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    res = tune.GridSearch(curve_trial, GRID, mode="max", metric="accuracy", n_jobs=1,
                          stopper=tune.ThresholdStopping(-2.0, after=1))  # fmt: skip
    with pytest.warns(RuntimeWarning):
        results = res.run()
    fig = results.plot(tmp_path / "search.png")
    assert (tmp_path / "search.png").stat().st_size > 10_000
    axes = fig.axes
    assert axes[0].get_xscale() == "log" and axes[0].get_xlabel() == "lr"
    assert [ax.get_xlabel() for ax in axes[:3]] == ["lr", "width", "activation"]
    assert any(ax.get_xlabel() == "epoch" for ax in axes)
    import matplotlib.pyplot as plt

    plt.close(fig)
