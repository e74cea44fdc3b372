"""Sequence tasks: vocab round trips, digit tasks, dates that parse back, character windows."""

import datetime

import numpy as np
import pytest

from neuralab.data import (
    DATE_SOURCE_VOCAB,
    DATE_TARGET_VOCAB,
    DIGITS,
    TINY_TEXT,
    CharText,
    DataLoader,
    Vocab,
    dates,
    digit_task,
    encode_pairs,
    pad,
)
from neuralab.data.sequences import BOS, DATE_FORMATS, EOS, PAD


def test_vocab_round_trip_and_specials():
    v = Vocab("abca")
    assert len(v) == 6 and v.itos[:3] == ["<pad>", "<bos>", "<eos>"]
    ids = v.encode("cab", bos=True, eos=True)
    assert ids == [BOS, 5, 3, 4, EOS]
    assert v.decode(ids + [PAD, PAD]) == "cab"
    assert v.decode(ids, strip=False) == "<bos>cab<eos>"
    assert v.decode(np.array([3, EOS, 4])) == "a"  # stops at EOS
    with pytest.raises(KeyError, match="'z' is not in"):
        v.encode("z")
    plain = Vocab("xy", specials=False)
    assert plain.encode("yx") == [1, 0] and plain.decode([1, 0]) == "yx"
    assert pad([[5], [6, 7]]).tolist() == [[5, PAD], [6, 7]]


@pytest.mark.parametrize(
    "task, rule",
    [("copy", lambda s: s), ("reverse", lambda s: s[::-1]), ("sort", lambda s: "".join(sorted(s)))],
)
def test_digit_tasks(task, rule):
    pairs = digit_task(task, n=50, length=(3, 9), seed=1)
    assert pairs == digit_task(task, n=50, length=(3, 9), seed=1)
    assert {len(s) for s, _ in pairs} <= set(range(3, 10)) and len({len(s) for s, _ in pairs}) > 1
    assert all(t == rule(s) for s, t in pairs)
    src, tgt = encode_pairs(pairs, DIGITS, DIGITS)
    assert src.dtype == tgt.dtype == np.int64
    assert src.shape == (50, 10) and tgt.shape == (50, 11)
    assert (tgt[:, 0] == BOS).all()
    for (s, t), row_s, row_t in zip(pairs, src, tgt):
        assert DIGITS.decode(row_s) == s and DIGITS.decode(row_t) == t
        assert row_s[len(s)] == EOS and (row_s[len(s) + 1 :] == PAD).all()
    fixed, _ = encode_pairs(digit_task(task, n=5, length=4), DIGITS, DIGITS)
    assert fixed.shape == (5, 5)


def test_dates_parse_back_in_their_own_format():
    pairs = dates(n=300, seed=2)
    assert pairs == dates(n=300, seed=2) and pairs != dates(n=300, seed=3)
    styles = set()
    for human, iso in pairs:
        expected = datetime.date.fromisoformat(iso)
        assert datetime.date(1970, 1, 1) <= expected <= datetime.date(2068, 12, 31)
        matches = []
        for k, fmt in enumerate(DATE_FORMATS):
            try:
                parsed = datetime.datetime.strptime(human, fmt).date()
            except ValueError:
                continue
            matches.append(k)
            assert parsed == expected, (human, fmt)
        assert matches, human
        styles.update(matches)
    assert len(styles) == len(DATE_FORMATS)
    src, tgt = encode_pairs(pairs, DATE_SOURCE_VOCAB, DATE_TARGET_VOCAB)
    assert tgt.shape == (300, 12)  # BOS + 10 characters + EOS
    assert DATE_SOURCE_VOCAB.decode(src[0]) == pairs[0][0]
    assert DATE_TARGET_VOCAB.decode(tgt[0]) == pairs[0][1]


def test_example_dates():
    # "Wednesday, March 3, 2021" is format 3; check a few hand-written forms parse to one date
    for human, fmt in [
        ("3 March 2021", "%d %B %Y"),
        ("Mar 3, 2021", "%b %d, %Y"),
        ("03/03/21", "%m/%d/%y"),
        ("Wednesday, March 3, 2021", "%A, %B %d, %Y"),
    ]:
        assert fmt in DATE_FORMATS
        assert datetime.datetime.strptime(human, fmt).date() == datetime.date(2021, 3, 3)
        DATE_SOURCE_VOCAB.encode(human)  # every character is in the vocabulary


def test_char_text_windows_and_loader():
    text = "hello world"
    ds = CharText(text, seq_len=4)
    assert len(ds) == len(text) - 4
    x, y = ds[2]
    assert x.dtype == y.dtype and str(x.dtype) == "int64" and x.shape == (4,)
    assert ds.vocab.decode(x.numpy()) == "llo " and ds.vocab.decode(y.numpy()) == "lo w"
    assert len(CharText(text, seq_len=4, stride=3)) == 3
    xb, yb = next(iter(DataLoader(ds, batch_size=len(ds))))
    assert xb.shape == (7, 4) and (xb.numpy()[:, 1:] == yb.numpy()[:, :-1]).all()
    with pytest.raises(ValueError, match="needs at least 12"):
        CharText(text, seq_len=11)


def test_tiny_text_is_usable():
    ds = CharText(TINY_TEXT, seq_len=64)
    assert len(TINY_TEXT) > 2000 and 30 < len(ds.vocab) < 80
    assert ds.vocab.decode(ds.ids[:3]) == TINY_TEXT[:3]
