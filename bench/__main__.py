"""``python -m bench``: the engine benchmark, neuralab beside PyTorch (see ``--help``)."""

from bench.engine import main

main()
