"""Gradient averaging for DistributedDataParallel: parameters packed into buckets, each
bucket's non-blocking all-reduce started as soon as backward has produced all its gradients
(tensor hooks), and everything waited for in a callback at the end of that backward pass.

Sync point: the callback runs when ``loss.backward()`` is about to return
(:func:`neuralab.tensor.queue_callback`), so gradient clipping and ``optimizer.step()`` see
averaged gradients, as with torch. Buckets are launched in a fixed order (reverse parameter
order, torch's), so every process issues the same collectives in the same order.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neuralab.distributed.group import DistributedError, _get, wait
from neuralab.tensor import Tensor, constant, queue_callback


class _Bucket:
    """One flat gradient buffer holding several parameters' gradients."""

    def __init__(self, params: list[Tensor], dtype: np.dtype) -> None:
        self.params = params
        sizes = [p._data.size for p in params]
        self.buffer = np.zeros(sum(sizes), dtype)
        ends = np.cumsum(sizes)
        self.views = [
            self.buffer[end - size : end].reshape(p._data.shape)
            for p, size, end in zip(params, sizes, ends)
        ]
        self.pending = len(params)
        self.request: Any = None


def _buckets(params: list[Tensor], cap_bytes: int, first_cap_bytes: int) -> list[_Bucket]:
    """Parameters in reverse order (the order backward reaches them), cut into buckets of at
    most ``cap_bytes`` (the first at most ``first_cap_bytes``), one dtype per bucket."""
    buckets: list[_Bucket] = []
    group: list[Tensor] = []
    size = 0
    for p in reversed(params):
        cap = first_cap_bytes if not buckets else cap_bytes
        if group and (size + p._data.nbytes > cap or p._data.dtype != group[0]._data.dtype):
            buckets.append(_Bucket(group, group[0]._data.dtype))
            group, size = [], 0
        group.append(p)
        size += p._data.nbytes
    if group:
        buckets.append(_Bucket(group, group[0]._data.dtype))
    return buckets


