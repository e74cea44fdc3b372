"""Loss functions: how far the prediction is from the truth, for each kind of task.

The classification losses are functions of the margin m = y·ŷ (labels y = ±1): m < 0 is a
wrong answer, m > 0 a right one. The soft perceptron loss charges only wrong answers, the hinge
loss also correct ones inside the margin (m < 1), the logistic loss never quite reaches 0, and
the squared error also punishes very confident right answers (m > 1). Cross-entropy grades a
predicted distribution (the student) against the true one (the teacher).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from neuralab.demos._common import Figures, fmt_table

SUMMARY = "squared, logistic, hinge and perceptron losses of the margin; cross-entropy in bits"

MARGINS = (-2.0, -1.0, 0.0, 0.5, 1.0, 2.0)
STUDENTS = ((0.99, 0.01), (0.9, 0.1), (0.6, 0.4), (0.5, 0.5), (0.1, 0.9))


def run(out: Path, quick: bool = False) -> dict[str, Any]:
    """Print the margin losses at a few margins and a cross-entropy example; plot the curves."""
    import neuralab as nl
    import neuralab.viz as viz
    from neuralab.nn import functional as F

    figures = Figures(out)
    m = nl.tensor(list(MARGINS))
    ones = nl.ones(len(MARGINS))
    with nl.no_grad():
        table = {
            "squared (1 − m)²": F.mse_loss(m, ones, reduction="none"),
            "logistic log(1 + e⁻ᵐ)": F.logistic_loss(m, ones, reduction="none"),
            "hinge max(0, 1 − m)": F.hinge_loss(m, ones, reduction="none"),
            "soft perceptron max(0, −m)": F.perceptron_loss(m, ones, reduction="none"),
        }
    losses = {name: [round(float(v), 4) for v in t.numpy()] for name, t in table.items()}
    print("Classification losses of the margin m = y·ŷ (m < 0: wrong side, m ≥ 1: confident):")
    print(
        fmt_table(["loss \\ m", *(f"{v:g}" for v in MARGINS)], [[k, *v] for k, v in losses.items()])
    )
    print(
        "  only the perceptron loss is 0 for every right answer; the hinge wants a margin of 1; "
        "the logistic loss keeps pushing; the squared error punishes m = 2 as much as m = 0."
    )

    print("\nCross-entropy in bits, Σ y_c·log2(1/ŷ_c): the teacher says y = (1, 0).")
    with nl.no_grad():
        probs = nl.tensor([s[0] for s in STUDENTS])
        bits = F.binary_cross_entropy(probs, nl.ones(len(STUDENTS)), reduction="none")
    grades = [round(float(b) / math.log(2), 4) for b in bits.numpy()]
    print(
        fmt_table(
            ["student ŷ", "cross-entropy (bits)"], [[str(s), g] for s, g in zip(STUDENTS, grades)]
        )
    )
    print(
        "  the teacher's own entropy is 0 bits (it is certain); cross-entropy is the student's "
        "exam penalty: it grows without bound as the student moves probability to the wrong class."
    )
    figures.save("losses.png", lambda p: viz.plot_losses(path=p))
    return {
        "margins": list(MARGINS),
        "losses": losses,
        "cross_entropy_bits": dict(zip(STUDENTS, grades)),
        "figures": figures.paths,
    }
