"""SummaryWriter (torch.utils.tensorboard) and the TensorBoard callback: event files read back
with TensorBoard's own EventAccumulator, compared with what torch's SummaryWriter writes."""

import glob
import io
import os
import re
import socket
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402
from tensorboard.backend.event_processing.event_file_loader import (  # noqa: E402
    EventFileLoader,
)
from tensorboard.plugins.hparams import plugin_data_pb2  # noqa: E402
from torch.utils.tensorboard import SummaryWriter as TorchWriter  # noqa: E402

import neuralab as nl  # noqa: E402
from neuralab import nn, optim, train  # noqa: E402
from neuralab.utils.tensorboard import SummaryWriter  # noqa: E402


def read(log_dir) -> EventAccumulator:
    acc = EventAccumulator(
        str(log_dir), size_guidance={"scalars": 0, "images": 0, "histograms": 0, "tensors": 0}
    )
    acc.Reload()
    return acc


def scalars(acc, tag):
    return [(e.step, e.value) for e in acc.Scalars(tag)]


def pixels(image_event) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(image_event.encoded_image_string)))


def _maker(lib):
    """A tensor from an array (its dtype kept, as from_numpy) or from a number."""
    return lambda v: lib.from_numpy(v) if isinstance(v, np.ndarray) else lib.tensor(v)


def both(tmp_path, log):
    """Run ``log(writer, tensor)`` with our writer and torch's; the two accumulators."""
    for name, writer, lib in (("ours", SummaryWriter, nl), ("torch", TorchWriter, torch)):
        with writer(str(tmp_path / name)) as w:
            log(w, _maker(lib))
    return read(tmp_path / "ours"), read(tmp_path / "torch")


# ----------------------------------------------------------------------------- SummaryWriter