class Reducer:
    """Averages the gradients of ``params`` over the process group during backward."""

    def __init__(self, params: list[Tensor], bucket_cap_mb: float, first_cap_mb: float) -> None:
        mb = 1024 * 1024
        self.params = params
        self.buckets = _buckets(params, int(bucket_cap_mb * mb), int(first_cap_mb * mb))
        self.place: dict[int, tuple[int, _Bucket, np.ndarray]] = {}
        index = {id(p): i for i, p in enumerate(params)}
        for bucket in self.buckets:
            for p, view in zip(bucket.params, bucket.views):
                self.place[id(p)] = (index[id(p)], bucket, view)
        self.handles = [p.register_hook(self._hook_for(p)) for p in params]
        self.step = 0
        self.armed = False
        self._reset()

    @property
    def bytes_per_step(self) -> int:
        """Gradient bytes each process contributes to the all-reduces of one step."""
        return sum(b.buffer.nbytes for b in self.buckets)

    def _reset(self) -> None:
        self.used = np.zeros(len(self.params), np.int64)
        self.late: dict[int, np.ndarray] = {}
        self.next_bucket = 0
        self.queued = False
        for bucket in self.buckets:
            bucket.pending, bucket.request = len(bucket.params), None

    def prepare(self) -> None:
        """Arm for the next backward pass (called by DDP's forward when syncing)."""
        if any(b.request is not None for b in self.buckets):
            raise DistributedError(
                "DistributedDataParallel: a forward pass started while the previous backward's "
                "gradient all-reduce was still running"
            )
        self._reset()
        self.armed = True

    def _hook_for(self, param: Tensor):
        def hook(grad: Tensor) -> None:
            if self.armed:
                self._arrived(param, grad._data)

        return hook

    def _arrived(self, param: Tensor, grad: np.ndarray) -> None:
        """A gradient for ``param`` arrived: add it to its bucket; launch ready buckets."""
        if not self.queued:
            queue_callback(self._finish)
            self.queued = True
        i, bucket, view = self.place[id(param)]
        grad = np.broadcast_to(grad, view.shape)
        if self.used[i]:  # a parameter used more than once: another contribution
            if bucket.request is None:
                view += grad
            else:
                self.late[i] = self.late[i] + grad if i in self.late else grad.copy()
            return
        self.used[i] = 1
        prior = param._grad
        if prior is None:
            np.copyto(view, grad, casting="unsafe")
        else:
            np.add(prior._data, grad, out=view, casting="unsafe")
        bucket.pending -= 1
        if bucket.pending == 0:
            self._launch_ready()

    def _launch_ready(self) -> None:
        """Start the all-reduce of every complete bucket, in bucket order."""
        g = _get()
        while self.next_bucket < len(self.buckets):
            bucket = self.buckets[self.next_bucket]
            if bucket.pending:
                break
            bucket.request = g.comm.Iallreduce(g.MPI.IN_PLACE, bucket.buffer, op=g.MPI.SUM)
            self.next_bucket += 1
        g.MPI.Request.Testall([b.request for b in self.buckets[: self.next_bucket]])

    def _finish(self) -> None:
        """End of backward: reduce what is left, check the processes agree, write averages."""
        if not self.armed:
            return
        self.armed = False
        for bucket in self.buckets[self.next_bucket :]:
            self._fill_unused(bucket)
        self._launch_ready()
        g = _get()
        agreement = np.array([self.step, -self.step, len(self.late), -len(self.late)], np.int64)
        flags = np.concatenate([agreement, self.used])
        check = g.comm.Iallreduce(g.MPI.IN_PLACE, flags, op=g.MPI.MAX)
        wait([b.request for b in self.buckets] + [check], "DistributedDataParallel backward")
        self._check_agreement(flags[:4])
        self._add_late()
        used_anywhere = flags[4:]
        for bucket in self.buckets:
            bucket.buffer /= g.size
            self._write_grads(bucket, used_anywhere)
            bucket.request = None
        self.step += 1

    def _fill_unused(self, bucket: _Bucket) -> None:
        """Parameters backward did not reach here contribute their current gradient (or 0)."""
        for p, view in zip(bucket.params, bucket.views):
            i = self.place[id(p)][0]
            if not self.used[i]:
                view[...] = 0 if p._grad is None else p._grad._data
                bucket.pending -= 1

    def _check_agreement(self, flags: np.ndarray) -> None:
        step_max, step_min, late_max, late_min = flags[0], -flags[1], flags[2], -flags[3]
        if step_max != step_min:
            raise DistributedError(
                f"DistributedDataParallel: process {_get().rank} is at training step "
                f"{self.step} but the processes are between steps {step_min} and {step_max}: "
                "a process skipped (or repeated) a training step, so gradients of different "
                "steps would be averaged together"
            )
        if late_max != late_min:
            raise DistributedError(
                "DistributedDataParallel: the processes ran different graphs this step (a "
                "parameter was reused a different number of times); the model's control flow "
                "must be the same on every process"
            )

    def _add_late(self) -> None:
        """Sum, across processes, the extra gradients of parameters used more than once."""
        if not self.late:
            return
        order = sorted(self.late)
        flat = np.concatenate([self.late[i].ravel() for i in order])
        g = _get()
        wait([g.comm.Iallreduce(g.MPI.IN_PLACE, flat, op=g.MPI.SUM)], "DistributedDataParallel")
        start = 0
        for i in order:
            _, _, view = self.place[id(self.params[i])]
            view += flat[start : start + view.size].reshape(view.shape)
            start += view.size

    def _write_grads(self, bucket: _Bucket, used_anywhere: np.ndarray) -> None:
        for p, view in zip(bucket.params, bucket.views):
            grad = p._grad
            if grad is None and not used_anywhere[self.place[id(p)][0]]:
                continue  # no process computed a gradient for it: leave it None, as torch
            if grad is not None and grad._data.flags.writeable and grad._data.shape == view.shape:
                np.copyto(grad._data, view, casting="unsafe")
            else:
                p._grad = constant(view.astype(p._data.dtype, copy=True))

    def remove(self) -> None:
        """Take the gradient hooks off the parameters."""
        for handle in self.handles:
            handle.remove()
