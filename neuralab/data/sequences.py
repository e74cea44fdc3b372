"""Generated sequence tasks: digit copy/reverse/sort, human dates → ISO dates, character text.

Everything is made here from a seed (nothing is downloaded). A :class:`Vocab` maps symbols to
token ids, with the special tokens PAD = 0, BOS = 1 and EOS = 2 first. Sequence-to-sequence tasks
come as string pairs and are turned into padded int64 arrays by :func:`encode_pairs`:

- ``src`` (N, S): the source symbols then EOS, right-padded with PAD;
- ``tgt`` (N, T): BOS, the target symbols, EOS, right-padded with PAD. A decoder is fed
  ``tgt[:, :-1]`` and trained to predict ``tgt[:, 1:]`` (teacher forcing), ignoring PAD
  (``cross_entropy(..., ignore_index=PAD)``).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence

import numpy as np

from neuralab.data.dataset import Dataset, Fetcher
from neuralab.tensor import Tensor, constant

PAD, BOS, EOS = 0, 1, 2
SPECIALS = ("<pad>", "<bos>", "<eos>")


class Vocab:
    """A symbol ↔ token-id table: ids 0, 1, 2 are PAD, BOS, EOS (unless ``specials=False``), then
    the distinct symbols in the order given."""

    def __init__(self, symbols: Iterable[str], specials: bool = True) -> None:
        self.specials = SPECIALS if specials else ()
        self.itos = [*self.specials, *dict.fromkeys(symbols)]  # dict.fromkeys: unique, in order
        self.stoi = {s: i for i, s in enumerate(self.itos)}
        if len(self.stoi) != len(self.itos):
            raise ValueError(f"Vocab: a symbol repeats one of the special tokens {SPECIALS}")

    def __len__(self) -> int:
        return len(self.itos)

    def __repr__(self) -> str:
        return f"Vocab({len(self)} tokens: {''.join(self.itos[len(self.specials) :])!r})"

    def encode(self, text: Iterable[str], bos: bool = False, eos: bool = False) -> list[int]:
        """Token ids of the symbols of ``text``, optionally wrapped in BOS … EOS."""
        try:
            ids = [self.stoi[s] for s in text]
        except KeyError as err:
            raise KeyError(f"Vocab.encode: symbol {err.args[0]!r} is not in {self!r}") from None
        return [BOS] * bos + ids + [EOS] * eos

    def decode(self, ids: Iterable[int] | np.ndarray | Tensor, strip: bool = True) -> str:
        """The string of ``ids``; with ``strip`` it stops at EOS and drops PAD/BOS."""
        ids = np.asarray(ids._data if isinstance(ids, Tensor) else ids).reshape(-1).tolist()
        out = []
        for i in ids:
            if strip and self.specials and i < len(self.specials):
                if i == EOS:
                    break
                continue
            out.append(self.itos[i])
        return "".join(out)


DIGITS = Vocab("0123456789")


def pad(sequences: Sequence[Sequence[int]], length: int | None = None) -> np.ndarray:
    """Right-pad lists of token ids with PAD into an int64 array (N, length or the longest)."""
    longest = max((len(s) for s in sequences), default=0)
    length = longest if length is None else length
    if longest > length:
        raise ValueError(f"pad: a sequence of length {longest} does not fit in length {length}")
    out = np.full((len(sequences), length), PAD, dtype=np.int64)
    for row, s in zip(out, sequences):
        row[: len(s)] = s
    return out


def encode_pairs(
    pairs: Sequence[tuple[str, str]], src_vocab: Vocab, tgt_vocab: Vocab
) -> tuple[np.ndarray, np.ndarray]:
    """Encode (source, target) string pairs as padded int64 arrays ``src`` and ``tgt``.

    ``src`` (N, S) holds source + EOS, ``tgt`` (N, T) holds BOS + target + EOS (see the module
    docstring for how a decoder uses them).
    """
    src = pad([src_vocab.encode(s, eos=True) for s, _ in pairs])
    tgt = pad([tgt_vocab.encode(t, bos=True, eos=True) for _, t in pairs])
    return src, tgt


_DIGIT_TASKS = {
    "copy": lambda s: s,
    "reverse": lambda s: s[::-1],
    "sort": lambda s: "".join(sorted(s)),
}


def digit_task(
    task: str, n: int = 1000, length: int | tuple[int, int] = 8, seed: int | None = 0
) -> list[tuple[str, str]]:
    """``n`` random digit strings paired with their copy, reversal or sorted digits.

    ``task`` is ``'copy'``, ``'reverse'`` or ``'sort'``; ``length`` is fixed or a (min, max)
    range (inclusive). Encode with ``encode_pairs(pairs, DIGITS, DIGITS)``.
    """
    if task not in _DIGIT_TASKS:
        raise ValueError(f"digit_task: task must be one of {sorted(_DIGIT_TASKS)}, got {task!r}")
    lo, hi = (length, length) if isinstance(length, int) else length
    if not 1 <= lo <= hi:
        raise ValueError(f"digit_task: length must be >= 1 (or a (min, max) range), got {length}")
    rng = np.random.default_rng(seed)
    sizes = rng.integers(lo, hi + 1, n)
    sources = ["".join(map(str, rng.integers(0, 10, k))) for k in sizes]
    return [(s, _DIGIT_TASKS[task](s)) for s in sources]


# ----------------------------------------------------------------------------- dates

_MONTHS = (
    "January February March April May June July August September October November December".split()
)
_WEEKDAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()  # date.weekday()


def _date_formats(d: datetime.date) -> list[str]:
    """The same date written in ten human ways (English names, locale-independent)."""
    month, weekday = _MONTHS[d.month - 1], _WEEKDAYS[d.weekday()]
    yy = f"{d.year % 100:02d}"
    return [
        f"{d.day} {month} {d.year}",  # 3 March 2021
        f"{month[:3]} {d.day}, {d.year}",  # Mar 3, 2021
        f"{d.month:02d}/{d.day:02d}/{yy}",  # 03/03/21 (US order)
        f"{weekday}, {month} {d.day}, {d.year}",  # Wednesday, March 3, 2021
        f"{d.day:02d}.{d.month:02d}.{d.year}",  # 03.03.2021 (European order)
        f"{d.day} {month[:3]} {yy}",  # 3 Mar 21
        f"{month.upper()} {d.day} {d.year}",  # MARCH 3 2021
        f"{weekday[:3]} {d.day} {month[:3]} {d.year}",  # Wed 3 Mar 2021
        f"{d.month}/{d.day}/{d.year}",  # 3/3/2021 (US order)
        f"{month.lower()} {d.day:02d} {d.year}",  # march 03 2021
    ]


DATE_FORMATS = (
    "%d %B %Y",
    "%b %d, %Y",
    "%m/%d/%y",
    "%A, %B %d, %Y",
    "%d.%m.%Y",
    "%d %b %y",
    "%B %d %Y",
    "%a %d %b %Y",
    "%m/%d/%Y",
    "%B %d %Y",
)
"""``strptime`` patterns of the formats, in order (two-digit years follow POSIX: 70–99 → 19xx)."""

DATE_FIRST, DATE_LAST = datetime.date(1970, 1, 1), datetime.date(2068, 12, 31)
DATE_SOURCE_VOCAB = Vocab(
    sorted(set("0123456789 ,./").union(*(w + w.lower() + w.upper() for w in _MONTHS + _WEEKDAYS)))
)
DATE_TARGET_VOCAB = Vocab("0123456789-")


def dates(n: int = 1000, seed: int | None = 0) -> list[tuple[str, str]]:
    """``n`` pairs (human-written date, ISO date), e.g. ("Wednesday, March 3, 2021", "2021-03-03").

    Dates are uniform in 1970-01-01 … 2068-12-31, each written in one of ten formats chosen at
    random (see ``DATE_FORMATS``; "03/03/21" is month first, "03.03.2021" day first). Encode with
    ``encode_pairs(pairs, DATE_SOURCE_VOCAB, DATE_TARGET_VOCAB)``.
    """
    rng = np.random.default_rng(seed)
    span = (DATE_LAST - DATE_FIRST).days + 1
    days = rng.integers(0, span, n)
    styles = rng.integers(0, len(DATE_FORMATS), n)
    out = []
    for offset, style in zip(days, styles):
        d = DATE_FIRST + datetime.timedelta(days=int(offset))
        out.append((_date_formats(d)[style], d.isoformat()))
    return out


# ----------------------------------------------------------------------------- character text


class CharText(Dataset):
    """Next-character prediction windows over a string, for character-level language models.

    Sample i is ``(x, y)`` with x = ids of ``text[i : i + seq_len]`` and y = ids of
    ``text[i + 1 : i + seq_len + 1]`` (the same window shifted by one), both int64 (seq_len,).
    Windows start every ``stride`` characters. ``vocab`` holds the text's characters, sorted,
    with no special tokens (pass your own ``vocab`` to share one between texts).
    """

    def __init__(
        self, text: str, seq_len: int, stride: int = 1, vocab: Vocab | None = None
    ) -> None:
        if seq_len < 1 or stride < 1:
            raise ValueError(f"CharText: seq_len and stride must be >= 1, got {seq_len}, {stride}")
        if len(text) < seq_len + 1:
            raise ValueError(
                f"CharText: the text has {len(text)} characters; seq_len={seq_len} needs at "
                f"least {seq_len + 1}"
            )
        self.vocab = vocab or Vocab(sorted(set(text)), specials=False)
        self.ids = np.asarray(self.vocab.encode(text), dtype=np.int64)
        self.seq_len, self.stride = seq_len, stride
        self.starts = np.arange(0, len(text) - seq_len, stride)
        self._offsets = np.arange(seq_len)

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        x, y = self.batch_fetcher()(np.asarray(index))
        return constant(x), constant(y)

    def batch_fetcher(self) -> Fetcher:
        """Gather all windows of a batch with one fancy index."""

        def fetch(idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            window = self.starts[idx][..., None] + self._offsets
            return self.ids[window], self.ids[window + 1]

        return fetch


TINY_TEXT = """\
The Lamplighter and the Clockmaker

