"""neuralab.memory: freed blocks are kept for the next step (no page faults on reuse)."""

import mmap
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from neuralab import memory

glibc = pytest.mark.skipif(memory._glibc() is None, reason="needs glibc's mallopt")

# Five "training steps", each holding six arrays of 1-6 MB at once and then freeing them all;
# print the page faults they cost (the first, untimed step warms the heap).
PROBE = textwrap.dedent(
    """
    import resource
    import numpy as np
    import neuralab
    def faults():
        return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    def step():
        kept = [np.ones(m * 250_000, np.float32) for m in (1, 6, 2, 5, 3, 4)]
    step()
    before = faults()
    for _ in range(5):
        step()
    print(faults() - before)
    """
)


def probe(**env: str) -> int:
    """Page faults of the probe in a fresh interpreter with ``env`` added."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MALLOC_", "NEURALAB_"))}
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env={**clean, **env}, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return int(done.stdout)


@glibc
def test_import_keeps_freed_blocks_so_reuse_costs_no_page_faults():
    # a step touches 21 MB: ~5,000 fresh 4 KiB pages when glibc has handed them back
    assert probe() < 100
    assert probe(NEURALAB_MALLOC="system") > 5 * 2000


@glibc
def test_a_users_own_malloc_setting_wins():
    # a tiny mmap threshold set by the user is kept: every block is a fresh mapping again
    assert probe(MALLOC_MMAP_THRESHOLD_="65536") > 5 * 2000


@glibc
def test_keep_freed_memory_reports_that_glibc_accepted_it():
    assert memory.keep_freed_memory() is True
    assert memory.keep_freed_memory(mmap_threshold=memory.FALLBACK_MMAP_THRESHOLD) is True
    memory.keep_freed_memory()  # back to the default for the rest of this process


def test_without_glibc_nothing_is_changed(monkeypatch):
    monkeypatch.setattr(memory, "_glibc", lambda: None)
    assert memory.keep_freed_memory() is False


def owner(a):
    """What finally holds an array's memory: None for NumPy's own, else the buffer object."""
    while isinstance(a, np.ndarray):
        a = a.base
    return a.obj if isinstance(a, memoryview) else a


def test_persistent_zeros_of_large_arrays_get_pages_of_their_own():
    big = np.ones((512, 256), np.float32)  # 512 KiB
    z = memory.persistent_zeros(big)
    assert z.shape == big.shape and z.dtype == big.dtype and z.flags.writeable
    assert isinstance(owner(z), mmap.mmap) and not z.any()
    z += 2.0
    assert z.sum() == 2.0 * big.size
    small = memory.persistent_zeros(np.ones((3, 4), np.float64))
    assert small.dtype == np.float64 and owner(small) is None and not small.any()
    strided = memory.persistent_zeros(big.T)  # same layout as a non-contiguous parameter
    assert strided.shape == (256, 512) and strided.strides == big.T.strides


# A CNN trained with Adam in a fresh interpreter: print how far the peak RSS of steps 2-4 rose
# above the RSS after step 1 (the "memory a step needs"), and where Adam's moments live.
STEP_MEMORY = textwrap.dedent(
    """
    import mmap
    import numpy as np
    import neuralab as nl
    def mb(field):
        with open("/proc/self/status") as f:
            return next(int(l.split()[1]) for l in f if l.startswith(field + ":")) / 1024
    nl.manual_seed(0)
    model = nl.nn.Sequential(
        nl.nn.Conv2d(3, 32, 3, padding=1), nl.nn.ReLU(), nl.nn.MaxPool2d(2),
        nl.nn.Conv2d(32, 64, 3, padding=1), nl.nn.ReLU(), nl.nn.MaxPool2d(2),
        nl.nn.Flatten(), nl.nn.Linear(4096, 256), nl.nn.ReLU(), nl.nn.Linear(256, 10))
    opt = nl.optim.Adam(model.parameters())
    x = nl.from_numpy(np.random.default_rng(0).standard_normal((32, 3, 32, 32), np.float32))
    y = nl.tensor(np.arange(32) % 10)
    def step():
        opt.zero_grad()
        nl.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    step()
    base = mb("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    for _ in range(3):
        step()
    moments = opt.state[model[7].weight]
    a = moments["exp_avg"].numpy()
    while isinstance(a, np.ndarray):
        a = a.base
    print(mb("VmHWM") - base, isinstance(a.obj, mmap.mmap))
    """
)


@glibc
def test_optimizer_state_does_not_take_the_heap_a_step_reuses():
    done = subprocess.run([sys.executable, "-c", STEP_MEMORY], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    growth, own_pages = done.stdout.split()
    # Adam's two 4 MiB moments of the 4096x256 layer: when they took heap blocks freed by step 1,
    # step 2 grew the heap by them (8.0-8.5 MB at batches 16-64); on their own pages 0-2 MB
    # remain, from where the heap places a step's buffers
    assert own_pages == "True"
    assert float(growth) < 5.0, done.stdout
