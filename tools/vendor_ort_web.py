"""Build step: ONNX Runtime Web from the npm registry into the playground's static files.

Runs ``npm install`` in tools/ort-web (pinned in its package.json) and copies the WebAssembly
build the Teachable Machine tab uses (ort.wasm.min.mjs, its loader and .wasm, and the package's
package.json for the version and MIT licence) to
neuralab/playground/static/vendor/onnxruntime-web/, which the package ships: the page never
fetches it from a CDN. Run it once after cloning: ``python tools/vendor_ort_web.py``.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NPM_DIR = ROOT / "tools" / "ort-web"
DIST = NPM_DIR / "node_modules" / "onnxruntime-web"
TARGET = ROOT / "neuralab" / "playground" / "static" / "vendor" / "onnxruntime-web"
FILES = ("dist/ort.wasm.min.mjs", "dist/ort-wasm-simd-threaded.mjs",
         "dist/ort-wasm-simd-threaded.wasm", "package.json")  # fmt: skip


def main() -> None:
    """Install the pinned package and copy its browser files into the static folder."""
    subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--ignore-scripts"],
                   cwd=NPM_DIR, check=True)  # fmt: skip
    TARGET.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        shutil.copy2(DIST / name, TARGET / Path(name).name)
        print(f"copied {name} -> {TARGET.relative_to(ROOT) / Path(name).name}")


if __name__ == "__main__":
    main()
