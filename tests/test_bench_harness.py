"""Smoke test of the benchmark code (bench/): tiny sizes, one pair, no timing assertions."""

import re

import pytest

from bench.engine import RATIO_HEADER, RESULTS_END, RESULTS_START, Sizes, run, table, write_results
from bench.harness import compare

TINY = Sizes(
    pairs=1,
    warmup=0,
    op_inner=1,
    matmul_n=16,
    matmul_inner=1,
    conv_batch=2,
    conv_channels=4,
    conv_hw=8,
)
ROWS = [
    "add 8×8 +bwd",
    "mul 8×8 +bwd",
    "matmul 8×8 +bwd",
    "relu 8×8 +bwd",
    "sum 8×8 +bwd",
    "matmul 16×16 fwd",
    "conv2d 2×4×8×8 3×3 4→4 pad 1 fwd+bwd",
]


def test_engine_bench_table_and_results_file(tmp_path):
    results = run(TINY, threads=(1,))
    text = table(results)
    lines = text.splitlines()
    assert RATIO_HEADER in lines[0]
    body = [[c.strip() for c in ln.strip("|").split("|")] for ln in lines[2:]]
    assert [row[0] for row in body] == ROWS
    for name, threads, ours, theirs, ratio, gf_ours, gf_theirs in body:
        assert threads == "1"
        numbers = [ours.split()[0], theirs.split()[0], ratio]
        numbers += [g for g in (gf_ours, gf_theirs) if "fwd" in name]  # GFLOP/s rows
        assert all(float(x) > 0 for x in numbers), (name, numbers)
    assert all(r.timing.ratio > 0 and len(r.timing.ours) == 1 for r in results)

    doc = tmp_path / "benchmarks.md"
    doc.write_text(f"# B\n\n{RESULTS_START}\nold\n{RESULTS_END}\n\nafter\n", encoding="utf-8")
    write_results(str(doc), text + "\n")
    assert re.fullmatch(
        rf"# B\n\n{RESULTS_START}\n\| workload.*\n{RESULTS_END}\n\nafter\n",
        doc.read_text(encoding="utf-8"),
        re.S,
    )

    with pytest.raises(ValueError, match="pairs >= 1"):
        compare(lambda: None, lambda: None, pairs=0)


def test_cold_start_child_takes_one_step_and_the_table_reads_ratios():
    from bench import cold_start

    seconds = cold_start.first_step_seconds("W1", "neuralab", 1)
    assert 0 < seconds < 60
    rows = [cold_start.Cold("W1", 1, 0.5, 2.0, 3.25), cold_start.Cold("W8", 2, 1.0, 2.0, None)]
    lines = cold_start.table(rows).splitlines()
    cells = [[c.strip() for c in ln.strip("|").split("|")] for ln in lines[2:]]
    assert cells == [
        ["W1", "1", "0.50", "2.00", "4.0", "≥ 3", "yes", "3.25"],
        ["W8", "2", "1.00", "2.00", "2.0", "≥ 3", "**no**", "–"],
    ]
    rows.append(cold_start.Cold("W2", 1, 1.0, 3.5, None, numpy_only=0.5))
    last = [c.strip() for c in cold_start.table(rows).splitlines()[-1].strip("|").split("|")]
    assert last[-3:] == ["–", "0.50", "7.0"]  # NumPy-only seconds and torch's ÷ them


def test_cold_start_counts_the_modules_whose_bytecode_is_cached(tmp_path):
    import py_compile

    from bench.cold_start import bytecode_cached

    for name in ("a.py", "sub/b.py", "sub/c.py"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("x = 1\n")
    assert bytecode_cached(tmp_path) == (0, 3)
    py_compile.compile(str(tmp_path / "sub" / "b.py"))
    assert bytecode_cached(tmp_path) == (1, 3)