def test_scalars_of_every_kind_with_steps_and_walltime(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_scalar("loss", 0.5, 0)
        w.add_scalar("loss", nl.tensor(0.25), 1)  # a 0-d tensor
        w.add_scalar("loss", nl.tensor([0.125]), nl.tensor(2))  # one element; a tensor step
        w.add_scalar("loss", np.float32(2.0), 3, walltime=123.0)
        w.add_scalar("count", 7)
        w.add_scalar("new", 1.5, 4, new_style=True)
    acc = read(tmp_path)
    assert scalars(acc, "loss") == [(0, 0.5), (1, 0.25), (2, 0.125), (3, 2.0)]
    assert acc.Scalars("loss")[3].wall_time == 123.0
    assert scalars(acc, "count") == [(0, 7.0)]
    assert [(e.step, float(e.tensor_proto.float_val[0])) for e in acc.Tensors("new")] == [(4, 1.5)]
    with pytest.raises(ValueError, match=r"add_scalar: 'x' needs one number, got shape \(2,\)"):
        SummaryWriter(tmp_path).add_scalar("x", nl.ones(2))


def test_add_scalars_writes_one_run_per_tag_as_torch(tmp_path):
    ours, theirs = both(tmp_path, lambda w, t: w.add_scalars("lr/groups", {"a": t(1.0), "b": 2}, 5))
    for name in ("ours", "torch"):
        runs = sorted(os.listdir(tmp_path / name))
        assert [r for r in runs if not r.startswith("events")] == ["lr_groups_a", "lr_groups_b"]
    for run, value in (("lr_groups_a", 1.0), ("lr_groups_b", 2.0)):
        assert scalars(read(tmp_path / "ours" / run), "lr/groups") == [(5, value)]
        assert scalars(read(tmp_path / "torch" / run), "lr/groups") == [(5, value)]


def test_histograms_match_torch(tmp_path):
    values = np.random.default_rng(0).standard_normal(500).astype(np.float32) * 3

    def log(w, t):
        w.add_histogram("w", t(values), 2)
        w.add_histogram("auto", t(values), 3, bins="auto")
        w.add_histogram("ten", t(values), 3, bins=10)

    ours, theirs = both(tmp_path, log)
    for tag in ("w", "auto", "ten"):
        a, b = ours.Histograms(tag)[0], theirs.Histograms(tag)[0]
        assert a.step == b.step
        a, b = a.histogram_value, b.histogram_value
        assert (a.min, a.max, a.num) == (b.min, b.max, b.num) == (a.min, a.max, 500)
        assert a.sum == pytest.approx(b.sum) and a.sum_squares == pytest.approx(b.sum_squares)
        assert list(a.bucket) == list(b.bucket)
        np.testing.assert_allclose(a.bucket_limit, b.bucket_limit, rtol=1e-12)


def test_histogram_max_bins_and_errors(tmp_path):
    w = SummaryWriter(tmp_path)
    w.add_histogram("few", np.arange(100.0), bins=50, max_bins=8)
    w.close()
    h = read(tmp_path).Histograms("few")[0].histogram_value
    assert len(h.bucket) <= 8 and sum(h.bucket) == 100 and h.bucket_limit[-1] == 99.0
    with pytest.raises(ValueError, match="add_histogram: 'e' has no values"):
        SummaryWriter(tmp_path).add_histogram("e", np.zeros(0))


@pytest.mark.parametrize(
    ("shape", "dtype", "dataformats", "method"),
    [
        ((3, 5, 7), np.float32, "CHW", "add_image"),
        ((5, 7, 3), np.uint8, "HWC", "add_image"),
        ((1, 5, 7), np.float32, "CHW", "add_image"),
        ((5, 7), np.float64, "HW", "add_image"),
        ((4, 5, 7), np.float32, "CHW", "add_image"),  # RGBA
        ((10, 3, 4, 6), np.float32, "NCHW", "add_images"),
        ((3, 4, 6, 1), np.uint8, "NHWC", "add_images"),
    ],
)
def test_images_are_the_pngs_torch_writes(tmp_path, shape, dtype, dataformats, method):
    rng = np.random.default_rng(1)
    img = (rng.random(shape) * (255 if dtype == np.uint8 else 1.2)).astype(dtype)  # some > 1
    ours, theirs = both(
        tmp_path, lambda w, t: getattr(w, method)("img", t(img), 4, dataformats=dataformats)
    )
    a, b = ours.Images("img")[0], theirs.Images("img")[0]
    assert (a.step, a.width, a.height) == (b.step, b.width, b.height)
    np.testing.assert_array_equal(pixels(a), pixels(b))


def test_bad_dataformats_are_refused(tmp_path):
    with pytest.raises(
        ValueError,
        match=r"add_image: dataformats='CHW' does not describe an image of shape \(4, 4\)",
    ):
        SummaryWriter(tmp_path).add_image("x", np.zeros((4, 4)))


def test_figures_are_rendered_and_closed(tmp_path):
    fig = plt.figure(figsize=(2, 1.5), dpi=40)
    plt.plot([0, 1], [1, 0])
    figs = [plt.figure(figsize=(1, 1), dpi=30) for _ in range(2)]
    with SummaryWriter(tmp_path) as w:
        w.add_figure("fig", fig, 1)
        w.add_figure("figs", figs, 2, close=False)
    acc = read(tmp_path)
    img = acc.Images("fig")[0]
    assert (img.width, img.height) == (80, 60) and pixels(img).shape == (60, 80, 3)
    assert (acc.Images("figs")[0].width, acc.Images("figs")[0].height) == (60, 30)
    assert not plt.fignum_exists(fig.number)
    assert all(plt.fignum_exists(f.number) for f in figs)
    plt.close("all")


def test_text_as_torch(tmp_path):
    ours, theirs = both(tmp_path, lambda w, t: w.add_text("notes", "**lr** = 0.1", 3))
    a, b = ours.Tensors("notes/text_summary")[0], theirs.Tensors("notes/text_summary")[0]
    assert a.step == b.step == 3
    assert a.tensor_proto.string_val == b.tensor_proto.string_val == [b"**lr** = 0.1"]
    assert ours.SummaryMetadata("notes/text_summary").plugin_data.plugin_name == "text"


def _hparams_content(run_dir):
    acc = read(run_dir)
    content = acc.PluginTagToContent("hparams")
    return acc, {tag: plugin_data_pb2.HParamsPluginData.FromString(c) for tag, c in content.items()}


def test_hparams_as_torch(tmp_path):
    hp = {"lr": 0.1, "batch": 32, "opt": "sgd"}

    def log(w, t):
        w.add_hparams(hp, {"hparam/acc": t(0.75)}, {"opt": ["sgd", "adam"]}, run_name="trial")

    both(tmp_path, log)
    (ours, a), (theirs, b) = (
        _hparams_content(tmp_path / "ours" / "trial"),
        _hparams_content(tmp_path / "torch" / "trial"),
    )
    assert (
        a.keys()
        == b.keys()
        == {"_hparams_/experiment", "_hparams_/session_start_info", "_hparams_/session_end_info"}
    )
    for tag in a:
        assert a[tag] == b[tag], tag
    assert scalars(ours, "hparam/acc") == scalars(theirs, "hparam/acc") == [(0, 0.75)]


def test_hparams_errors(tmp_path):
    w = SummaryWriter(tmp_path)
    with pytest.raises(TypeError, match="hparam_dict and metric_dict must be dicts"):
        w.add_hparams([("lr", 0.1)], {})
    with pytest.raises(
        TypeError, match=r"hparam_domain_discrete\['opt'\] must hold values of the type"
    ):
        w.add_hparams({"opt": "sgd"}, {}, {"opt": ["sgd", 1]})
    with pytest.raises(
        ValueError, match="hyperparameter 'layers' must be an int, float, str, bool"
    ):
        w.add_hparams({"layers": [1, 2]}, {})
    w.close()


def test_add_graph_warns_and_writes_nothing(tmp_path):
    w = SummaryWriter(tmp_path)
    with pytest.warns(UserWarning, match="add_graph: neuralab does not trace models"):
        w.add_graph(nn.Linear(2, 1), nl.ones(1, 2))
    w.close()
    assert not read(tmp_path).Tags()["graph"]


def test_default_log_dir_is_torchs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with SummaryWriter(comment="_lr0.1") as w:
        ours = w.get_logdir()
    host = re.escape(socket.gethostname())
    assert re.fullmatch(rf"runs/[A-Z][a-z]{{2}}\d\d_\d\d-\d\d-\d\d_{host}_lr0\.1", ours), ours
    with TorchWriter(comment="_lr0.1") as t:
        assert len(t.get_logdir()) == len(ours)
    assert glob.glob(os.path.join(ours, "events.out.tfevents.*"))


def test_purge_step_close_reopen_and_flush(tmp_path):
    w = SummaryWriter(tmp_path, purge_step=5, flush_secs=3600, filename_suffix=".x")
    w.add_scalar("a", 1.0, 5)
    w.flush()
    files = glob.glob(str(tmp_path / "events.out.tfevents.*.x"))
    assert len(files) == 1
    events = list(EventFileLoader(files[0]).Load())
    assert events[1].step == 5 and events[1].session_log.status == events[1].session_log.START
    assert scalars(read(tmp_path), "a") == [(5, 1.0)]  # flushed although flush_secs is an hour
    w.close()
    w.add_scalar("a", 2.0, 6)  # after close, a new event file
    w.close()
    assert len(glob.glob(str(tmp_path / "events.out.tfevents.*"))) == 2


# ----------------------------------------------------------------------------- TensorBoard callback


def _fit(tmp_path, **callback_args):
    nl.manual_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 3)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    cb = train.TensorBoard(tmp_path / "logs", **callback_args)
    history = train.fit(
        model,
        nn.CrossEntropyLoss(),
        optim.SGD(model.parameters(), lr=0.1),
        (x, y),
        epochs=3,
        val_data=(x[:10], y[:10]),
        batch_size=10,
        callbacks=[cb],
        verbose=0,
    )
    return history.history, read(tmp_path / "logs" / "train"), tmp_path / "logs" / "validation"


