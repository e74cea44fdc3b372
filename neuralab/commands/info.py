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
    info.add_argument("--models", action="store_true", help="list the zoo's model names")
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
        from neuralab.models import list_models

        print("models   " + ", ".join(list_models()))
    return 0
