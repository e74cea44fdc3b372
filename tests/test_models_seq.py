"""The zoo's sequence models: recurrent classifier and char LM, seq2seq (GRU/LSTM, attention or
not) and the Transformer encoder–decoder — each trained by its example's recipe to the quality
its docs page states, plus decoding (greedy, beam, sampling), padding and save/load checks.

Each model is trained once, inside the one test that checks everything about the trained model
(pytest-xdist may run tests of one file in different processes, so a shared fixture could train
twice). CPU budget for this file: 150 s on one core; it uses about 45 s.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import threadpoolctl

import neuralab as nl
from examples.train_zoo_dates import MAX_LEN, date_splits, train_on_dates
from examples.train_zoo_rnn import train_char_lm, train_sorted_digits
from neuralab import models
from neuralab.data.sequences import (
    BOS,
    DATE_SOURCE_VOCAB,
    DATE_TARGET_VOCAB,
    EOS,
    PAD,
    encode_pairs,
)
from neuralab.models.rnn import CharLM, SequenceClassifier, sample_next, sorted_digits_task
from neuralab.models.seq2seq import EncoderDecoder, Seq2Seq, exact_match
from neuralab.models.transformer_seq2seq import TransformerSeq2Seq

DOCS = Path(__file__).resolve().parents[1] / "docs" / "models"
SEQ_MODELS = {
    "sequence_classifier": ("rnn.md", SequenceClassifier),
    "char_lm": ("rnn.md", CharLM),
    "seq2seq_gru_attention": ("seq2seq.md", Seq2Seq),
    "seq2seq_lstm_attention": ("seq2seq.md", Seq2Seq),
    "seq2seq_gru": ("seq2seq.md", Seq2Seq),
    "seq2seq_lstm": ("seq2seq.md", Seq2Seq),
    "transformer_seq2seq": ("transformer.md", TransformerSeq2Seq),
}


@pytest.fixture(autouse=True, scope="module")
def one_blas_thread():
    """Small GEMMs on several contended BLAS threads burn CPU spinning: run on one. (Set here,
    after NumPy is loaded: a limit set before OpenBLAS is loaded has no effect.)"""
    with threadpoolctl.threadpool_limits(1):
        yield


def held_out_dates(n: int) -> tuple[np.ndarray, np.ndarray]:
    """The first ``n`` held-out date pairs of the recipes' split, encoded (src, tgt)."""
    _, held_out = date_splits(4000)
    return encode_pairs(held_out[:n], DATE_SOURCE_VOCAB, DATE_TARGET_VOCAB)


def with_bos(ids: np.ndarray) -> np.ndarray:
    """Decoder outputs (B, L) as targets: BOS in front."""
    return np.concatenate([np.full((len(ids), 1), BOS), ids], axis=1)


def check_beam_search(model: EncoderDecoder, src: np.ndarray) -> None:
    """Beam width 1 is greedy; beam scores are the model's log-probs and never below greedy's."""
    greedy = model.greedy_decode(src, max_len=MAX_LEN)
    np.testing.assert_array_equal(model.beam_search(src, beam_width=1, max_len=MAX_LEN)[0], greedy)
    beam, scores = model.beam_search(src, beam_width=4, max_len=MAX_LEN)
    np.testing.assert_allclose(
        model.sequence_log_prob(src, with_bos(beam)), scores, rtol=1e-4, atol=1e-4
    )
    assert np.all(scores >= model.sequence_log_prob(src, with_bos(greedy)) - 1e-4)
    assert np.all((beam == EOS).sum(axis=1) == 1)  # every output finished within MAX_LEN


def check_round_trip(model: EncoderDecoder, path: Path) -> None:
    """nl.save / nl.load rebuild the model by name: identical greedy and beam outputs."""
    nl.save(model, path)
    loaded = nl.load(path)
    assert type(loaded) is type(model)
    src, _ = held_out_dates(50)
    for decode in ("greedy_decode", "beam_search"):
        np.testing.assert_array_equal(
            np.asarray(getattr(loaded, decode)(src, max_len=MAX_LEN)[0]),
            np.asarray(getattr(model, decode)(src, max_len=MAX_LEN)[0]),
        )


