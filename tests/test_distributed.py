"""Data-parallel training over MPI: 2 processes under ``mpiexec`` on this machine (shared
memory, no network) against one process on the concatenated global batch; the sampler's
partition; mismatches, a skipped step and a killed process stopping the job with a clear
error; resuming after the kill; and no listening socket beyond loopback. The per-process
side is tests/distributed_worker.py."""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import neuralab as nl
import neuralab.distributed as dist
from neuralab import nn
from neuralab.distributed import launch

needs_mpi = pytest.mark.skipif(
    not dist.is_available(), reason="mpi4py is not installed (pip install 'neuralab[distributed]')"
)
WORKER = Path(__file__).with_name("distributed_worker.py")
spec = importlib.util.spec_from_file_location("distributed_worker", WORKER)
worker = importlib.util.module_from_spec(spec)
spec.loader.exec_module(worker)


@contextlib.contextmanager
def one_mpi_job() -> Iterator[None]:
    """Hold a machine-wide lock while an MPI job runs, so the jobs of this file take turns
    rather than run four processes on two cores. (The "Message truncated" start-up failures once
    blamed on two jobs at once came from libfabric's shm provider and the processes' ids; see
    docs/distributed.md.)"""
    with open(Path(tempfile.gettempdir()) / "neuralab-tests-mpi.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def mpirun(scenarios: str, out: Path, timeout: float = 60, **env: str):
    """Run the worker's scenarios on 2 processes; the finished process."""
    try:
        launch.mpiexec()
    except RuntimeError as e:
        pytest.skip(str(e))
    environment = {**launch.environment(2), "NEURALAB_NUM_THREADS": "1", **env}
    cmd = launch.command(2, [str(WORKER), scenarios, str(out)])
    with one_mpi_job():
        return subprocess.run(cmd, env=environment, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def healthy_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ddp")
    done = mpirun("mlp,cnn,tied,fit,sampler,sockets,crash", out)
    assert done.returncode == 0, done.stderr[-3000:]
    return out


def single_process(kind: str) -> dict[str, np.ndarray]:
    """The oracle: process 0's initial weights trained in one process on the global batches."""
    nl.manual_seed(100)
    model = worker.build(kind)
    optimizer = nl.optim.SGD(model.parameters(), lr=0.2, momentum=0.9)
    X, Y = worker.global_batch(kind)
    for s in range(worker.STEPS):
        worker.step(model, optimizer, X[s], Y[s], micro=2 if s == 1 and kind == "mlp" else 1)
    return {k: v.numpy() for k, v in model.state_dict().items()}


@needs_mpi
@pytest.mark.parametrize("kind", ["mlp", "cnn", "tied"])
def test_two_processes_train_as_one_on_the_global_batch(healthy_run, kind):
    expected = single_process(kind)
    ranks = [np.load(healthy_run / f"{kind}{r}.npz") for r in range(2)]
    assert sorted(ranks[0]) == sorted(expected)
    for name, value in expected.items():
        np.testing.assert_array_equal(ranks[0][name], ranks[1][name])  # identical replicas
        np.testing.assert_allclose(ranks[0][name], value, rtol=1e-5, atol=1e-6, err_msg=name)
    nl.manual_seed(100)
    first, initial = next(iter(expected)), worker.build(kind).state_dict()
    assert not np.allclose(initial[first].numpy(), expected[first])  # it did train


@needs_mpi
def test_fit_in_two_processes_trains_as_one_process_on_twice_the_batch(healthy_run):
    model, history = worker.fit_model(None, shuffle=False, batch_size=8)
    ranks = [np.load(healthy_run / f"fit{r}.npz") for r in range(2)]
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(ranks[0][name], ranks[1][name])
        np.testing.assert_allclose(ranks[0][name], value.numpy(), rtol=1e-5, atol=1e-6)
    for rank in ranks:  # epoch logs are means over the processes
        np.testing.assert_allclose(rank["loss"], history["loss"], rtol=1e-5)


@needs_mpi
def test_processes_on_one_machine_share_its_cores(tmp_path):
    """A user's own `mpiexec -n 2` (no thread variables): each process takes half the cores, for
    its ops and for BLAS, instead of BLAS threads spinning beside the peer's."""
    try:
        launch.mpiexec()
    except RuntimeError as e:
        pytest.skip(str(e))
    environment = launch.environment(2)
    for name in ("NEURALAB_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        environment.pop(name, None)
    cmd = launch.command(2, [str(WORKER), "threads", str(tmp_path)])
    with one_mpi_job():
        done = subprocess.run(cmd, env=environment, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-3000:]
    share = max(1, len(os.sched_getaffinity(0)) // 2)
    for rank in range(2):
        counts = np.load(tmp_path / f"threads{rank}.npy")
        assert counts[0] == share and all(c == share for c in counts[1:]), counts


def test_distributed_sampler_partitions_each_epoch(healthy_run):
    parts = [np.load(healthy_run / f"sampler{r}.npy") for r in range(2)]
    for epoch in range(2):
        both = np.concatenate([p[epoch] for p in parts])
        assert len(parts[0][epoch]) == len(parts[1][epoch]) == 6  # 11 padded to 12
        assert sorted(set(both.tolist())) == list(range(11)) and len(both) == 12
    assert not np.array_equal(parts[0][0], parts[0][1])  # set_epoch reshuffles


@needs_mpi
def test_the_processes_listen_on_no_network_address(healthy_run):
    for r in range(2):
        sockets = (healthy_run / f"sockets{r}.txt").read_text().split()
        assert all(
            a.startswith(("0100007F:", "00000000000000000000000001000000:")) for a in sockets
        )


@needs_mpi
@pytest.mark.parametrize(
    "scenario, message",
    [
        (
            "mismatch",
            r"model differs between processes: process 1 has '0.weight' of shape \(17, 6\)",
        ),
        ("skip", "skipped \\(or repeated\\) a training step"),
        ("hang", "process 0 of 2 waited \\d+ s for the other processes \\(timeout\\)"),
    ],
)
def test_mismatches_and_hangs_stop_every_process_with_a_clear_error(tmp_path, scenario, message):
    done = mpirun(scenario, tmp_path, timeout=40, TIMEOUT="3" if scenario == "hang" else "20")
    assert done.returncode != 0
    assert re.search(message, done.stderr), done.stderr[-2000:]


@needs_mpi
def test_a_killed_process_stops_the_job_and_the_run_resumes_to_the_same_weights(
    healthy_run, tmp_path
):
    killed = mpirun("crash", tmp_path, timeout=30, CRASH="1")
    assert killed.returncode != 0 and "Killed (signal 9)" in killed.stdout + killed.stderr
    assert not (tmp_path / "final.npz").exists()
    assert (tmp_path / "checkpoint").exists()
    resumed = mpirun("crash", tmp_path)
    assert resumed.returncode == 0 and "resuming from" in resumed.stdout, resumed.stdout
    assert "after epoch 2" in resumed.stdout  # epochs 0 and 1 were saved before the kill
    whole, resumed = (np.load(d / "final.npz") for d in (healthy_run, tmp_path))
    for name in whole:
        np.testing.assert_array_equal(resumed[name], whole[name])


def test_without_a_process_group():
    assert not dist.is_initialized()
    with pytest.raises(ValueError, match="call init_process_group"):
        dist.get_rank()
    with pytest.raises(ValueError, match="has not been initialized"):
        nn.parallel.DistributedDataParallel(nn.Linear(2, 2))
    with pytest.raises(RuntimeError, match="pass num_replicas and rank"):
        nl.utils.data.DistributedSampler(range(4))
    with pytest.raises(ValueError, match="Invalid rank 2"):
        nl.utils.data.DistributedSampler(range(4), num_replicas=2, rank=2)
    with pytest.raises(ValueError, match="backend 'nccl' is not available"):
        dist.init_process_group("nccl")


def test_import_neuralab_does_not_load_mpi():
    code = "import neuralab, sys; from neuralab.nn.parallel import DistributedDataParallel; "
    code += "print('mpi4py' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "False", done.stderr


@pytest.mark.parametrize("n, drop_last", [(10, False), (11, False), (11, True), (3, False)])
def test_distributed_sampler_matches_torch_without_shuffle(n, drop_last):
    from torch.utils.data import DistributedSampler as TorchSampler

    for rank in range(4):
        ours = nl.utils.data.DistributedSampler(range(n), 4, rank, False, drop_last=drop_last)
        theirs = TorchSampler(range(n), 4, rank, False, drop_last=drop_last)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)


def test_sync_batchnorm_without_a_group_is_batchnorm_and_converts_in_place():
    import torch

    nl.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3), nn.ReLU())
    weight = model[1].weight
    converted = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    assert type(converted[1]) is nn.SyncBatchNorm and converted[1].weight is weight
    x = np.random.default_rng(0).standard_normal((4, 3, 5, 5)).astype(np.float32)
    ours, theirs = converted[1], torch.nn.BatchNorm2d(3)
    np.testing.assert_allclose(
        ours(nl.tensor(x)).numpy(), theirs(torch.tensor(x)).detach().numpy(), atol=1e-5
    )
    np.testing.assert_allclose(ours.running_var.numpy(), theirs.running_var.numpy(), rtol=1e-5)


@needs_mpi
def test_the_train_command_relaunches_itself_on_two_processes(tmp_path):
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "neuralab.cli", "train", "--data", "moons", "--epochs", "2"]
    cmd += ["--processes", "2", "--out", str(out), "--verbose", "0"]
    with one_mpi_job():
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("test loss") == 1  # process 0 alone reports and writes
    assert (out / "model.safetensors").exists()
