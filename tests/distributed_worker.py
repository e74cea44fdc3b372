"""What each process runs in tests/test_distributed.py (under ``mpiexec -n 2``):
``python distributed_worker.py SCENARIO OUTDIR``; results go to OUTDIR as .npz files."""

from __future__ import annotations

import os
import signal
import sys
import time
from datetime import timedelta
from pathlib import Path

import numpy as np

import neuralab as nl
import neuralab.distributed as dist
from neuralab import nn

STEPS, BATCH = 3, 8


def global_batch(kind: str) -> tuple[np.ndarray, np.ndarray]:
    """The same global batches on every process (and in the single-process oracle)."""
    rng = np.random.default_rng(7)
    shape = (STEPS, BATCH, 2, 6, 6) if kind == "cnn" else (STEPS, BATCH, 6)
    return rng.standard_normal(shape).astype(np.float32), rng.integers(0, 3, (STEPS, BATCH))


class Tied(nn.Module):
    """One Linear applied twice: its weights get two gradient contributions per backward."""

    def __init__(self) -> None:
        super().__init__()
        self.a, self.out = nn.Linear(6, 6), nn.Linear(6, 3)

    def forward(self, x):
        return self.out(self.a(self.a(x).tanh()).tanh())


def build(kind: str, hidden: int = 16) -> nn.Module:
    """The MLP, a CNN whose BatchNorm becomes SyncBatchNorm under DDP, or the tied model."""
    if kind == "tied":
        return Tied()
    if kind == "mlp":
        return nn.Sequential(nn.Linear(6, hidden), nn.Tanh(), nn.Linear(hidden, 3))
    return nn.Sequential(
        nn.Conv2d(2, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(16, 3),
    )  # fmt: skip


def step(model, optimizer, x, y, micro: int = 1, no_sync=None) -> None:
    """One optimizer step on (x, y), in ``micro`` accumulated pieces (the first ones under
    ``no_sync`` when given)."""
    optimizer.zero_grad()
    for i, (xs, ys) in enumerate(zip(np.array_split(x, micro), np.array_split(y, micro))):
        loss = nn.functional.cross_entropy(model(nl.tensor(xs)), nl.tensor(ys)) / micro
        last = i == micro - 1
        if no_sync is not None and not last:
            with no_sync():
                loss.backward()
        else:
            loss.backward()
    optimizer.step()


def train(kind: str, out: Path) -> None:
    rank, world = dist.get_rank(), dist.get_world_size()
    nl.manual_seed(100 + rank)  # different initial weights: DDP must broadcast rank 0's
    model = build(kind)
    if kind == "cnn":
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    ddp = nn.parallel.DistributedDataParallel(model, bucket_cap_mb=0.0002)
    optimizer = nl.optim.SGD(ddp.parameters(), lr=0.2, momentum=0.9)
    X, Y = global_batch(kind)
    share = slice(rank * BATCH // world, (rank + 1) * BATCH // world)
    for s in range(STEPS):
        micro = 2 if s == 1 and kind == "mlp" else 1  # two micro-batches, the first no_sync
        step(ddp, optimizer, X[s][share], Y[s][share], micro, ddp.no_sync)
    np.savez(out / f"{kind}{rank}.npz", **{k: v.numpy() for k, v in model.state_dict().items()})


def sampler(out: Path) -> None:
    data = range(11)
    s = nl.utils.data.DistributedSampler(data, shuffle=True, seed=3)
    epochs = []
    for epoch in range(2):
        s.set_epoch(epoch)
        epochs.append(np.array(list(s)))
    np.save(out / f"sampler{dist.get_rank()}.npy", np.stack(epochs))


def threads(out: Path) -> None:
    from threadpoolctl import threadpool_info

    blas = [p["num_threads"] for p in threadpool_info() if p["filepath"].find("numpy") >= 0]
    np.save(out / f"threads{dist.get_rank()}.npy", np.array([nl.get_num_threads(), *blas]))


def mismatch(out: Path) -> None:
    nn.parallel.DistributedDataParallel(build("mlp", hidden=16 + dist.get_rank()))


def skip(out: Path) -> None:
    rank = dist.get_rank()
    ddp = nn.parallel.DistributedDataParallel(build("mlp"))
    optimizer = nl.optim.SGD(ddp.parameters(), lr=0.1)
    X, Y = global_batch("mlp")
    for s in range(STEPS):
        if rank == 1 and s == 0:
            continue  # this process skips a step
        ddp.set_step(s)
        step(ddp, optimizer, X[s], Y[s])


def hang(out: Path) -> None:
    """Process 1 stops taking part; process 0's all_reduce must time out, not wait forever."""
    if dist.get_rank() == 1:
        time.sleep(60)
    dist.all_reduce(nl.ones(3))


def sockets(out: Path) -> None:
    """Record this process's listening TCP sockets not shared with its launcher."""
    mine = _socket_inodes(os.getpid()) - _socket_inodes(os.getppid())
    listening = _listening()
    found = [listening[i] for i in mine if i in listening]
    (out / f"sockets{dist.get_rank()}.txt").write_text("\n".join(found))
    dist.barrier()


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def _listening() -> dict[str, str]:
    """inode -> local address of every listening TCP socket (IPv4 and IPv6)."""
    found = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A":  # LISTEN
                found[fields[9]] = fields[1]
    return found


def fit_data() -> tuple[np.ndarray, np.ndarray]:
    X, Y = global_batch("mlp")
    return X.reshape(-1, 6), Y.reshape(-1)


def fit_model(out: Path, shuffle: bool, batch_size: int, callbacks=(), checkpoint=None):
    """``fit`` 3 epochs from seed 0; returns the model and its history."""
    nl.manual_seed(0)
    model = build("mlp")
    optimizer = nl.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    history = nl.train.fit(
        model, nn.CrossEntropyLoss(), optimizer, fit_data(), epochs=3, batch_size=batch_size,
        shuffle=shuffle, verbose=0, callbacks=callbacks, checkpoint_dir=checkpoint,
    )  # fmt: skip
    return model, history


def fit(out: Path) -> None:
    """fit over 2 processes, sequential shares of 4: the global batches are 8 in order."""
    model, history = fit_model(out, shuffle=False, batch_size=4)
    weights = {k: v.numpy() for k, v in model.state_dict().items()}
    np.savez(out / f"fit{dist.get_rank()}.npz", loss=np.array(history["loss"]), **weights)


class Die(nl.train.Callback):
    """Kills this process at epoch 2, batch 1."""

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        if self.epoch == 2 and batch == 1:
            os.kill(os.getpid(), signal.SIGKILL)


def crash(out: Path) -> None:
    """fit with a checkpoint per epoch; process 1 dies in epoch 2 when CRASH is set."""
    die = [Die()] if os.environ.get("CRASH") and dist.get_rank() == 1 else []
    model, history = fit_model(out, True, 4, die, out / "checkpoint")
    if dist.get_rank() == 0:
        print(*history.messages, sep="\n")
        np.savez(out / "final.npz", **{k: v.numpy() for k, v in model.state_dict().items()})


def main() -> None:
    scenarios, out = sys.argv[1].split(","), Path(sys.argv[2])
    dist.init_process_group("mpi", timeout=timedelta(seconds=float(os.environ.get("TIMEOUT", 20))))
    for scenario in scenarios:
        if scenario in ("mlp", "cnn", "tied"):
            train(scenario, out)
        else:
            globals()[scenario](out)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