# ----------------------------------------------------------------------------- registry, docs


@pytest.mark.parametrize("name", sorted(SEQ_MODELS))
def test_builders_are_registered_and_docs_quote_their_parameter_counts(name):
    page, cls = SEQ_MODELS[name]
    model = models.get_model(name)
    assert type(model) is cls
    assert f"{model.num_parameters():,}" in (DOCS / page).read_text()


# ----------------------------------------------------------------------------- classifier


def test_sorted_digits_task_labels_are_the_truth():
    ids, labels = sorted_digits_task(500, seed=3)
    assert ids.shape == (500, 10) and ids.dtype == np.int64 and labels.dtype == np.int64
    for row, label in zip(ids, labels):
        digits = row[row != PAD]
        assert 4 <= len(digits) <= 10
        assert label == int(np.all(np.diff(digits) >= 0))
    assert 0.5 <= labels.mean() <= 0.65  # half sorted, plus the rare sorted random string


def test_sequence_classifier_reaches_its_accuracy():
    model, accuracy = train_sorted_digits()
    assert accuracy >= 0.97  # docs/models/rnn.md: 99.9 %


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_sequence_classifier_ignores_trailing_padding(cell):
    nl.manual_seed(1)
    model = SequenceClassifier(cell=cell, num_layers=2)
    ids, _ = sorted_digits_task(8, seed=2)
    padded = np.concatenate([ids, np.full((8, 5), PAD)], axis=1)
    with nl.no_grad():
        np.testing.assert_allclose(model(padded).numpy(), model(ids).numpy(), rtol=1e-5, atol=1e-6)


# ----------------------------------------------------------------------------- char LM


def test_char_lm_learns_tiny_text_and_samples(tmp_path):
    model, losses = train_char_lm()
    # docs/models/rnn.md: train 0.64, held-out 1.83, unigram entropy 2.97 nats per character
    assert losses["train"] < 0.5 * losses["unigram"]
    assert losses["held_out"] < losses["unigram"] - 0.7

    # temperature 0 and top_k=1 are greedy: the argmax of the model's own logits, whatever the seed
    prompt = np.array([5, 6, 7])
    greedy = model.sample(prompt, 40, temperature=0.0, generator=1)
    assert greedy.shape == (40,) and greedy.dtype == np.int64
    np.testing.assert_array_equal(model.sample(prompt, 40, temperature=0.0, generator=2), greedy)
    np.testing.assert_array_equal(model.sample(prompt, 40, top_k=1, generator=3), greedy)
    with nl.no_grad():
        logits = model(np.concatenate([prompt, greedy])[None]).numpy()[0, len(prompt) - 1 : -1]
    np.testing.assert_array_equal(logits.argmax(axis=1), greedy)

    # top-k: every draw is among the k likeliest next characters; the same seed, the same text
    k = 3
    drawn = model.sample(prompt, 60, temperature=1.5, top_k=k, generator=7)
    np.testing.assert_array_equal(model.sample(prompt, 60, 1.5, k, generator=7), drawn)
    with nl.no_grad():
        logits = model(np.concatenate([prompt, drawn])[None]).numpy()[0, len(prompt) - 1 : -1]
    rank = (logits > logits[np.arange(len(drawn)), drawn][:, None]).sum(axis=1)
    assert rank.max() < k
    assert rank.max() > 0  # a hot temperature does not always pick the likeliest
    assert model.training  # sampling restored the training mode

    nl.save(model, tmp_path / "lm.safetensors")
    loaded = nl.load(tmp_path / "lm.safetensors")
    np.testing.assert_array_equal(
        loaded.sample(prompt, 30, 0.8, 5, 4), model.sample(prompt, 30, 0.8, 5, 4)
    )


def test_sample_next_edge_cases():
    logits = np.array([0.0, 3.0, 1.0, 2.0])
    rng = np.random.default_rng(0)
    assert sample_next(logits, temperature=0.0) == 1
    assert {sample_next(logits, 1.0, top_k=2, rng=rng) for _ in range(200)} == {1, 3}
    with pytest.raises(ValueError, match="temperature"):
        sample_next(logits, temperature=-1)
    with pytest.raises(ValueError, match="top_k"):
        sample_next(logits, top_k=0)
    with pytest.raises(ValueError, match="prompt"):
        CharLM(vocab_size=5).sample([], 3)


