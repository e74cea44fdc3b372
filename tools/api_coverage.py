"""Which public names of PyTorch's CPU-facing API neuralab has: a table, the share, the gaps.

    python tools/api_coverage.py            # print the summary table
    python tools/api_coverage.py --write    # also rewrite docs/api_coverage.md and the table in
                                            # docs/porting.md

A name counts as present when the matching neuralab namespace has an attribute of that name (for
``torch.Tensor``, when ``neuralab.Tensor`` has it). Names that only make sense with an accelerator,
a quantization backend or the JIT are counted apart and left out of the percentage. PyTorch is
imported here (it is the reference), never by the package.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import re
import sys
import types
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PORTING = ROOT / "docs" / "porting.md"
DETAIL = ROOT / "docs" / "api_coverage.md"
START, END = "<!-- coverage:start -->", "<!-- coverage:end -->"

# (label, torch module path, neuralab module path, attribute inside the module or None)
NAMESPACES = [
    ("torch", "torch", "neuralab", None),
    ("torch.nn", "torch.nn", "neuralab.nn", None),
    ("torch.nn.functional", "torch.nn.functional", "neuralab.nn.functional", None),
    ("torch.optim", "torch.optim", "neuralab.optim", None),
    ("torch.utils.data", "torch.utils.data", "neuralab.utils.data", None),
    ("torch.Tensor methods", "torch", "neuralab", "Tensor"),
]

# Accelerators, quantization, compilers, storages, sparse layouts other than COO, symbolic shapes:
# nothing a CPU training program written for torch needs from neuralab. A name is left out when
# one of its words (split at underscores and capitals) is one of these.
NOT_APPLICABLE_WORDS = frozenset(
    "cuda cudnn mps xpu mtia hpu ipu vulkan miopen mkldnn fbgemm quantize quantized quantizable "
    "dequantize qint8 qint32 quint8 quint4x2 quint2x4 q qparams quant repr jit onnx fx export "
    "compiler dynamo storage csr csc bsr bsc nested vmap fake meta sym datapipe throughput "
    "serialization deserialization".split()
)
NOT_APPLICABLE_NAMES = frozenset(
    "DisableTorchFunction DisableTorchFunctionSubclass handle_torch_function has_torch_function "
    "has_torch_function_unary has_torch_function_variadic".split()
)


def not_applicable(name: str) -> bool:
    """Whether ``name`` belongs to an accelerator, quantization, a compiler or storage internals."""
    words = re.split(r"_|(?<=[a-z0-9])(?=[A-Z])", name)
    return name in NOT_APPLICABLE_NAMES or any(w.lower() in NOT_APPLICABLE_WORDS for w in words)


@dataclass
class Row:
    """Coverage of one namespace."""

    label: str
    present: list[str]
    missing: list[str]
    not_applicable: list[str]

    @property
    def percent(self) -> float:
        total = len(self.present) + len(self.missing)
        return 100.0 * len(self.present) / total if total else 0.0


def public_names(obj: object, label: str) -> list[str]:
    """The public names of a torch namespace (``__all__`` where it is declared)."""
    if isinstance(obj, type):  # torch.Tensor: its public methods and properties
        return sorted(n for n in dir(obj) if not n.startswith("_"))
    declared = getattr(obj, "__all__", None)
    names = declared if declared else [n for n in dir(obj) if not n.startswith("_")]
    return sorted({n for n in names if not n.startswith("_") and _is_api(obj, n, label)})


def _is_api(module: object, name: str, label: str) -> bool:
    """Leave out what a namespace merely imported (typing helpers, other libraries' modules)."""
    value = getattr(module, name, None)
    if value is None:
        return True
    if isinstance(value, types.ModuleType):
        return value.__name__.startswith("torch")
    owner = getattr(value, "__module__", None) or ""
    if inspect.isclass(value) or inspect.isfunction(value):
        return owner.startswith("torch")
    return True


def neuralab_namespace(path: str, attr: str | None) -> object | None:
    """The neuralab module (or class) that mirrors a torch namespace; None if it does not exist."""
    try:
        module = importlib.import_module(path)
    except ImportError:
        return None
    return getattr(module, attr) if attr else module


def coverage() -> list[Row]:
    """One row per namespace of :data:`NAMESPACES`."""
    rows = []
    for label, torch_path, ours_path, attr in NAMESPACES:
        theirs = importlib.import_module(torch_path)
        theirs = getattr(theirs, attr) if attr else theirs
        ours = neuralab_namespace(ours_path, attr)
        present, missing, na = [], [], []
        for name in public_names(theirs, label):
            if ours is not None and hasattr(ours, name):
                present.append(name)
            elif not_applicable(name):
                na.append(name)
            else:
                missing.append(name)
        rows.append(Row(label, present, missing, na))
    return rows


def summary(rows: list[Row]) -> str:
    """The markdown table of counts and percentages."""
    lines = [
        "| namespace | torch's public names | device/JIT/quantization-only (not counted) "
        "| neuralab has | of the rest |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        total = len(r.present) + len(r.missing) + len(r.not_applicable)
        lines.append(
            f"| `{r.label}` | {total} | {len(r.not_applicable)} | {len(r.present)} "
            f"| {r.percent:.0f}% |"
        )
    return "\n".join(lines)


def detail(rows: list[Row], version: str) -> str:
    """docs/api_coverage.md: every missing name, namespace by namespace."""
    out = [
        "# API coverage: the names neuralab does not have yet",
        "",
        f"Generated by `python tools/api_coverage.py --write` against PyTorch {version}; "
        "the summary and what the numbers mean are in [porting.md](porting.md).",
        "",
        summary(rows),
    ]
    for r in rows:
        out += ["", f"## `{r.label}`: missing ({len(r.missing)})", ""]
        out.append(", ".join(f"`{n}`" for n in r.missing) or "none")
        if r.not_applicable:
            out += ["", f"Not counted ({len(r.not_applicable)}): "]
            out.append(", ".join(f"`{n}`" for n in r.not_applicable))
    return "\n".join(out) + "\n"


def replace_block(text: str, block: str) -> str:
    """``text`` with the part between the coverage markers replaced by ``block``."""
    if START not in text or END not in text:
        raise ValueError(f"{PORTING}: the markers {START} and {END} are missing")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{block}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--write", action="store_true", help="rewrite docs/api_coverage.md and porting.md's table"
    )
    args = parser.parse_args(argv)
    import torch

    rows = coverage()
    table = summary(rows)
    print(f"neuralab's coverage of PyTorch {torch.__version__}'s public API\n\n{table}")
    if args.write:
        DETAIL.write_text(detail(rows, torch.__version__))
        PORTING.write_text(replace_block(PORTING.read_text(), table))
        print(f"\nwrote {DETAIL.relative_to(ROOT)} and the table in {PORTING.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
