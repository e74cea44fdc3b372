"""The course notebooks: each executes from scratch without error, and each stored .ipynb matches
its jupytext source in notebooks/src/ (so the two never drift apart).

Marked ``notebooks``: about two to three minutes of CPU in all (``-m "not notebooks"`` skips them).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("jupytext", reason="pip install 'neuralab[docs]'")
pytest.importorskip("nbclient", reason="pip install 'neuralab[docs]'")
import nbformat  # noqa: E402

pytestmark = pytest.mark.notebooks

FOLDER = Path(__file__).resolve().parent.parent / "notebooks"
spec = importlib.util.spec_from_file_location("notebooks_build", FOLDER / "build.py")
build = importlib.util.module_from_spec(spec)
spec.loader.exec_module(build)
NAMES = [source.stem for source in build.SOURCES]
TIMEOUT = 180  # per cell, generous: the machine running the suite may be busy


def test_one_notebook_per_lecture_section():
    assert len(NAMES) == 14
    for name in NAMES:
        assert (FOLDER / f"{name}.ipynb").exists(), (
            f"{name}.ipynb missing: python notebooks/build.py"
        )


@pytest.mark.parametrize("name", NAMES)
def test_stored_notebook_matches_its_source_and_has_outputs(name):
    stored = nbformat.read(FOLDER / f"{name}.ipynb", as_version=4)
    fresh = build.convert(FOLDER / "src" / f"{name}.py")
    assert [(c.cell_type, c.source) for c in stored.cells] == [
        (c.cell_type, c.source) for c in fresh.cells
    ], f"{name}.ipynb differs from src/{name}.py: run python notebooks/build.py {name[:2]}"
    code = [c for c in stored.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code), f"{name}.ipynb was not executed"
    assert not any(o.output_type == "error" for c in code for o in c.outputs)


@pytest.mark.parametrize("name", NAMES)
def test_notebook_executes_from_scratch(name):
    notebook = build.execute(build.convert(FOLDER / "src" / f"{name}.py"), timeout=TIMEOUT)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert not any(o.output_type == "error" for c in code for o in c.outputs)
    images = [o for c in code for o in c.outputs if "image/png" in o.get("data", {})]
    assert images, f"{name} drew no figure"