In a town at the bend of a slow river there lived a lamplighter and a clockmaker. Every evening
the lamplighter walked the length of the long street with his ladder and his little flame, and
every evening the clockmaker stood at his window and counted the lamps as they woke, one, two,
three, all the way to forty.

"You are late tonight," said the clockmaker, when the lamplighter came to the last lamp.
"I am never late," said the lamplighter. "The dark is early."
The clockmaker laughed, for he knew that the dark did not keep time, and neither did the river,
and neither did the wind that came up from the water and rattled the shutters.

Each morning the clockmaker opened his shop and wound the clocks, the tall ones and the small
ones, the loud ones and the quiet ones, until the whole room ticked like rain on a roof. He did
not sell many clocks. People in the town said they had enough time already. But he liked to
hear them all together, each a little different, each sure that it alone was right.

One winter the river froze, and the wind blew so hard that the lamps would not stay lit. The
lamplighter climbed and lit, climbed and lit, and behind him the flames went out again, one by
one, like birds leaving a branch. At the end of the street he sat down on the cold step of the
clock shop and put his head in his hands.

The clockmaker opened the door. "Come in," he said. "Sit by the stove. Tell me what is wrong."
"The wind is stronger than my flame," said the lamplighter. "What use is a light that will not
stay?"
The clockmaker thought for a while, as the clocks ticked around them. Then he took a small
glass case from a shelf, the kind he used to keep the dust from a watch, and he turned it over
in his hands. "A flame needs air," he said, "but not all the air in the world."

All that night they worked together. The clockmaker cut glass and bent thin brass, and the
lamplighter held the pieces and told him which way the wind liked to come. By morning they had
forty small glass houses, each with a door and a little chimney, one for every lamp.

The next evening the lamplighter walked the street again. He lit the first lamp and closed its
glass door, and the flame stood straight and still. He lit the second and the third, and the
wind beat against the glass and could not get in. When he reached the fortieth lamp, he looked
back, and the whole street was bright from end to end, like a string of beads on a dark cloth.

At his window the clockmaker counted, one, two, three, all the way to forty, and for once every
clock in the shop agreed with him. It was exactly the right time.
"""
"""A short original story (written for neuralab, public domain) for character-level models."""
