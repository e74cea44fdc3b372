"""The README's Python examples run and print what the README says they print."""

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_examples_run():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert len(blocks) >= 2
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for block in blocks:
            exec(compile(block, str(README), "exec"), {})
    lines = out.getvalue().splitlines()
    assert lines[:3] == ["1 7.2", "2 5.76", "3 4.608"]
    accuracy = float(re.search(r"accuracy ([\d.]+)%", out.getvalue()).group(1))
    assert accuracy >= 90.0
