"""neuralab.tune on Ray: the same table as the local backend for the same seed, a Ray that
neuralab starts listens on 127.0.0.1 only and is shut down afterwards. Ray starts once here."""

from __future__ import annotations

import ipaddress
import os

import pytest

from neuralab import tune
from neuralab.tune import backends
from tests.test_tune import curve_trial, rows

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'neuralab[ray]')")


def _descendants(root: int) -> set[int]:
    """The pids of ``root`` and every process below it."""
    parent = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                parent[int(pid)] = int(f.read().rsplit(")", 1)[1].split()[1])
        except OSError:
            continue
    tree, grew = {root}, True
    while grew:
        new = {pid for pid, ppid in parent.items() if ppid in tree} - tree
        tree |= new
        grew = bool(new)
    return tree


def _listening_addresses(pids: set[int]) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """The local addresses of the TCP sockets in LISTEN state held by ``pids`` (from /proc)."""
    inodes = set()
    for pid in pids:
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
        except OSError:
            continue
    found = []
    for table, size in (("/proc/net/tcp", 4), ("/proc/net/tcp6", 16)):
        with open(table) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                    hexaddr = fields[1].split(":")[0]
                    raw = b"".join(
                        bytes.fromhex(hexaddr[i : i + 8])[::-1] for i in range(0, 2 * size, 8)
                    )
                    found.append(ipaddress.ip_address(raw))
    return found


def _is_loopback(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    mapped = getattr(addr, "ipv4_mapped", None)
    return addr.is_loopback or (mapped is not None and mapped.is_loopback)


@pytest.mark.skipif(not os.path.exists("/proc/net/tcp"), reason="needs Linux's /proc")
def test_ray_gives_the_local_table_and_listens_on_loopback_only(monkeypatch):
    assert not ray.is_initialized()
    seen = {}
    imap = backends.RayBackend.imap_unordered

    def spy(self, calls):
        seen["listening"] = _listening_addresses(_descendants(os.getpid()))
        seen["usage_stats"] = os.environ.get("RAY_USAGE_STATS_ENABLED")
        yield from imap(self, calls)

    monkeypatch.setattr(backends.RayBackend, "imap_unordered", spy)
    monkeypatch.delenv("RAY_USAGE_STATS_ENABLED", raising=False)
    space = {
        "lr": tune.loguniform(1e-4, 1.0),
        "width": tune.lograndint(8, 128),
        "activation": tune.choice(["relu", "tanh", "bad"]),
        "epochs": 4,
    }
    kw = dict(n_trials=12, mode="max", metric="accuracy", seed=11, n_jobs=2, round_size=4,
              stopper=tune.MedianStopping(min_trials=2))  # fmt: skip
    with pytest.warns(RuntimeWarning, match="trials failed"):
        local = tune.RandomSearch(curve_trial, space, **kw).run()
    with pytest.warns(RuntimeWarning, match="trials failed"):
        on_ray = tune.RandomSearch(curve_trial, space, backend="ray", **kw).run()
    assert rows(on_ray) == rows(local)
    assert {"ok", "failed"} <= {r["status"] for r in local.records}
    # neuralab started Ray: every listener on 127.0.0.1, usage stats off; then shut it down
    assert seen["listening"], "found no listening socket of the Ray processes"
    assert all(_is_loopback(a) for a in seen["listening"]), seen["listening"]
    assert seen["usage_stats"] == "0"
    assert not ray.is_initialized()
    assert "RAY_USAGE_STATS_ENABLED" not in os.environ
