"""Which torch names the port programs use that neuralab lacks, found by reading their source.

A crashing run names only its first gap; this lists them all at once, for the gap report:

    python tests/ports/scan_names.py            # every program
    python tests/ports/scan_names.py gpt.py     # one

Module-level names (``torch.randint``, ``nn.GRUCell``, ``F.one_hot``, ``torch.nn.utils.
clip_grad_norm_``) resolve through the program's own imports; any other ``.name`` counts as a
possible Tensor / Module / Optimizer method when torch's class has it and neuralab's lacks it.
Imports torch (a test tool, never the package).
"""

from __future__ import annotations

import ast
import importlib
import sys
from pathlib import Path

PROGRAMS = Path(__file__).resolve().parent / "programs"
_MISSING = object()


def _resolve(dotted: str):
    """The object a dotted path names (importing modules on the way), or _MISSING."""
    parts = dotted.split(".")
    obj = None
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except Exception:  # noqa: BLE001  (a missing or broken module is a gap, not a crash)
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr, _MISSING)
            if obj is _MISSING:
                return _MISSING
        return obj
    return _MISSING


def _aliases(tree: ast.Module) -> dict[str, str]:
    """Local name -> the torch path it is bound to, from the program's imports."""
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "torch":
                    names[a.asname or "torch"] = a.name if a.asname else "torch"
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "torch":
            for a in node.names:
                names[a.asname or a.name] = f"{node.module}.{a.name}"
    return names


def _foreign(tree: ast.Module) -> set[str]:
    """Names bound by imports of other modules (np, sp, math, ...): their attributes are theirs."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            module = getattr(node, "module", None) or ""
            for a in node.names:
                if (module or a.name).split(".")[0] != "torch":
                    names.add(a.asname or a.name.split(".")[0])
    return names


def _root(node: ast.AST) -> ast.AST:
    """The name an expression like ``np.isinf(x).all()`` starts from."""
    while isinstance(node, ast.Attribute | ast.Call | ast.Subscript):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node


def _dotted(node: ast.AST, aliases: dict[str, str]) -> str | None:
    """``nn.utils.clip_grad_norm_`` -> ``torch.nn.utils.clip_grad_norm_`` (None if not torch's)."""
    chain = []
    while isinstance(node, ast.Attribute):
        chain.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name) and node.id in aliases:
        return ".".join([aliases[node.id], *reversed(chain)])
    return None


def missing_names(source: str) -> list[str]:
    """Sorted torch names (``torch.x``, ``Tensor.y``, ``Module.z``) a program's source uses and
    neuralab lacks; methods are those torch's Tensor/Module/Optimizer has and neuralab's lacks."""
    import torch

    import neuralab

    tree = ast.parse(source)
    aliases, foreign = _aliases(tree), _foreign(tree)
    classes = [
        ("Tensor", torch.Tensor, neuralab.Tensor),
        ("Module", torch.nn.Module, neuralab.nn.Module),
        ("Optimizer", torch.optim.Optimizer, neuralab.optim.Optimizer),
    ]
    found = set()
    for path in aliases.values():
        if _resolve("neuralab" + path[len("torch") :]) is _MISSING:
            found.add(path)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        if (path := _dotted(node, aliases)) is not None:
            if _resolve(path) is not _MISSING and _resolve("neuralab" + path[5:]) is _MISSING:
                found.add(path)
            continue
        root = _root(node)
        if isinstance(root, ast.Constant) or getattr(root, "id", None) in foreign:
            continue
        for label, theirs, ours in classes:
            if hasattr(theirs, node.attr) and not hasattr(ours, node.attr):
                found.add(f"{label}.{node.attr}")
    return sorted(_outermost(found))


def _outermost(names: set[str]) -> set[str]:
    """Drop ``torch.a.b`` when ``torch.a`` is itself missing."""
    return {n for n in names if not any(n.startswith(m + ".") for m in names)}


def main(argv: list[str]) -> None:
    """Print each program's missing names."""
    for program in argv or sorted(p.name for p in PROGRAMS.glob("*.py")):
        print(f"{program}: {', '.join(missing_names((PROGRAMS / program).read_text())) or '-'}")


if __name__ == "__main__":
    main(sys.argv[1:])
