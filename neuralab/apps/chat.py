"""A miniature ChatGPT: a decoder-only transformer that answers questions about a toy world.

GPT's idea in four parts, each small enough to read:

- **a corpus** (:func:`make_corpus`): questions and answers generated over a toy domain —
  small-number arithmetic ("what is 3 plus 4?" → "7"), comparisons ("which is bigger, 2 or
  9?" → "9", "is 5 more than 8?" → "no") and facts about a dozen generated shapes ("what
  colour is the star?" → "red", "how many circles are there?" → "3"). Each question kind has
  several phrasings (templates), and template × values combinations are split so that every
  held-out question is one the model never saw: its numbers were never asked in that
  phrasing, its fact was learned from the other phrasings only;
- **a tokenizer** (:class:`WordTokenizer`): one token per word, number or punctuation mark,
  plus PAD, BOS, EOS and UNK (any word it has never seen);
- **the model** (:class:`TinyGPT`): token and position embeddings, a stack of pre-norm
  transformer blocks whose self-attention is causal (position t sees positions ≤ t only), a
  final LayerNorm and a language-model head sharing the token embedding's weights;
- **training and sampling** (:func:`train_chat`, :func:`generate`): next-token prediction on
  "Q: … A: …<eos>" sequences (the loss on the answer's tokens), then answers generated one
  token at a time, greedy for evaluation or sampled with a temperature and top-k.

::

    from neuralab.apps import chat

    corpus = chat.make_corpus(seed=0)
    bot, log = chat.train_chat(corpus)            # about half a minute on one core
    bot.ask("what is 3 plus 4?")                  # '7'
    chat.accuracy(bot, corpus.test)               # exact match on the held-out questions
    bot.save("runs/chat/model.safetensors")

See docs/apps/chat.md; ``neuralab chat`` talks to a trained model in the terminal.
"""

from __future__ import annotations

import math
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from neuralab import nn, optim
from neuralab.data.sequences import BOS, EOS, PAD, Vocab
from neuralab.io import load, save
from neuralab.nn import functional as F
from neuralab.nn.layers.transformer import generate_square_subsequent_mask
from neuralab.nn.module import Module
from neuralab.nn.utils import eval_mode
from neuralab.random import generator, use_generator
from neuralab.tensor import Tensor, constant, no_grad
from neuralab.train import Callback, LearningRateScheduler, Trainer

__all__ = [
    "ChatBot",
    "Corpus",
    "QA",
    "TinyGPT",
    "TrainLog",
    "WordTokenizer",
    "accuracy",
    "accuracy_by_kind",
    "detokenize",
    "generate",
    "make_corpus",
    "make_world",
    "normalize",
    "sample_next",
    "tokenize",
    "train_chat",
]

UNK_TOKEN = "<unk>"
IGNORE = -100  # target id the loss skips (prompt positions and padding)
DEFAULT_PATH = Path("runs/chat/model.safetensors")

# ----------------------------------------------------------------------------- the toy world

SHAPES = (
    "circle", "square", "triangle", "star", "heart", "cross",
    "ring", "diamond", "arrow", "moon", "cube", "cone",
)  # fmt: skip
PLURALS = {"cross": "crosses"}
COLOURS = ("red", "green", "blue", "yellow", "purple", "orange")
SIZES = ("small", "big")
MAX_COUNT = 5
MAX_NUMBER = 9

ARITHMETIC_TEMPLATES: dict[str, tuple[str, ...]] = {
    "plus": ("what is {a} plus {b}?", "what is {a} + {b}?"),
    "minus": ("what is {a} minus {b}?", "what is {a} - {b}?"),
    "bigger": ("which is bigger, {a} or {b}?", "which number is larger, {a} or {b}?"),
    "smaller": ("which is smaller, {a} or {b}?", "which number is less, {a} or {b}?"),
    "more-than": ("is {a} bigger than {b}?", "is {a} more than {b}?"),
}
"""Phrasings of the questions about two numbers a, b in 0..9, by kind."""

FACT_TEMPLATES: dict[str, tuple[str, ...]] = {
    "colour": (
        "what colour is the {shape}?",
        "what is the colour of the {shape}?",
        "which colour does the {shape} have?",
    ),
    "size": (
        "what size is the {shape}?",
        "is the {shape} big or small?",
        "how big is the {shape}?",
    ),
    "count": (
        "how many {shapes} are there?",
        "how many {shapes} do you see?",
        "what is the number of {shapes}?",
    ),
}
"""Phrasings of the questions about one shape's colour, size and count."""