def test_callback_logs_each_epoch_as_keras(tmp_path):
    hist, acc, val_dir = _fit(tmp_path)
    val = read(val_dir)
    assert set(acc.Tags()["scalars"]) == {"epoch_loss", "epoch_accuracy", "epoch_learning_rate"}
    assert set(val.Tags()["scalars"]) == {"epoch_loss", "epoch_accuracy"}
    for tag, key in (("epoch_loss", "loss"), ("epoch_accuracy", "accuracy")):
        assert [s for s, _ in scalars(acc, tag)] == [0, 1, 2]
        np.testing.assert_allclose([v for _, v in scalars(acc, tag)], hist[key], rtol=1e-6)
        np.testing.assert_allclose([v for _, v in scalars(val, tag)], hist[f"val_{key}"], rtol=1e-6)
    assert [v for _, v in scalars(acc, "epoch_learning_rate")] == pytest.approx([0.1] * 3)
    assert not acc.Tags()["histograms"]


def test_callback_batch_updates_and_histograms(tmp_path):
    _, acc, _ = _fit(tmp_path, update_freq=3, histogram_freq=2)
    # 4 batches an epoch, 12 in all: logged after batches 3, 6, 9, 12
    assert [s for s, _ in scalars(acc, "batch_loss")] == [3, 6, 9, 12]
    assert set(acc.Tags()["histograms"]) == {
        f"{i}.{p}/histogram" for i in (0, 2) for p in ("weight", "bias")
    }
    assert [h.step for h in acc.Histograms("0.weight/histogram")] == [0, 2]
    _, every, _ = _fit(tmp_path / "b", update_freq="batch")
    assert [s for s, _ in scalars(every, "batch_loss")] == list(range(1, 13))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"update_freq": "step"}, "update_freq must be"),
        ({"update_freq": 0}, "update_freq must be"),
        ({"histogram_freq": -1}, "histogram_freq must be >= 0"),
    ],
)
def test_callback_refuses_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        train.TensorBoard("logs", **kwargs)


def test_no_warning_from_plain_logging(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with SummaryWriter(tmp_path) as w:
            w.add_scalar("a", 1.0)
