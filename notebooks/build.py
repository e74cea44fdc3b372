"""Build the notebooks: each jupytext source in src/ becomes an executed .ipynb beside this file.

    python notebooks/build.py            # every notebook
    python notebooks/build.py 04 08      # those whose names start with these prefixes

The stored .ipynb files keep their outputs (figures included) so that they read well on the web
and on the documentation site, which renders them without executing; tests/test_notebooks.py
re-executes every one from scratch and checks that it still matches its source.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
SOURCES = sorted((HERE / "src").glob("[0-9]*.py"))
TIMEOUT = 120  # seconds per cell; each notebook takes well under a minute
#: One BLAS thread in the kernels, as ``neuralab demo`` uses: the notebooks' matrices are small,
#: and BLAS threads waiting on each other cost more than they save (10x on a busy machine).
BLAS_ONE_THREAD = {
    name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
}


def convert(source: Path) -> nbformat.NotebookNode:
    """The notebook of a percent-format source, with the python3 kernel."""
    notebook = jupytext.read(source)
    notebook.metadata["kernelspec"] = {
        "name": "python3", "display_name": "Python 3", "language": "python",
    }  # fmt: skip
    notebook.metadata.pop("jupytext", None)
    return notebook


def execute(notebook: nbformat.NotebookNode, timeout: int = TIMEOUT) -> nbformat.NotebookNode:
    """Run every cell in a fresh kernel, in this folder (outputs stored in ``notebook``)."""
    for name, value in BLAS_ONE_THREAD.items():
        os.environ.setdefault(name, value)  # the kernel inherits them
    NotebookClient(
        notebook, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": HERE}}
    ).execute()
    return notebook


def main(prefixes: list[str]) -> None:
    """Convert and execute the chosen sources, writing NAME.ipynb next to this script."""
    for source in SOURCES:
        if prefixes and not any(source.name.startswith(p) for p in prefixes):
            continue
        start = time.perf_counter()
        notebook = execute(convert(source))
        nbformat.write(notebook, HERE / f"{source.stem}.ipynb")
        print(f"{source.stem}: {time.perf_counter() - start:.1f} s", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