EXAMPLES = (
    "what is 3 plus 4?",
    "which is bigger, 2 or 9?",
    "is 5 more than 8?",
    "what colour is the star?",
    "how many cubes are there?",
)
"""Questions to show a user what the model can be asked."""


def _arithmetic_answer(kind: str, a: int, b: int) -> str | None:
    """The answer to question ``kind`` about numbers a and b, or None if it is not asked."""
    if kind == "plus":
        return str(a + b)
    if kind == "minus":
        return str(a - b) if a >= b else None
    if a == b:
        return None
    if kind == "bigger":
        return str(max(a, b))
    if kind == "smaller":
        return str(min(a, b))
    return "yes" if a > b else "no"  # more-than


@dataclass(frozen=True)
class QA:
    """One question with its answer, its kind ('plus', 'colour', ...) and its template number."""

    question: str
    answer: str
    kind: str
    template: int


@dataclass
class Corpus:
    """Training and held-out questions over one generated world (``world``: shape → facts)."""

    train: list[QA]
    test: list[QA]
    world: dict[str, dict[str, str]]
    seed: int

    def vocabulary(self) -> list[str]:
        """Every token of the questions and answers, sorted: the tokenizer's words."""
        return sorted({t for qa in self.train + self.test for t in tokenize(_text(qa))})

    def chance_accuracy(self) -> float:
        """Held-out accuracy of always answering the most common training answer of the kind."""
        common = {
            kind: Counter(qa.answer for qa in self.train if qa.kind == kind).most_common(1)[0][0]
            for kind in {qa.kind for qa in self.train}
        }
        return float(np.mean([common[qa.kind] == qa.answer for qa in self.test]))


def make_world(seed: int = 0) -> dict[str, dict[str, str]]:
    """Facts about the shapes, drawn from ``seed``: each shape's colour, size and count."""
    rng = np.random.default_rng(seed)
    return {
        shape: {
            "colour": COLOURS[int(rng.integers(len(COLOURS)))],
            "size": SIZES[int(rng.integers(len(SIZES)))],
            "count": str(int(rng.integers(1, MAX_COUNT + 1))),
        }
        for shape in SHAPES
    }


def make_corpus(seed: int = 0, test_fraction: float = 0.2) -> Corpus:
    """Every question of the toy domain, split into training and held-out questions.

    Numbers: for each template, ``test_fraction`` of its number pairs are held out (never asked
    in that phrasing during training). Facts: for every shape and attribute one of the three
    phrasings is held out (a different one from shape to shape), so each fact is learned from
    two phrasings and tested in the third.
    """
    if not 0 < test_fraction < 1:
        raise ValueError(f"make_corpus: test_fraction must be in (0, 1), got {test_fraction}")
    rng = np.random.default_rng(seed)
    train: list[QA] = []
    test: list[QA] = []
    numbers = range(MAX_NUMBER + 1)
    for kind, templates in ARITHMETIC_TEMPLATES.items():
        for t, template in enumerate(templates):
            pairs = [
                (a, b)
                for a in numbers
                for b in numbers
                if _arithmetic_answer(kind, a, b) is not None
            ]
            held = set(rng.permutation(len(pairs))[: round(test_fraction * len(pairs))].tolist())
            for i, (a, b) in enumerate(pairs):
                qa = QA(template.format(a=a, b=b), _arithmetic_answer(kind, a, b), kind, t)
                (test if i in held else train).append(qa)
    world = make_world(seed)
    for k, (kind, templates) in enumerate(FACT_TEMPLATES.items()):
        for s, shape in enumerate(SHAPES):
            shapes = PLURALS.get(shape, shape + "s")
            for t, template in enumerate(templates):
                qa = QA(template.format(shape=shape, shapes=shapes), world[shape][kind], kind, t)
                (test if t == (s + k) % len(templates) else train).append(qa)
    return Corpus(train, test, world, seed)


def _prompt(question: str) -> str:
    return f"Q: {question} A:"


def _text(qa: QA) -> str:
    return f"{_prompt(qa.question)} {qa.answer}"


# ----------------------------------------------------------------------------- the tokenizer

_TOKEN = re.compile(r"[^\W\d_]+|\d+|\S")  # a run of letters, a run of digits, or one symbol
_ATTACHED = frozenset(".,:;?!")  # written without a space before them


def tokenize(text: str) -> list[str]:
    """The tokens of ``text``: words, numbers and single punctuation marks."""
    return _TOKEN.findall(text)


