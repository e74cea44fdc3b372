"""GPT's idea in miniature: a decoder-only transformer learns to answer questions, then answers
ones it never saw.

The lecture shows ChatGPT answering questions. :mod:`neuralab.apps.chat` builds the same kind of
model at toy scale: questions about small numbers and a dozen generated shapes, a word
tokenizer, causal self-attention, next-token training on "Q: … A: …" and generation. This demo
trains one, scores it on held-out questions (template × values combinations never seen in
training) against the chance of always giving the most common answer, shows a few exchanges,
samples with a temperature, and draws the learning curves and one attention map.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from neuralab.apps import chat
from neuralab.demos._common import Figures, fmt_table

SUMMARY = "a miniature ChatGPT: a decoder-only transformer answers questions it never saw"

SAMPLED_QUESTION = "what colour is the star?"


def _draw(log: chat.TrainLog, tokens: list[str], weights: np.ndarray, path: Path) -> Any:
    """Loss and accuracies against training steps; the last block's attention for one question."""
    from neuralab.viz._figure import finish, pyplot

    plt = pyplot()
    fig, (curves, attention) = plt.subplots(1, 2, figsize=(11, 4.4), layout="constrained")
    curves.plot(log.steps, log.loss, "o-", color="C3", label="training loss (answer tokens)")
    curves.set(xlabel="step", ylabel="cross-entropy", title="Training")
    right = curves.twinx()
    right.plot(log.steps, log.train_accuracy, "s--", color="C0", label="training accuracy")
    right.plot(log.steps, log.test_accuracy, "s-", color="C2", label="held-out accuracy")
    right.set(ylabel="exact-match accuracy", ylim=(0, 1.02))
    lines = curves.get_lines() + right.get_lines()
    curves.legend(lines, [line.get_label() for line in lines], loc="center right", fontsize=8)
    attention.imshow(weights, cmap="viridis", vmin=0)
    attention.set_xticks(range(len(tokens)), tokens, rotation=90)
    attention.set_yticks(range(len(tokens)), tokens)
    attention.set(
        xlabel="attends to (key)",
        ylabel="position (query)",
        title="Last block's causal self-attention\n(mean of heads; nothing above the diagonal)",
    )
    return finish(fig, path)


def run(out: Path, quick: bool = False, prompt: str | None = None) -> dict[str, Any]:
    """Train TinyGPT on the toy corpus; print held-out accuracy, exchanges and samples, and its
    answer to ``prompt`` if one is given (``neuralab demo chat "what is 3 plus 4?"``)."""
    figures = Figures(out)
    corpus = chat.make_corpus(seed=0)
    steps = 300 if quick else 1500
    print(
        f"corpus: {len(corpus.train)} training questions, {len(corpus.test)} held out (each a "
        f"template × values combination never seen in training), vocabulary "
        f"{len(corpus.vocabulary())} words. Training TinyGPT for {steps} steps:"
    )
    every = steps // (3 if quick else 5)
    bot, log = chat.train_chat(corpus, steps, eval_every=every, report=lambda s: print("  " + s))
    model = bot.model
    print(
        f"TinyGPT: {len(model.blocks)} causal transformer blocks, "
        f"{model.num_parameters():,} parameters, {log.seconds:.0f} CPU seconds of training"
    )
    chance = corpus.chance_accuracy()
    by_kind = chat.accuracy_by_kind(bot, corpus.test)
    counts = {kind: sum(qa.kind == kind for qa in corpus.test) for kind in by_kind}
    print(
        f"held-out exact-match accuracy: {log.test_accuracy[-1]:.1%} (chance, always the most "
        f"common answer of the kind: {chance:.1%})"
    )
    print(fmt_table(["kind", "held out", "accuracy"], [
        [kind, counts[kind], f"{acc:.0%}"] for kind, acc in by_kind.items()
    ]))  # fmt: skip
    shown = [corpus.test[i] for i in np.linspace(0, len(corpus.test) - 1, 6).astype(int)]
    answers = bot.ask_many([qa.question for qa in shown])
    print("a few held-out questions:")
    for qa, answer in zip(shown, answers):
        verdict = "right" if answer == qa.answer else f"wrong, expected {qa.answer}"
        print(f"  Q: {qa.question}  A: {answer}  ({verdict})")
    rng = np.random.default_rng(0)
    samples = {
        setting: [bot.ask(SAMPLED_QUESTION, t, k, rng) for _ in range(8)]
        for setting, (t, k) in {"greedy": (0.0, None), "T=2, top-3": (2.0, 3)}.items()
    }
    for setting, said in samples.items():
        print(f"  {SAMPLED_QUESTION!r} eight times, {setting}: {' '.join(said)}")
    answer = None if prompt is None else bot.ask(prompt)
    if prompt is not None:
        print(f"your question: Q: {chat.normalize(prompt)}  A: {answer}")
    question = shown[0].question
    ids = bot.tokenizer.encode(f"Q: {question} A: {answers[0]}", bos=True)
    tokens = [bot.tokenizer.itos[i] for i in ids]
    weights = model.attention_weights([ids])[-1][0]
    figures.save("chat.png", lambda p: _draw(log, tokens, weights, p))
    return {
        "test_accuracy": log.test_accuracy[-1],
        "train_accuracy": log.train_accuracy[-1],
        "chance": chance,
        "by_kind": by_kind,
        "exchanges": [(qa.question, answer, qa.answer) for qa, answer in zip(shown, answers)],
        "samples": samples,
        "answer": answer,
        "figures": figures.paths,
    }