# ----------------------------------------------------------------------------- seq2seq


@pytest.mark.quality
def test_seq2seq_gru_attention_reaches_95_percent_and_decodes_consistently(tmp_path):
    model, score = train_on_dates("seq2seq_gru_attention")
    assert score["greedy"] >= 0.95 and score["beam"] >= 0.95  # docs/models/seq2seq.md: 99.6-100 %
    check_beam_search(model, held_out_dates(200)[0])
    check_round_trip(model, tmp_path / "seq2seq.safetensors")


@pytest.mark.quality
def test_seq2seq_lstm_attention_reaches_95_percent():
    _, score = train_on_dates("seq2seq_lstm_attention")
    assert score["greedy"] >= 0.95 and score["beam"] >= 0.95  # docs/models/seq2seq.md: 99.9-100 %


@pytest.mark.parametrize(
    ("cls", "kwargs"),
    [
        (Seq2Seq, dict(cell="gru", attention=True)),
        (Seq2Seq, dict(cell="lstm", attention=False, num_layers=2)),
        (Seq2Seq, dict(cell="gru", attention=True, bidirectional=False)),
        (TransformerSeq2Seq, dict(positional="learned")),
    ],
    ids=["gru-attention", "lstm-2-layers", "gru-unidirectional", "transformer-learned"],
)
def test_untrained_models_ignore_source_padding_and_decode(cls, kwargs, tmp_path):
    nl.manual_seed(0)
    model = cls(**kwargs)
    src, tgt = held_out_dates(16)
    padded = np.concatenate([src, np.full((16, 7), PAD)], axis=1)
    with nl.no_grad():
        logits = model(src, tgt[:, :-1])
        assert logits.shape == (16, tgt.shape[1] - 1, len(DATE_TARGET_VOCAB))
        np.testing.assert_allclose(
            model(padded, tgt[:, :-1]).numpy(), logits.numpy(), rtol=1e-4, atol=1e-5
        )
    # an untrained model rarely emits EOS: beam 1 = greedy also for outputs cut at max_len
    greedy = model.greedy_decode(src, max_len=6)
    assert greedy.shape[0] == 16 and greedy.shape[1] <= 6
    np.testing.assert_array_equal(model.beam_search(src, beam_width=1, max_len=6)[0], greedy)
    nl.save(model, tmp_path / "m.safetensors")
    with nl.no_grad():
        np.testing.assert_array_equal(
            nl.load(tmp_path / "m.safetensors")(src, tgt[:, :-1]).numpy(), logits.numpy()
        )


def test_exact_match_compares_up_to_eos():
    tgt = np.array([[BOS, 5, 6, EOS, PAD], [BOS, 5, 6, EOS, PAD], [BOS, 7, EOS, PAD, PAD]])
    predicted = np.array([[5, 6, EOS, PAD], [5, 6, 7, EOS], [7, EOS, 9, 9]])
    assert exact_match(predicted, tgt) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="2 outputs"):
        exact_match(predicted[:2], tgt)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="beam_width"):
        Seq2Seq().beam_search(held_out_dates(2)[0], beam_width=0)
    with pytest.raises(ValueError, match="cell"):
        Seq2Seq(cell="tcn")
    with pytest.raises(ValueError, match="positional"):
        TransformerSeq2Seq(positional="rotary")
    with pytest.raises(TypeError, match="integers"):
        SequenceClassifier()(np.zeros((2, 3)))


# ----------------------------------------------------------------------------- transformer


@pytest.mark.quality
def test_transformer_reaches_95_percent_and_decodes_consistently(tmp_path):
    model, score = train_on_dates("transformer_seq2seq")
    assert score["greedy"] >= 0.95 and score["beam"] >= 0.95  # docs/models/transformer.md
    check_beam_search(model, held_out_dates(100)[0])
    check_round_trip(model, tmp_path / "transformer.safetensors")