def detokenize(tokens: Sequence[str]) -> str:
    """Tokens joined by spaces, except before punctuation such as '?' and ','."""
    return "".join(t if (i == 0 or t in _ATTACHED) else " " + t for i, t in enumerate(tokens))


def normalize(question: str) -> str:
    """A question written the corpus's way: lower case, tokens spaced as usual, ending in '?'."""
    text = detokenize(tokenize(question.lower()))
    return text if not text or text.endswith("?") else text + "?"


class WordTokenizer(Vocab):
    """One token per word, number or punctuation mark of ``words``; ids 0-3 are PAD, BOS, EOS,
    UNK. A token outside ``words`` becomes UNK, so any typed text encodes."""

    def __init__(self, words: Sequence[str]) -> None:
        super().__init__([UNK_TOKEN, *words])
        self.words = list(dict.fromkeys(words))
        self.unk = self.stoi[UNK_TOKEN]

    def encode(self, text: str, bos: bool = False, eos: bool = False) -> list[int]:
        """Token ids of ``text`` (UNK for unknown tokens), optionally wrapped in BOS … EOS."""
        ids = [self.stoi.get(t, self.unk) for t in tokenize(text)]
        return [BOS] * bos + ids + [EOS] * eos

    def decode(self, ids: Any, strip: bool = True) -> str:
        """The text of ``ids``; with ``strip`` it stops at EOS and drops PAD and BOS."""
        ids = np.asarray(ids.numpy() if isinstance(ids, Tensor) else ids).reshape(-1).tolist()
        if strip:
            ids = ids[: ids.index(EOS)] if EOS in ids else ids
            ids = [i for i in ids if i not in (PAD, BOS)]
        return detokenize([self.itos[i] for i in ids])

    def unknown(self, text: str) -> list[str]:
        """The tokens of ``text`` this tokenizer does not know (they encode as UNK)."""
        return [t for t in tokenize(text) if t not in self.stoi]


# ----------------------------------------------------------------------------- the model


class TinyGPT(nn.Module):
    """A decoder-only transformer: ids (B, T) → next-token logits (B, T, vocab_size).

    Token embedding + learned position embedding, ``num_layers`` pre-norm blocks
    (``nn.TransformerEncoderLayer`` under a causal mask: self-attention, then a GELU
    feed-forward network), a final LayerNorm and a linear head, tied to the token embedding by
    default (``tie_weights``): the same matrix reads tokens in and scores them out.
    """

    def __init__(
        self,
        vocab_size: int,
        d_model: int = 64,
        nhead: int = 4,
        num_layers: int = 2,
        dim_feedforward: int = 256,
        max_len: int = 32,
        dropout: float = 0.0,
        tie_weights: bool = True,
    ) -> None:
        super().__init__()
        self.max_len = max_len
        self.token_embedding = nn.Embedding(vocab_size, d_model)
        nn.init.normal_(self.token_embedding.weight, 0.0, 0.02)  # GPT-2's scale, not N(0, 1)
        self.position_embedding = nn.LearnedPositionalEncoding(max_len, d_model, dropout)
        self.blocks = nn.ModuleList(
            nn.TransformerEncoderLayer(
                d_model,
                nhead,
                dim_feedforward,
                dropout,
                activation="gelu",
                batch_first=True,
                norm_first=True,
            )
            for _ in range(num_layers)
        )  # each block drawn on its own (nn.TransformerEncoder would copy one block's weights)
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size, bias=False)
        if tie_weights:
            self.head.weight = self.token_embedding.weight

    def forward(self, ids: Any) -> Tensor:
        """Logits for the token after each position, each seeing only itself and earlier ones."""
        ids = ids if isinstance(ids, Tensor) else constant(np.asarray(ids, dtype=np.int64))
        if ids.ndim != 2 or not 1 <= ids.shape[1] <= self.max_len:
            raise ValueError(
                f"TinyGPT: expected ids (batch, length) with 1 <= length <= max_len="
                f"{self.max_len}, got shape {ids.shape}"
            )
        mask = generate_square_subsequent_mask(ids.shape[1])
        x = self.position_embedding(self.token_embedding(ids))
        for block in self.blocks:
            x = block(x, src_mask=mask, is_causal=True)
        return self.head(self.norm(x))

    def attention_weights(self, ids: Any) -> list[np.ndarray]:
        """Each block's attention weights for ``ids`` (B, T): arrays (B, T, T), averaged over
        heads; row t is how much position t attends to each position (0 after t)."""
        ids = constant(np.asarray(ids, dtype=np.int64))
        mask = generate_square_subsequent_mask(ids.shape[1])
        weights = []
        with no_grad():
            x = self.position_embedding(self.token_embedding(ids))
            for block in self.blocks:
                h = block.norm1(x)  # pre-norm: attention reads the normalized input
                weights.append(block.self_attn(h, h, h, attn_mask=mask)[1].numpy())
                x = block(x, src_mask=mask, is_causal=True)
        return weights


