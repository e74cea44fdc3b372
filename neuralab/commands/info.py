"""``neuralab info``: versions, the BLAS NumPy uses, threads, and the model zoo."""

from __future__ import annotations

import argparse
import os
import platform
from typing import Any


def add_arguments(sub: Any) -> None:
    """Register the info sub-command."""
    info = sub.add_parser(
        "info",
        help="show versions, BLAS and threads (and the model zoo)",
        description="Print neuralab's, Python's and NumPy's versions, the BLAS library NumPy "
        "calls with its thread count, and the CPU count; --models lists the zoo.",
    )
    info.add_argument(
        "--models", action="store_true", help="list the zoo's models, their tasks and data"
    )
    info.set_defaults(func=info_command)


def info_command(args: argparse.Namespace) -> int:
    """Print the environment facts that explain speed and reproducibility."""
    import numpy as np

    import neuralab

    print(f"neuralab {neuralab.__version__}")
    print(f"python   {platform.python_version()} ({platform.machine()}, {platform.system()})")
    print(f"numpy    {np.__version__}")
    print(f"cpus     {os.cpu_count()}")
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        print("blas     unknown (threadpoolctl is not installed)")
    else:
        for pool in threadpool_info():
            if pool.get("user_api") == "blas":
                print(
                    f"blas     {pool.get('internal_api')} {pool.get('version')} "
                    f"({pool.get('architecture', '?')}), {pool.get('num_threads')} threads"
                )
    if args.models:
        _print_models()
    return 0


def _print_models() -> None:
    """The zoo: each model with its task and the data ``neuralab train --model`` uses."""
    from neuralab.models import MODELS, list_models

    print("models   (neuralab train --model NAME trains one on its data)")
    for name in list_models():
        spec = MODELS.get(name)
        data = f"{spec.data}:DIR" if spec.data in ("cifar10", "mnist") else spec.data
        print(f"  {name:<24} {spec.task:<24} {data}")
