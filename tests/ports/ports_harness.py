"""Run a PyTorch program under torch and under neuralab (only its imports rewritten); compare.

Every program in ``programs/`` is a plain torch script that prints one JSON line per logged step
(``{"part": ..., "step": ..., "loss": ...}``). :func:`run` runs it once as written, in a child
forked from a warm torch interpreter (torch_zygote.py: a torch program's first step comes ~5 s
after a cold start here; the forked run logs the same records as a cold one), and once with
``import torch`` ... rewritten to ``import neuralab as torch`` ... in a fresh interpreter (and
torch made unimportable, so the port cannot lean on it), and returns the logged records.

    python tests/ports/ports_harness.py gpt.py [program args]   # both runs, curves side by side
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

PROGRAMS = Path(__file__).resolve().parent / "programs"
ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 300  # seconds for one run; a program that takes this long has a gap of its own

_IMPORT = re.compile(r"^(\s*)import torch(\.[\w.]+)?(\s+as\s+\w+)?\s*$")
_FROM = re.compile(r"^(\s*)from torch(\.[\w.]+)? import (.+)$")

# Runs a rewritten program with torch unimportable (a neuralab run must not reach torch).
_RUNNER = """
import runpy, sys
class _NoTorch:
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ImportError(f"ports: {name} was imported during a neuralab run")
sys.meta_path.insert(0, _NoTorch())
path = sys.argv[1]
sys.argv = sys.argv[1:]
runpy.run_path(path, run_name="__main__")
"""


def rewrite_imports(source: str) -> str:
    """The program with each torch import turned into the neuralab one; nothing else changes."""
    lines = []
    for line in source.splitlines():
        if m := _IMPORT.match(line):
            indent, sub, alias = m.group(1), m.group(2) or "", m.group(3)
            if alias:  # import torch.nn as nn -> import neuralab.nn as nn
                line = f"{indent}import neuralab{sub}{alias}"
            elif sub:  # import torch.utils.data -> binds the name torch, as Python does
                line = f"{indent}import neuralab{sub}; import neuralab as torch"
            else:
                line = f"{indent}import neuralab as torch"
        elif m := _FROM.match(line):
            line = f"{m.group(1)}from neuralab{m.group(2) or ''} import {m.group(3)}"
        lines.append(line)
    rewritten = "\n".join(lines) + "\n"
    leftover = [ln for ln in rewritten.splitlines() if re.match(r"\s*(import|from)\s+torch\b", ln)]
    assert not leftover, f"rewrite_imports: torch imports left over: {leftover}"
    return rewritten


@dataclass
class Run:
    """One finished run of a program: its logged records and what it printed."""

    framework: str
    records: list[dict]
    stdout: str
    stderr: str
    seconds: float
    returncode: int
    argv: list[str] = field(default_factory=list)

    def curve(self, part: str | None = None, key: str = "loss") -> list[float]:
        """The logged values of `key` (for one `part` of the program), in order."""
        return [r[key] for r in self.records if key in r and part in (None, r.get("part"))]

    def failure(self) -> str:
        """A one-paragraph account of a crash: the command and the end of stderr."""
        tail = "\n".join(self.stderr.strip().splitlines()[-25:])
        return f"{self.framework} run of {' '.join(self.argv)} exited {self.returncode}:\n{tail}"


def _env() -> dict[str, str]:
    """One thread per run (the suite runs two tests at once on two cores), package importable."""
    env = dict(os.environ)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                 "NEURALAB_NUM_THREADS"):  # fmt: skip
        env[name] = "1"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    env["PYTHONHASHSEED"] = "0"
    return env


def run(program: str, framework: str, args: list[str], cwd: Path) -> Run:
    """Run ``programs/<program>`` under ``"torch"`` (forked from a warm interpreter: see
    torch_zygote.py) or ``"neuralab"`` (in a fresh interpreter)."""
    source = (PROGRAMS / program).read_text()
    start = time.perf_counter()
    if framework == "torch":
        out, err, code = _run_forked(PROGRAMS / program, args, Path(cwd))
    elif framework == "neuralab":
        script = Path(cwd) / f"ported_{program}"
        script.write_text(rewrite_imports(source))
        cmd = [sys.executable, "-c", _RUNNER, str(script), *args]
        try:
            proc = subprocess.run(cmd, cwd=cwd, env=_env(), capture_output=True, text=True,
                                  timeout=TIMEOUT)  # fmt: skip
            out, err, code = proc.stdout, proc.stderr, proc.returncode
        except subprocess.TimeoutExpired as exc:
            out, err, code = exc.stdout or "", f"timed out after {TIMEOUT} s", -1
            out = out.decode() if isinstance(out, bytes) else out
    else:
        raise ValueError(f"run: framework must be 'torch' or 'neuralab', got {framework!r}")
    records = [json.loads(ln) for ln in out.splitlines() if ln.startswith("{")]
    return Run(framework, records, out, err, time.perf_counter() - start, code,
               [program, *args])  # fmt: skip


_zygote: list[subprocess.Popen] = []  # torch_zygote.py, started on the first torch run


def _run_forked(script: Path, args: list[str], cwd: Path) -> tuple[str, str, int]:
    """(stdout, stderr, exit code) of ``python script args`` in ``cwd``, run by a child of the
    warm torch interpreter of torch_zygote.py (started once, with :func:`_env`'s environment)."""
    if not _zygote or _zygote[0].poll() is not None:
        zygote = Path(__file__).with_name("torch_zygote.py")
        _zygote[:] = [subprocess.Popen([sys.executable, str(zygote)], env=_env(), text=True,
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE)]  # fmt: skip
    server = _zygote[0]
    out, err = cwd / "stdout.txt", cwd / "stderr.txt"
    request = {
        "script": str(script),
        "args": args,
        "cwd": str(cwd),
        "out": str(out),
        "err": str(err),
    }
    server.stdin.write(json.dumps(request) + "\n")
    server.stdin.flush()
    pid = json.loads(server.stdout.readline())["pid"]
    with ThreadPoolExecutor(1) as reader:
        answer = reader.submit(server.stdout.readline)
        try:
            code = json.loads(answer.result(TIMEOUT))["code"]
        except TimeoutError:
            os.kill(pid, signal.SIGKILL)
            return out.read_text(), f"timed out after {TIMEOUT} s", -1
    return out.read_text(), err.read_text(), code


def run_both(program: str, args: list[str], tmp: Path) -> tuple[Run, Run]:
    """The torch run in ``tmp/torch``, then the neuralab run in ``tmp/neuralab`` (which may read
    what the torch run wrote to a path in `args`, e.g. its initial weights); fails with the
    crash's traceback when either does not finish."""
    runs = []
    for framework in ("torch", "neuralab"):
        cwd = Path(tmp) / framework
        cwd.mkdir(parents=True, exist_ok=True)
        runs.append(run(program, framework, args, cwd))
        assert runs[-1].returncode == 0, runs[-1].failure()
    return runs[0], runs[1]


def assert_same_curve(ref: list[float], ours: list[float], rtol: float, what: str) -> None:
    """The two loss curves have the same length and agree step by step within `rtol`."""
    assert len(ours) == len(ref), f"{what}: {len(ours)} logged losses, torch logged {len(ref)}"
    for i, (a, b) in enumerate(zip(ref, ours)):
        assert abs(a - b) <= rtol * max(abs(a), 1e-12), (
            f"{what}: loss {i} is {b!r}, torch's {a!r} (rtol {rtol}); "
            f"torch {_short(ref)}, neuralab {_short(ours)}"
        )


def assert_learns_like(ref: list[float], ours: list[float], share: float, what: str) -> None:
    """Both curves fall, and ours ends within `share` of torch's drop from torch's final loss.

    The drop is torch's first logged loss minus its last; ``share=0.25`` lets neuralab end a
    quarter of that drop above or below torch (randomness differs: dropout, shuffling, batches).
    """
    assert ref and ours, f"{what}: no losses logged (torch {len(ref)}, neuralab {len(ours)})"
    drop = ref[0] - ref[-1]
    assert drop > 0, f"{what}: torch itself did not learn: {_short(ref)}"
    gap = abs(ours[-1] - ref[-1])
    assert gap <= share * drop, (
        f"{what}: neuralab ends at {ours[-1]:.4f}, torch at {ref[-1]:.4f}; allowed "
        f"±{share * drop:.4f} ({share:.0%} of torch's drop {drop:.4f}); "
        f"torch {_short(ref)}, neuralab {_short(ours)}"
    )
    assert ours[-1] < ours[0] - 0.5 * drop, f"{what}: neuralab did not learn: {_short(ours)}"


def _short(curve: list[float]) -> str:
    """A curve shortened for an error message."""
    shown = curve if len(curve) <= 8 else [*curve[:4], ..., *curve[-3:]]
    return "[" + ", ".join("..." if v is ... else f"{v:.5g}" for v in shown) + "]"


def main(argv: list[str]) -> None:
    """Both runs of one program in a temporary directory, curves printed side by side."""
    import tempfile

    program, args = argv[0], argv[1:]
    with tempfile.TemporaryDirectory() as tmp:
        for framework in ("torch", "neuralab"):
            result = run(program, framework, args, Path(tmp))
            print(f"== {framework}: exit {result.returncode} in {result.seconds:.1f} s")
            parts = dict.fromkeys(r.get("part") for r in result.records)
            for part in parts:
                print(f"   {part}: {_short(result.curve(part))}")
            if result.returncode:
                print(result.failure())


if __name__ == "__main__":
    main(sys.argv[1:])