# ----------------------------------------------------------------------------- sampling


def sample_next(
    logits: Any,
    temperature: float = 1.0,
    top_k: int | None = None,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """One token id per row of ``logits`` (B, V): the most likely at temperature 0, else drawn.

    Sampling keeps the ``top_k`` most likely tokens (all if None), divides their logits by
    ``temperature`` (below 1 sharpens the distribution towards the greedy choice, above 1
    flattens it) and draws from their softmax with ``rng`` (default: the global generator).
    """
    logits = np.asarray(logits.numpy() if isinstance(logits, Tensor) else logits, np.float64)
    if logits.ndim != 2:
        raise ValueError(f"sample_next: logits must be (batch, vocab), got shape {logits.shape}")
    if not temperature >= 0:
        raise ValueError(f"sample_next: temperature must be >= 0, got {temperature}")
    if top_k is not None and top_k < 1:
        raise ValueError(f"sample_next: top_k must be >= 1 (or None for all), got {top_k}")
    if temperature == 0:
        return logits.argmax(axis=1)
    if top_k is not None and top_k < logits.shape[1]:
        keep = np.argpartition(logits, -top_k, axis=1)[:, -top_k:]
        kept = np.full_like(logits, -np.inf)
        np.put_along_axis(kept, keep, np.take_along_axis(logits, keep, axis=1), axis=1)
        logits = kept
    p = np.exp((logits - logits.max(axis=1, keepdims=True)) / temperature)
    cumulative = np.cumsum(p / p.sum(axis=1, keepdims=True), axis=1)
    u = (rng or generator()).random((len(p), 1))
    return np.minimum((cumulative < u).sum(axis=1), logits.shape[1] - 1)


def generate(
    model: TinyGPT,
    prompts: Sequence[Sequence[int]],
    max_new_tokens: int = 4,
    temperature: float = 0.0,
    top_k: int | None = None,
    rng: np.random.Generator | None = None,
) -> list[list[int]]:
    """Continue each prompt (token ids) until EOS or ``max_new_tokens``; return the new ids.

    Prompts of different lengths run as one right-padded batch: attention is causal, so each
    row reads its next-token logits at its own last position, which the padding cannot reach.
    """
    if not prompts or min(len(p) for p in prompts) == 0:
        raise ValueError("generate: give at least one prompt, each at least one token long")
    lengths = np.array([len(p) for p in prompts])
    if lengths.max() + max_new_tokens > model.max_len:
        raise ValueError(
            f"generate: a prompt of {lengths.max()} tokens plus {max_new_tokens} new ones "
            f"exceeds the model's max_len={model.max_len}"
        )
    ids = np.full((len(prompts), lengths.max() + max_new_tokens), PAD, dtype=np.int64)
    for row, p in zip(ids, prompts):
        row[: len(p)] = p
    rows = np.arange(len(prompts))
    live = np.ones(len(prompts), dtype=bool)
    with eval_mode(model):
        for _ in range(max_new_tokens):
            logits = model(constant(ids[:, : lengths.max()])).numpy()
            token = sample_next(logits[rows, lengths - 1], temperature, top_k, rng)
            ids[rows[live], lengths[live]] = token[live]
            lengths[live] += 1
            live &= token != EOS
            if not live.any():
                break
    return [ids[i, len(p) : lengths[i]].tolist() for i, p in enumerate(prompts)]


# ----------------------------------------------------------------------------- the chat bot


class ChatBot:
    """A :class:`TinyGPT` with its tokenizer: ask it questions, save it, load it."""

    def __init__(
        self, model: TinyGPT, tokenizer: WordTokenizer, meta: dict[str, Any] | None = None
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.meta = dict(meta or {})

    def ask_many(
        self,
        questions: Sequence[str],
        temperature: float = 0.0,
        top_k: int | None = None,
        rng: np.random.Generator | None = None,
    ) -> list[str]:
        """Answer each question (normalized first): greedy at temperature 0, else sampled."""
        prompts = [self.tokenizer.encode(_prompt(normalize(q)), bos=True) for q in questions]
        out = generate(self.model, prompts, temperature=temperature, top_k=top_k, rng=rng)
        return [self.tokenizer.decode(ids) for ids in out]

    def ask(
        self,
        question: str,
        temperature: float = 0.0,
        top_k: int | None = None,
        rng: np.random.Generator | None = None,
    ) -> str:
        """The answer to one question."""
        return self.ask_many([question], temperature, top_k, rng)[0]

    def save(self, path: str | Path) -> None:
        """Write the model, its words and ``meta`` to one safetensors file (with ``nl.save``)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        save({"model": self.model, "words": self.tokenizer.words, "meta": self.meta}, str(path))

    @classmethod
    def load(cls, path: str | Path) -> ChatBot:
        """A bot written by :meth:`save`."""
        obj = load(str(path))
        if not (isinstance(obj, dict) and isinstance(obj.get("model"), TinyGPT)):
            raise ValueError(f"{path} does not hold a chat model written by ChatBot.save")
        return cls(obj["model"].eval(), WordTokenizer(obj["words"]), obj.get("meta"))


def _correct(bot: ChatBot, qas: Sequence[QA], batch_size: int = 256) -> np.ndarray:
    """Whether the bot's greedy answer to each question is exactly right."""
    right: list[bool] = []
    for start in range(0, len(qas), batch_size):
        chunk = qas[start : start + batch_size]
        answers = bot.ask_many([qa.question for qa in chunk])
        right += [a == qa.answer for a, qa in zip(answers, chunk)]
    return np.array(right, dtype=bool)


def accuracy(bot: ChatBot, qas: Sequence[QA]) -> float:
    """Exact-match accuracy of the bot's greedy answers to ``qas``."""
    return float(_correct(bot, qas).mean())


def accuracy_by_kind(bot: ChatBot, qas: Sequence[QA]) -> dict[str, float]:
    """Exact-match accuracy per question kind ('plus', 'colour', ...), in corpus order."""
    right = _correct(bot, qas)
    kinds = [qa.kind for qa in qas]
    return {k: float(right[[kind == k for kind in kinds]].mean()) for k in dict.fromkeys(kinds)}


# ----------------------------------------------------------------------------- training


def _batch(
    tokenizer: WordTokenizer, qas: Sequence[QA], answer_only: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Inputs (B, T) — BOS, question, answer — and targets (B, T): the next token at each
    position, IGNORE at padding and (with ``answer_only``) wherever the next token is not
    part of the answer or its EOS."""
    rows = [
        (tokenizer.encode(_prompt(qa.question), bos=True), tokenizer.encode(qa.answer, eos=True))
        for qa in qas
    ]
    width = max(len(p) + len(a) for p, a in rows) - 1
    x = np.full((len(rows), width), PAD, dtype=np.int64)
    y = np.full((len(rows), width), IGNORE, dtype=np.int64)
    for i, (p, a) in enumerate(rows):
        seq = p + a
        first = len(p) - 1 if answer_only else 0
        x[i, : len(seq) - 1] = seq[:-1]
        y[i, first : len(seq) - 1] = seq[first + 1 :]
    return x, y


@dataclass
class TrainLog:
    """What :func:`train_chat` recorded at each evaluation: step, smoothed loss, accuracies."""

    steps: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)
    seconds: float = 0.0
    """CPU seconds the training took."""


def _lm_loss(logits: Tensor, targets: Tensor) -> Tensor:
    """Cross-entropy of every next-token prediction, IGNORE positions left out."""
    return F.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=IGNORE
    )


def _optimizer(
    model: Module, steps: int, lr: float, weight_decay: float
) -> tuple[optim.Optimizer, optim.lr_scheduler.LambdaLR]:
    """AdamW (weight decay on the matrices only) and its schedule: a linear warm-up over the
    first 5% of ``steps``, then a cosine decay to 0."""
    matrices = [p for p in model.parameters() if p.ndim >= 2]
    others = [p for p in model.parameters() if p.ndim < 2]
    optimizer = optim.AdamW(
        [{"params": matrices, "weight_decay": weight_decay}, {"params": others, "weight_decay": 0}],
        lr=lr,
    )
    warmup = max(1, steps // 20)
    schedule = optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * s / steps))
    )
    return optimizer, schedule


def _question_batches(
    qas: Sequence[QA], tokenizer: WordTokenizer, batch_size: int, answer_only: bool,
    rng: np.random.Generator,
) -> Iterator[tuple[Tensor, Tensor]]:  # fmt: skip
    """Endless mini-batches of ``batch_size`` questions, each pass over ``qas`` in a new order."""
    order, cursor = rng.permutation(len(qas)), 0
    while True:
        if cursor + batch_size > len(order):
            order, cursor = rng.permutation(len(qas)), 0
        chosen = [qas[i] for i in order[cursor : cursor + batch_size]]
        cursor += batch_size
        x, y = _batch(tokenizer, chosen, answer_only)
        yield constant(x), constant(y)


class _ChatProgress(Callback):
    """train_chat's record: the loss smoothed over steps and, every ``eval_every`` steps and
    at the end, the exact-match accuracies in ``log`` and a line for ``report``."""

    def __init__(
        self, bot: ChatBot, corpus: Corpus, steps: int, eval_every: int, log: TrainLog,
        report: Callable[[str], Any] | None,
    ) -> None:  # fmt: skip
        self.bot, self.corpus, self.steps, self.eval_every = bot, corpus, steps, eval_every
        self.log, self.report_to = log, report
        self.smoothed: float | None = None
        self.start = time.process_time()

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        value, step = self.trainer.step_logs["loss"], batch + 1
        self.smoothed = value if self.smoothed is None else 0.9 * self.smoothed + 0.1 * value
        if step != self.steps and not (self.eval_every and step % self.eval_every == 0):
            return
        log = self.log
        log.steps.append(step)
        log.loss.append(self.smoothed)
        log.train_accuracy.append(accuracy(self.bot, self.corpus.train))
        log.test_accuracy.append(accuracy(self.bot, self.corpus.test))
        if self.report_to is not None:
            self.report_to(
                f"step {step:>5}/{self.steps}  loss {self.smoothed:.3f}  "
                f"train {log.train_accuracy[-1]:.0%}  held-out {log.test_accuracy[-1]:.0%}  "
                f"({time.process_time() - self.start:.0f} s)"
            )


def train_chat(
    corpus: Corpus,
    steps: int = 1500,
    batch_size: int = 64,
    lr: float = 1e-3,
    weight_decay: float = 1.0,
    answer_only: bool = True,
    seed: int = 0,
    eval_every: int = 0,
    report: Callable[[str], Any] | None = None,
    verbose: int = 0,
    **model_kwargs: Any,
) -> tuple[ChatBot, TrainLog]:
    """Train a :class:`TinyGPT` on ``corpus.train``; return the bot and its training log.

    Mini-batches of ``batch_size`` questions, AdamW (``weight_decay`` on the matrices only),
    the learning rate warmed up linearly over the first 5% of ``steps`` then decayed to 0 on a
    cosine, gradient norm clipped to 1. The loss is the cross-entropy of the answer's tokens
    and EOS given the question (of every token with ``answer_only=False``). Every
    ``eval_every`` steps, and at the end, exact-match accuracy on the training and held-out
    questions is logged and ``report`` (e.g. ``print``) gets a progress line. Training runs on
    :class:`~neuralab.train.Trainer` (``verbose`` as in ``fit``).
    ``model_kwargs`` go to :class:`TinyGPT` (d_model, nhead, num_layers, ...).
    """
    if steps < 1 or batch_size < 1:
        raise ValueError(
            f"train_chat: steps and batch_size must be >= 1, got {steps}, {batch_size}"
        )
    rng = np.random.default_rng(seed)
    tokenizer = WordTokenizer(corpus.vocabulary())
    with use_generator(np.random.default_rng(seed)):
        model = TinyGPT(len(tokenizer), **model_kwargs)
    bot = ChatBot(model, tokenizer, {"corpus_seed": corpus.seed, "steps": steps})
    optimizer, schedule = _optimizer(model, steps, lr, weight_decay)
    log = TrainLog()
    start = time.process_time()
    callbacks = [
        LearningRateScheduler(schedule, interval="batch"),
        _ChatProgress(bot, corpus, steps, eval_every, log, report),
    ]
    trainer = Trainer(
        model, _lm_loss, optimizer, clip_grad_norm=1.0, metrics=(), verbose=verbose,
        callbacks=callbacks, name="train_chat",
    )  # fmt: skip
    batches = _question_batches(corpus.train, tokenizer, batch_size, answer_only, rng)
    trainer.fit(batches, epochs=1, steps_per_epoch=steps)
    log.seconds = time.process_time() - start
    model.eval()
    bot.meta["test_accuracy"] = log.test_accuracy[-1]
    return bot, log
