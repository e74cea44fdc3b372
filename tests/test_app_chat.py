"""The miniature ChatGPT (neuralab.apps.chat): corpus split, tokenizer, causal masking,
sampling, training to a held-out accuracy bar, save/load, and ``neuralab chat`` in a pipe.

One model is trained once for the module (1000 steps, about 16 CPU seconds on one core).
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import neuralab as nl
from neuralab import cli
from neuralab.apps import chat
from neuralab.data.sequences import BOS, EOS

pytestmark = pytest.mark.xdist_group("chat")  # one process: the module fixture trains the bot once


@pytest.fixture(scope="module")
def corpus():
    return chat.make_corpus(seed=0)


@pytest.fixture(scope="module")
def trained(corpus, tmp_path_factory):
    """(bot, log, path of the saved model), trained once for the module."""
    bot, log = chat.train_chat(corpus, steps=1000, seed=0)
    path = tmp_path_factory.mktemp("chat") / "model.safetensors"
    bot.save(path)
    return bot, log, path


# ----------------------------------------------------------------------------- the corpus


def test_corpus_holds_out_unseen_combinations(corpus):
    train_questions = {qa.question for qa in corpus.train}
    assert not train_questions & {qa.question for qa in corpus.test}
    assert 0.15 < len(corpus.test) / (len(corpus.train) + len(corpus.test)) < 0.3
    # Every phrasing is trained on; every kind is tested.
    assert {(qa.kind, qa.template) for qa in corpus.train} == {
        (kind, t)
        for kind, templates in {**chat.ARITHMETIC_TEMPLATES, **chat.FACT_TEMPLATES}.items()
        for t in range(len(templates))
    }
    assert {qa.kind for qa in corpus.test} == {qa.kind for qa in corpus.train}
    # Each held-out fact was learned from the two other phrasings.
    for qa in corpus.test:
        if qa.kind in chat.FACT_TEMPLATES:
            shape = next(s for s in chat.SHAPES if f" {s}" in qa.question)
            same_fact = [
                t for t in corpus.train
                if t.kind == qa.kind and f" {shape}" in t.question and t.answer == qa.answer
            ]  # fmt: skip
            assert len(same_fact) == 2, qa
    answers = {qa.question: qa.answer for qa in corpus.train + corpus.test}
    assert answers["what is 3 plus 4?"] == "7"
    assert answers["what is 9 - 2?"] == "7"
    assert answers["which is bigger, 2 or 9?"] == "9"
    assert answers["is 5 more than 8?"] == "no"
    assert answers["what colour is the star?"] == corpus.world["star"]["colour"]
    assert answers["how many crosses are there?"] == corpus.world["cross"]["count"]
    assert chat.make_corpus(seed=0) == corpus  # reproducible
    assert chat.make_corpus(seed=1).world != corpus.world


# ----------------------------------------------------------------------------- the tokenizer


def test_tokenizer_round_trip(corpus):
    tok = chat.WordTokenizer(corpus.vocabulary())
    assert tok.itos[:4] == ["<pad>", "<bos>", "<eos>", "<unk>"]
    for qa in corpus.train[::7] + corpus.test[::7]:
        text = f"Q: {qa.question} A: {qa.answer}"
        ids = tok.encode(text, bos=True, eos=True)
        assert ids[0] == BOS and ids[-1] == EOS and tok.unk not in ids
        assert tok.decode(ids) == text
    assert tok.encode("what is 12 plus 4?") == [
        tok.stoi[w] for w in ("what", "is", "12", "plus", "4", "?")
    ]
    assert tok.decode([tok.stoi["7"], EOS, tok.stoi["8"]]) == "7"  # stops at EOS


def test_tokenizer_unknown_words_and_characters(corpus):
    tok = chat.WordTokenizer(corpus.vocabulary())
    ids = tok.encode("what is 3 times 4 €?")
    assert ids[3] == tok.unk and ids[5] == tok.unk and ids.count(tok.unk) == 2
    assert tok.decode(ids) == "what is 3 <unk> 4 <unk>?"
    assert tok.unknown("what is 3 times 4 €?") == ["times", "€"]
    assert tok.unknown("what is 3 plus 4?") == []
    assert chat.normalize("  What  is 3+4") == "what is 3 + 4?"
    assert chat.normalize("Which is bigger,2 or 9 ?") == "which is bigger, 2 or 9?"


# ----------------------------------------------------------------------------- the model


def test_attention_is_causal():
    nl.manual_seed(0)
    model = chat.TinyGPT(30, d_model=16, nhead=2, num_layers=2, dim_feedforward=32, max_len=12)
    ids = np.random.default_rng(0).integers(4, 30, (3, 10))
    changed = ids.copy()
    t = 5
    changed[:, t + 1 :] = (changed[:, t + 1 :] + 7) % 26 + 4
    with nl.no_grad():
        a, b = model(ids).numpy(), model(changed).numpy()
    np.testing.assert_allclose(a[:, : t + 1], b[:, : t + 1], atol=1e-6)
    assert not np.allclose(a[:, t + 1 :], b[:, t + 1 :], atol=1e-3)
    for w in model.attention_weights(ids):
        assert w.shape == (3, 10, 10)
        np.testing.assert_allclose(w.sum(-1), 1, atol=1e-5)
        assert np.all(np.triu(w, k=1) == 0)
    with pytest.raises(ValueError, match=r"max_len=12, got shape \(1, 13\)"):
        model(np.zeros((1, 13), dtype=np.int64))


def test_tied_head_is_the_token_embedding():
    model = chat.TinyGPT(20, d_model=8, nhead=2, num_layers=1, dim_feedforward=16)
    assert model.head.weight is model.token_embedding.weight
    assert model.head.weight.dtype == np.float32
    untied = chat.TinyGPT(20, d_model=8, nhead=2, num_layers=1, dim_feedforward=16,
                          tie_weights=False)  # fmt: skip
    assert untied.num_parameters() == model.num_parameters() + 20 * 8


def test_answer_only_targets(corpus):
    tok = chat.WordTokenizer(corpus.vocabulary())
    qa = chat.QA("what is 3 plus 4?", "7", "plus", 0)
    x, y = chat._batch(tok, [qa])
    prompt = tok.encode("Q: what is 3 plus 4? A:", bos=True)
    assert x[0].tolist() == prompt + [tok.stoi["7"]]
    assert y[0].tolist() == [chat.IGNORE] * (len(prompt) - 1) + [tok.stoi["7"], EOS]
    x_all, y_all = chat._batch(tok, [qa], answer_only=False)
    assert y_all[0].tolist() == prompt[1:] + [tok.stoi["7"], EOS]


# ----------------------------------------------------------------------------- sampling


def test_top_k_never_picks_outside_the_top_k():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(4000, 25)) * 2
    picked = chat.sample_next(logits, temperature=1.5, top_k=3, rng=rng)
    top3 = np.argsort(logits, axis=1)[:, -3:]
    assert (picked[:, None] == top3).any(axis=1).all()
    assert len(set((picked[:, None] == top3).argmax(axis=1).tolist())) == 3  # all three occur
    np.testing.assert_array_equal(
        chat.sample_next(logits, temperature=5.0, top_k=1, rng=rng), logits.argmax(1)
    )
    assert len(set(chat.sample_next(logits[:1].repeat(500, 0), 1.0, rng=rng).tolist())) > 10


def test_temperature_towards_zero_is_greedy():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(500, 12)).astype(np.float32)
    greedy = logits.argmax(axis=1)
    np.testing.assert_array_equal(chat.sample_next(logits, temperature=0), greedy)
    np.testing.assert_array_equal(chat.sample_next(logits, temperature=1e-4, rng=rng), greedy)
    assert (chat.sample_next(logits, temperature=1.0, rng=rng) != greedy).mean() > 0.2
    with pytest.raises(ValueError, match="temperature must be >= 0, got -1"):
        chat.sample_next(logits, temperature=-1)
    with pytest.raises(ValueError, match="top_k must be >= 1"):
        chat.sample_next(logits, top_k=0)
    with pytest.raises(ValueError, match=r"\(batch, vocab\), got shape \(12,\)"):
        chat.sample_next(logits[0])


# ----------------------------------------------------------------------------- training


def test_answers_held_out_questions(trained, corpus):
    bot, log, _ = trained
    chance = corpus.chance_accuracy()
    assert chance < 0.35
    assert log.train_accuracy[-1] >= 0.95
    assert log.test_accuracy[-1] >= 0.8, chat.accuracy_by_kind(bot, corpus.test)
    assert bot.meta["test_accuracy"] == log.test_accuracy[-1]
    by_kind = chat.accuracy_by_kind(bot, corpus.test)
    assert set(by_kind) == {qa.kind for qa in corpus.test}
    assert min(by_kind[k] for k in ("bigger", "smaller", "more-than")) >= 0.8


def test_batched_answers_match_one_at_a_time(trained):
    bot = trained[0]
    questions = ["what is 3 plus 4?", "how many circles do you see?", "is 2 more than 9?"]
    assert bot.ask_many(questions) == [bot.ask(q) for q in questions]
    assert bot.ask("What is 3+4") == bot.ask("what is 3 + 4?")
    rng = np.random.default_rng(0)
    sampled = {bot.ask("what colour is the star?", 3.0, None, rng) for _ in range(20)}
    assert len(sampled) > 1  # a high temperature varies the answer


def test_save_load_round_trip(trained, tmp_path):
    bot, _, path = trained
    loaded = chat.ChatBot.load(path)
    assert loaded.tokenizer.words == bot.tokenizer.words
    assert loaded.meta == bot.meta
    assert loaded.model.head.weight is loaded.model.token_embedding.weight
    ids = np.array([bot.tokenizer.encode("Q: what is 3 plus 4? A:", bos=True)])
    with nl.no_grad():
        logits = loaded.model(ids)
        np.testing.assert_array_equal(logits.numpy(), bot.model(ids).numpy())
    assert logits.dtype == np.float32 and logits.shape == (1, ids.shape[1], len(bot.tokenizer))
    other = tmp_path / "other.safetensors"
    nl.save({"weights": nl.zeros(3)}, str(other))
    with pytest.raises(ValueError, match="does not hold a chat model"):
        chat.ChatBot.load(other)


# ----------------------------------------------------------------------------- the command


def run_chat(*args: str, stdin: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "neuralab.cli", "chat", *args],
        input=stdin, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_cli_answers_piped_questions(trained):
    bot, _, path = trained
    questions = ["what is 2 plus 3?", "Which is bigger, 4 or 7", "what colour is the moon?"]
    expected = bot.ask_many(questions)
    assert expected[:2] == ["5", "7"]
    stdin = "\n".join([questions[0], "", questions[1], questions[2], "quit", "what is 1 plus 1?"])
    result = run_chat("--model", str(path), stdin=stdin + "\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == expected  # one line per question; 'quit' stops
    assert "TinyGPT" in result.stderr and "held-out" in result.stderr


def test_cli_trains_a_missing_model_then_reads_to_eof(tmp_path):
    path = tmp_path / "new" / "model.safetensors"
    result = run_chat(
        "--model", str(path), "--steps", "10", "--temperature", "0.8", "--top-k", "3",
        stdin="what is 1 plus 1?\nwhat is the capital of france?",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert path.is_file()
    assert "training TinyGPT" in result.stderr and "step    10/10" in result.stderr
    assert "never seen: 'capital', 'france'" in result.stderr
    assert len(result.stdout.splitlines()) == 2


@pytest.mark.parametrize(
    "args, message",
    [
        (["--temperature", "-1"], "--temperature must be >= 0, got -1.0"),
        (["--top-k", "0"], "--top-k must be at least 1, got 0"),
        (["--steps", "0"], "--steps must be at least 1, got 0"),
    ],
)
def test_cli_bad_arguments_exit_2(args, message, capsys):
    assert cli.main(["chat", *args]) == 2
    err = capsys.readouterr().err
    assert err.strip() == f"neuralab chat: error: {message}"


def test_cli_model_must_be_a_file(tmp_path, capsys):
    assert cli.main(["chat", "--model", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a model")
    assert cli.main(["chat", "--model", str(bad)]) == 2
    assert "neuralab chat: error: load:" in capsys.readouterr().err


def test_demo_topic_trains_scores_and_answers_a_prompt(tmp_path, capsys):
    from neuralab import demos

    result = demos.run("chat", tmp_path, quick=True, prompt="What is 2 + 2")
    text = capsys.readouterr().out
    assert "held-out exact-match accuracy" in text and "a few held-out questions" in text
    assert "your question: Q: what is 2 + 2?  A: " in text
    assert isinstance(result["answer"], str)
    assert result["test_accuracy"] > result["chance"] + 0.2  # 300 steps: about 69 % vs 27 %
    assert set(result["by_kind"]) == set(chat.ARITHMETIC_TEMPLATES) | set(chat.FACT_TEMPLATES)
    assert len(result["samples"]["greedy"]) == 8 and len(set(result["samples"]["greedy"])) == 1
    assert [p.name for p in result["figures"]] == ["chat.png"]
    assert result["figures"][0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
