"""``python -m bench [engine|training|variants|inference|cold|distributed|settings]``: benchmarks.

``engine`` (the default, so ``python -m bench`` alone runs it) times single ops; ``training``
times whole training steps of the workloads W1–W8; ``variants`` the steps of seeded random
members of each model family; ``inference`` batch-1 forward latency; ``cold`` a new process up
to the end of its first training step; ``distributed`` data-parallel training; ``settings``
our steps under several settings (OpenBLAS's spin, module constants), interleaved.
``python -m bench training --help`` explains each; the command's module is imported only when
it runs.
"""

import importlib
import sys

COMMANDS = {
    "engine": "bench.engine",
    "training": "bench.training",
    "variants": "bench.variants",
    "inference": "bench.inference",
    "cold": "bench.cold_start",
    "distributed": "bench.distributed",
    "settings": "bench.settings",
}

args = sys.argv[1:]
if args[:1] == ["--help"] or args[:1] == ["-h"]:
    print(f"usage: python -m bench [{'|'.join(COMMANDS)}] [options]  (engine when omitted)\n")
command = args.pop(0) if args[:1] and args[0] in COMMANDS else "engine"
importlib.import_module(COMMANDS[command]).main(args)
