"""neuralab.memory: freed blocks are kept for the next step (no page faults on reuse)."""

import os
import subprocess
import sys
import textwrap

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
