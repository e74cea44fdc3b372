"""The playground's live rate: snapshots per second and epochs per second over a real WebSocket.

``python -m bench.playground`` starts the server on a free loopback port (uvicorn, as
``neuralab playground`` does), connects as a browser tab would (``websockets``, no compression),
presses play on the default 4-2 tanh network on circle (250 training points) and counts, for a
few seconds, the snapshots that arrive and the epochs trained. The target: at least 20 snapshots
and 50 epochs per second at the default speed (60 epochs/s), and the same snapshot rate with the
speed uncapped. The client acknowledges each snapshot, as the page does after drawing it.
``--slow-client`` also runs a client that takes 200 ms per frame: it receives few snapshots,
but they are current and training does not slow down (the newest snapshot wins).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence

from websockets.sync.client import connect

from neuralab.playground.server import BackgroundServer

TARGET_SNAPSHOTS = 20.0
TARGET_EPOCHS = 50.0


def measure(url: str, speed: float, seconds: float, delay: float = 0.0) -> dict[str, float]:
    """Play for ``seconds`` at ``speed`` (0: uncapped); snapshots/s, epochs/s, bytes/snapshot."""
    with connect(url, compression=None, max_size=2**24) as ws:
        ws.send(json.dumps({"cmd": "config", "config": {"speed": speed}}))
        epoch0 = None
        while epoch0 is None:
            frame = json.loads(ws.recv())
            if frame["type"] == "snap":
                epoch0 = frame["epoch"]
                ws.send(json.dumps({"cmd": "ack", "seq": frame["seq"]}))
        ws.send(json.dumps({"cmd": "play"}))
        snaps, size, start = 0, 0, time.perf_counter()
        while (now := time.perf_counter()) - start < seconds:
            text = ws.recv(timeout=5)
            frame = json.loads(text)
            if frame["type"] == "snap" and frame["playing"]:
                snaps += 1
                size += len(text)
                epoch = frame["epoch"]
            time.sleep(delay)
            if frame["type"] == "snap":
                ws.send(json.dumps({"cmd": "ack", "seq": frame["seq"]}))
        elapsed = now - start
        ws.send(json.dumps({"cmd": "pause"}))
    return {
        "snapshots_per_s": snaps / elapsed,
        "epochs_per_s": (epoch - epoch0) / elapsed,
        "kb_per_snapshot": size / max(snaps, 1) / 1024,
    }


def main(argv: Sequence[str] | None = None) -> None:
    """Print a Markdown table of the rates and whether the targets hold."""
    parser = argparse.ArgumentParser(prog="python -m bench.playground", description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0, help="playing time per row")
    parser.add_argument("--slow-client", action="store_true", help="add a 200 ms/frame client")
    args = parser.parse_args(argv)
    rows = [("default speed (60 epochs/s)", 60.0, 0.0), ("uncapped speed", 0.0, 0.0)]
    if args.slow_client:
        rows.append(("uncapped, client 200 ms/frame", 0.0, 0.2))
    with BackgroundServer() as server:
        url = server.url.replace("http://", "ws://") + "ws"
        print("| run | snapshots/s | epochs/s | KiB/snapshot |")
        print("|---|---|---|---|")
        results = []
        for name, speed, delay in rows:
            r = measure(url, speed, args.seconds, delay)
            results.append(r)
            print(
                f"| {name} | {r['snapshots_per_s']:.1f} | {r['epochs_per_s']:.0f} | "
                f"{r['kb_per_snapshot']:.1f} |"
            )
    default = results[0]
    ok = default["snapshots_per_s"] >= TARGET_SNAPSHOTS and default["epochs_per_s"] >= TARGET_EPOCHS
    verdict = "holds" if ok else "MISSED"
    print(
        f"\ntarget (>= {TARGET_SNAPSHOTS:g} snapshots/s while training >= {TARGET_EPOCHS:g} "
        f"epochs/s at the defaults): {verdict}"
    )


if __name__ == "__main__":
    main()
