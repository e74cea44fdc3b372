"""``python -m bench [engine|training|cold] ...``: the benchmarks, neuralab beside PyTorch.

``engine`` (the default, so ``python -m bench`` alone runs it) times single ops; ``training``
times whole training steps of the workloads W1–W6; ``cold`` times a new process up to the end
of its first training step. ``python -m bench training --help`` explains each; the command's
module is imported only when it runs.
"""

import importlib
import sys

COMMANDS = {"engine": "bench.engine", "training": "bench.training", "cold": "bench.cold_start"}

args = sys.argv[1:]
if args[:1] == ["--help"] or args[:1] == ["-h"]:
    print("usage: python -m bench [engine|training|cold] [options]  (engine when omitted)\n")
command = args.pop(0) if args[:1] and args[0] in COMMANDS else "engine"
importlib.import_module(COMMANDS[command]).main(args)
