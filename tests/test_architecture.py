"""The package's shape: dependencies point one way, and no function grows past a screen.

Layers, lowest first (docs/architecture.md draws them): the engine; the building blocks on it;
training and the model zoo; everything built on those. A module may import from its own layer
and the layers below, never from a layer above (checked on every import statement, including the
ones inside functions).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "neuralab"

LAYERS = [
    # 0: the engine and what it needs
    "tensor tensor_surface dtypes device random compiled ops parallel memory autograd gradcheck "
    "creation linalg sparse registry multiprocessing",
    # 1: building blocks on the engine, torch's namespaces among them
    "nn optim data utils distributions distributed amp cuda cpu backends accelerator compiler "
    "serialization io func special testing",
    # 2: the one training loop and the zoo
    "train models",
    # 3: built on the above
    "apps demos estimators tune viz playground onnx recipes commands cli __main__",
]
LAYER = {name: i for i, names in enumerate(LAYERS) for name in names.split()}
LONGEST = 60


def _sources() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "static" not in p.parts)


def _top(path: Path) -> str:
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def _imported(tree: ast.AST) -> list[str]:
    """The neuralab modules a file imports, at module level or inside functions."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
    return [m for m in found if m.startswith("neuralab.")]


def test_every_top_level_module_has_a_layer():
    tops = {_top(p) for p in _sources()} - {"__init__"}
    assert tops <= set(LAYER), f"give these a layer in LAYERS: {sorted(tops - set(LAYER))}"


def test_dependencies_point_one_way():
    upward = []
    for path in _sources():
        if path == PACKAGE / "__init__.py":  # the public façade re-exports every layer
            continue
        mine = LAYER.get(_top(path), 0)
        for module in _imported(ast.parse(path.read_text())):
            theirs = LAYER.get(module.split(".")[1], 0)
            if theirs > mine:
                upward.append(f"{path.relative_to(PACKAGE)} imports {module}")
    assert not upward, "imports that point up a layer:\n" + "\n".join(upward)


def test_no_function_is_longer_than_a_screen():
    long = []
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > LONGEST:
                    long.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {node.name} ({lines})")
    assert not long, f"functions over {LONGEST} lines:\n" + "\n".join(long)


def test_import_neuralab_leaves_the_packages_a_step_does_not_need_for_first_use():
    code = (
        "import sys, neuralab as nl\n"
        "lazy = ['data', 'distributions', 'train', 'utils.data']\n"
        "print([f'neuralab.{n}' in sys.modules for n in lazy], {'data', 'distributions', 'train'} <= set(dir(nl)))\n"
        "print(nl.data.DataLoader.__name__, nl.train.fit.__name__, 'neuralab.data' in sys.modules)\n"
        "print(nl.utils.data.DataLoader is nl.data.DataLoader, 'data' in dir(nl.utils))\n"
        "from neuralab import distributions; print(distributions.Normal.__name__)\n"
        "try:\n    nl.no_such_thing\nexcept AttributeError as e:\n    print(e)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "[False, False, False, False] True",
        "DataLoader fit True",
        "True True",
        "Normal",
        "module 'neuralab' has no attribute 'no_such_thing'",
    ]
