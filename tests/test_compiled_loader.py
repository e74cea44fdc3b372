"""neuralab.compiled's loader: the on-disk cache, the one-line compile notice, the NumPy fallback."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from neuralab import compiled

ROOT = Path(__file__).resolve().parent.parent
STEP = (
    "import numpy as np, neuralab as nl\n"
    "m = nl.nn.Linear(3, 2); opt = nl.optim.Adam(m.parameters())\n"
    "m(nl.from_numpy(np.ones((4, 3), np.float32))).sum().backward(); opt.step()\n"
    "from neuralab import compiled; import sys\n"
    "print(compiled.load('neuralab.compiled.adam') is not None, sys.modules.get('numba') is not None)\n"
)


def _python(code: str, **env: str) -> subprocess.CompletedProcess:
    environ = {
        k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", "NEURALAB_NUMBA")
    }
    return subprocess.run(
        [sys.executable, "-c", code], env={**environ, **env}, cwd=ROOT, capture_output=True,
        text=True, check=True, timeout=300,
    )  # fmt: skip


@pytest.mark.skipif(not compiled.numba_enabled(), reason="needs numba")
def test_the_first_process_says_it_compiles_and_the_second_is_silent(tmp_path):
    first = _python(STEP, NUMBA_CACHE_DIR=str(tmp_path))
    assert first.stdout.split() == ["True", "True"]
    assert first.stderr == "neuralab: compiling the Adam kernels once (cached for later runs)…\n"
    assert any(tmp_path.rglob("*.nbi"))  # the index of the cached code
    second = _python(STEP, NUMBA_CACHE_DIR=str(tmp_path))
    assert second.stdout.split() == ["True", "True"] and second.stderr == ""


def test_neuralab_numba_0_keeps_the_numpy_path_and_never_imports_numba():
    done = _python(STEP, NEURALAB_NUMBA="0")
    assert done.stdout.split() == ["False", "False"] and done.stderr == ""


def test_without_numba_the_numpy_path_runs():
    blocked = "import sys; sys.modules['numba'] = None\n"  # import numba raises ImportError
    done = _python(blocked + STEP + "print(compiled.numba_enabled())")
    assert done.stdout.split() == ["False", "False", "False"] and done.stderr == ""


@pytest.mark.skipif(not compiled.numba_enabled(), reason="needs numba")
def test_loading_kernels_skips_scipys_blas_yet_numba_code_can_still_call_dot():
    check = (
        "print('scipy.linalg' in sys.modules)\n"
        "import numba\n"
        "dot = numba.njit(lambda a, b: np.dot(a, b))\n"
        "print(dot(np.arange(3.0), np.arange(3.0)), 'scipy.linalg' in sys.modules)\n"
    )
    done = _python(STEP + check)
    # the Adam kernel ran without SciPy's BLAS bindings; np.dot in numba code imports them
    assert done.stdout.split() == ["True", "True", "False", "5.0", "True"], done.stderr


def test_import_neuralab_does_not_import_numba():
    done = _python("import sys, neuralab; print('numba' in sys.modules)")
    assert done.stdout.strip() == "False"


def test_the_cache_goes_to_the_user_cache_when_the_package_is_read_only(tmp_path, monkeypatch):
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    package = tmp_path / "site-packages" / "neuralab" / "compiled"
    package.mkdir(parents=True)
    assert compiled.cache_dir(package) is None  # writable: numba's default, beside the modules
    writable = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: writable(p, mode) and package not in (
        Path(p), Path(p).parent))  # fmt: skip
    assert compiled.cache_dir(package) == tmp_path / "cache" / "neuralab" / "numba"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert compiled.cache_dir(package) == Path.home() / ".cache" / "neuralab" / "numba"
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "mine"))
    assert compiled.cache_dir(package) == tmp_path / "mine"  # the user's choice wins


@pytest.mark.skipif(not compiled.numba_enabled(), reason="needs numba")
def test_a_read_only_install_compiles_into_the_user_cache(tmp_path):
    """The loader points numba at the user cache before any kernel module is imported."""
    code = (
        "import os\n"
        "from pathlib import Path\n"
        "from neuralab import compiled\n"
        f"compiled.cache_dir = lambda package_dir=None: Path({str(tmp_path)!r})\n" + STEP +
        "import numba; print(numba.config.CACHE_DIR == os.environ['NUMBA_CACHE_DIR'])\n"
    )  # fmt: skip
    done = _python(code)
    assert done.stdout.split() == ["True", "True", "True"]
    assert "compiling the Adam kernels" in done.stderr
    assert any(tmp_path.rglob("*adam*.nbi"))


def test_batch_1_inference_of_a_small_mlp_never_imports_numba():
    # importing numba costs a new process ~0.35 s: `predict` and the playground's small models
    # answer one query without it (their products and ReLUs take NumPy's path at this size)
    answer = (
        "import sys, neuralab as nl\n"
        "nn = nl.nn\n"
        "m = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10)).eval()\n"
        "with nl.no_grad():\n"
        "    y = m(nl.randn(1, 784))\n"
        "print(tuple(y.shape), 'numba' in sys.modules)\n"
    )
    assert _python(answer).stdout.split() == ["(1,", "10)", "False"]
