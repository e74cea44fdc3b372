"""Sequence-to-sequence: a recurrent encoder–decoder, with or without attention, and its decoding.

:class:`EncoderDecoder` holds what every encoder–decoder here shares: greedy decoding, beam
search and the log-probability of a given output. A subclass defines ``forward(src, tgt_in)``
(teacher forcing: logits for every target position at once), ``encode(src)`` → (memory, state)
and ``step(tokens, state, memory)`` → (logits, state), one decoder step. Every tensor or array in
``memory`` and ``state`` has the batch as its first dimension, so beams are formed by indexing
rows (:func:`take_rows`). :mod:`neuralab.models.transformer_seq2seq` is the other subclass.

:class:`Seq2Seq` is the recurrent one (Sutskever et al. 2014, Cho et al. 2014; attention of
Luong et al. 2015):

- the encoder embeds the source and runs a GRU/LSTM over it, and with ``bidirectional=True``
  (the default) a second one over each source reversed, so every encoder output e_s sees the
  whole source. PAD never enters: the reversal is per sequence (PAD stays at the end) and the
  forward direction is read at the last real token. The **summary** s — the forward output at
  the last token with the backward output at the first — goes through a tanh "bridge" layer to
  become the decoder's initial hidden state (and an LSTM's initial cell state);
- the decoder embeds the target shifted right (BOS first) and runs its own GRU/LSTM, giving h_t;
- each step gets a context c_t. Without attention it is the summary, c_t = s for every step (the
  whole source squeezed into one vector, as in Cho et al.). With ``attention=True`` h_t scores
  every encoder output as h_tᵀ W_a e_s (Luong's "general" score), and the softmax over the real
  source tokens weighs the encoder outputs into c_t;
- tanh(W_c [c_t; h_t]) then a Linear layer give the logits over the target vocabulary.

Attention sits on top of the decoder RNN (no input feeding), so under teacher forcing the decoder
is one fused recurrence and the attention one batched product. Token conventions are
``neuralab.data.sequences``': PAD = 0, BOS = 1, EOS = 2; ``src`` is right-padded with PAD.
See docs/models/seq2seq.md for the quality reached on the date task.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neuralab import nn
from neuralab.data.sequences import BOS, DATE_SOURCE_VOCAB, DATE_TARGET_VOCAB, EOS, PAD
from neuralab.models.registry import register_model
from neuralab.models.rnn import as_ids, inference, last_step, recurrent_layer
from neuralab.ops.activation import log_softmax
from neuralab.ops.attention import scaled_dot_product_attention
from neuralab.ops.shape import cat
from neuralab.tensor import Tensor

__all__ = [
    "EncoderDecoder",
    "Seq2Seq",
    "exact_match",
    "seq2seq_gru",
    "seq2seq_gru_attention",
    "seq2seq_lstm",
    "seq2seq_lstm_attention",
    "take_rows",
]


def take_rows(structure: Any, rows: np.ndarray) -> Any:
    """Index the first dimension of every Tensor/array in a (nested) tuple; None stays None."""
    if structure is None:
        return None
    if isinstance(structure, tuple):
        return tuple(take_rows(s, rows) for s in structure)
    return structure[rows]


def _check_positive(method: str, **values: int) -> None:
    for name, value in values.items():
        if value < 1:
            raise ValueError(f"{method}: {name} must be >= 1, got {value}")


def _log_probs(logits: Tensor) -> np.ndarray:
    """Log-softmax over the last axis of (B, V) logits, as float64 for summing scores."""
    return log_softmax(logits, dim=-1).numpy().astype(np.float64)


class EncoderDecoder(nn.Module):
    """Decoding shared by the encoder–decoders: greedy, beam search, sequence log-probability.

    Subclasses define ``forward(src, tgt_in)``, ``encode(src)`` and ``step(tokens, state,
    memory)`` (see the module docstring). Outputs are int64 ids (B, L): the tokens after BOS up
    to and including EOS, then PAD; ``Vocab.decode`` turns a row into text.
    """

    def encode(self, src: Any) -> tuple[Any, Any]:
        """(memory, initial decoder state) for source ids (B, S)."""
        raise NotImplementedError

    def step(self, tokens: np.ndarray, state: Any, memory: Any) -> tuple[Tensor, Any]:
        """Feed the previous tokens (B,) to the decoder: (next-token logits (B, V), new state)."""
        raise NotImplementedError

    def greedy_decode(self, src: Any, max_len: int = 32) -> np.ndarray:
        """The most likely token at every step until EOS (or ``max_len`` tokens): ids (B, L)."""
        _check_positive("greedy_decode", max_len=max_len)
        with inference(self):
            memory, state = self.encode(src)
            tokens = np.full(len(as_ids(src)), BOS, dtype=np.int64)
            done = np.zeros(len(tokens), dtype=bool)
            out = []
            for _ in range(max_len):
                logits, state = self.step(tokens, state, memory)
                tokens = np.where(done, PAD, _log_probs(logits).argmax(axis=1))
                out.append(tokens)
                done |= tokens == EOS
                if done.all():
                    break
        return np.stack(out, axis=1)

    def beam_search(
        self, src: Any, beam_width: int = 4, max_len: int = 32
    ) -> tuple[np.ndarray, np.ndarray]:
        """Keep the ``beam_width`` best partial outputs per source at every step.

        A score is the sum of the tokens' log-probabilities (no length normalisation). A beam
        that has emitted EOS stays in the running with its score frozen (it continues with PAD at
        log-probability 0), so finished and unfinished outputs compete for the same slots. The
        search ends when every beam is finished or after ``max_len`` tokens. Returns the best
        output per source, ids (B, L), and its score (B,) float64. ``beam_width=1`` is greedy.
        """
        _check_positive("beam_search", beam_width=beam_width, max_len=max_len)
        k = beam_width
        with inference(self):
            memory, state = self.encode(src)
            batch = len(as_ids(src))
            rows = np.repeat(np.arange(batch), k)
            memory, state = take_rows(memory, rows), take_rows(state, rows)
            scores = np.full((batch, k), -np.inf)
            scores[:, 0] = 0.0  # all beams start identical: keep one so they do not repeat
            tokens = np.full(batch * k, BOS, dtype=np.int64)
            done = np.zeros(batch * k, dtype=bool)
            out = np.zeros((batch * k, 0), dtype=np.int64)
            for _ in range(max_len):
                logits, state = self.step(tokens, state, memory)
                logp = _log_probs(logits)
                logp[done] = -np.inf
                logp[done, PAD] = 0.0
                vocab = logp.shape[1]
                total = (scores.reshape(-1, 1) + logp).reshape(batch, k * vocab)
                best = np.argsort(-total, axis=1, kind="stable")[:, :k]
                scores = np.take_along_axis(total, best, axis=1)
                rows = (np.arange(batch)[:, None] * k + best // vocab).reshape(-1)
                tokens = (best % vocab).reshape(-1)
                out = np.concatenate([out[rows], tokens[:, None]], axis=1)
                state, done = take_rows(state, rows), done[rows] | (tokens == EOS)
                if done.all():
                    break
        winner = np.arange(batch) * k + scores.argmax(axis=1)
        return out[winner], scores.max(axis=1)

    def sequence_log_prob(self, src: Any, tgt: Any) -> np.ndarray:
        """log p(tgt | src) per sequence (B,) float64: ``tgt`` is BOS + tokens (+ EOS) + PAD.

        The sum over the tokens after BOS of their log-probabilities under teacher forcing, PAD
        excluded: the score beam search maximises.
        """
        tgt = as_ids(tgt).numpy()
        with inference(self):
            logits = self(src, tgt[:, :-1])
        logp = log_softmax(logits, dim=-1).numpy().astype(np.float64)
        target = tgt[:, 1:]
        picked = np.take_along_axis(logp, target[..., None], axis=-1)[..., 0]
        return np.where(target != PAD, picked, 0.0).sum(axis=1)


def _reversed_positions(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """An index that reverses each row's non-PAD prefix of ids (B, S) and leaves PAD in place.

    Indexing (B, S, ...) with it twice gives the original back.
    """
    steps = ids.shape[1]
    lengths = (ids != PAD).sum(axis=1, keepdims=True)
    positions = np.arange(steps)
    columns = np.where(positions < lengths, lengths - 1 - positions, positions)
    return np.arange(len(ids))[:, None], columns


def reverse_prefixes(x: Tensor, ids: Tensor) -> Tensor:
    """``x`` (B, S, ...) with each row's first (non-PAD) positions of ``ids`` (B, S) reversed and
    the PAD positions left in place: ONNX's ReverseSequence, which the exporter writes for it."""
    return x[_reversed_positions(ids.numpy())]


def _swap_batch(state: Any) -> Any:
    """Swap the first two dimensions of h, or of h and c: (B, L, H) ↔ nn.GRU's (L, B, H)."""
    if isinstance(state, tuple):
        return tuple(s.transpose(0, 1) for s in state)
    return state.transpose(0, 1)


class Seq2Seq(EncoderDecoder):
    """Recurrent encoder–decoder (GRU/LSTM), with Luong attention or a fixed source summary.

    ``forward(src (B, S), tgt_in (B, T))`` → logits (B, T, tgt_vocab_size): teacher forcing,
    with ``tgt_in`` = the target's BOS + tokens (its last token dropped).
    """

    def __init__(
        self,
        src_vocab_size: int = len(DATE_SOURCE_VOCAB),
        tgt_vocab_size: int = len(DATE_TARGET_VOCAB),
        embed_dim: int = 32,
        hidden_size: int = 64,
        cell: str = "gru",
        attention: bool = True,
        bidirectional: bool = True,
        num_layers: int = 1,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.cell, self.attention, self.num_layers = cell, attention, num_layers
        encoded = 2 * hidden_size if bidirectional else hidden_size
        self.src_embed = nn.Embedding(src_vocab_size, embed_dim, padding_idx=PAD)
        self.tgt_embed = nn.Embedding(tgt_vocab_size, embed_dim, padding_idx=PAD)
        recurrent = (cell, embed_dim, hidden_size, num_layers, dropout)
        self.encoder = recurrent_layer(*recurrent)
        self.encoder_reverse = recurrent_layer(*recurrent) if bidirectional else None
        self.decoder = recurrent_layer(*recurrent)
        states = 2 if cell == "lstm" else 1  # an LSTM's decoder starts from h and c
        self.bridge = nn.Linear(encoded, states * num_layers * hidden_size)
        if attention:
            self.attn_score = nn.Linear(hidden_size, encoded, bias=False)  # W_a
        self.combine = nn.Linear(encoded + hidden_size, hidden_size)  # W_c
        self.out = nn.Linear(hidden_size, tgt_vocab_size)

    def encode(self, src: Any) -> tuple[tuple[Tensor, Tensor, Tensor], Any]:
        """Memory and the decoder's first state.

        Memory: the encoder outputs (B, S, D·H), which source positions are real (B, 1, S) and
        the summary (B, D·H) (D = 2 when bidirectional). The state is h (B, num_layers, H), or
        (h, c) for an LSTM: batch first, unlike nn.GRU's.
        """
        src = as_ids(src)
        embedded = self.src_embed(src)
        outputs, _ = self.encoder(embedded)
        summary = last_step(outputs, src)
        if self.encoder_reverse is not None:
            # Each source reversed in place (PAD stays at the end), run, and put back in order.
            backward, _ = self.encoder_reverse(self.src_embed(reverse_prefixes(src, src)))
            backward = reverse_prefixes(backward, src)
            summary = cat([summary, backward[:, 0]], dim=-1)  # position 0: all tokens read
            outputs = cat([outputs, backward], dim=-1)
        batch, hidden = len(src), self.decoder.hidden_size
        start = self.bridge(summary).tanh().reshape(batch, -1, self.num_layers, hidden)
        state = (start[:, 0], start[:, 1]) if self.cell == "lstm" else start[:, 0]
        attendable = (src != PAD).unsqueeze(1)
        return (outputs, attendable, summary), state

    def _decode(self, tgt_in: Tensor, state: Any, memory: tuple[Tensor, ...]) -> tuple:
        """Run the decoder RNN over (B, T) ids from ``state``: (logits (B, T, V), new state)."""
        outputs, new_state = self.decoder(self.tgt_embed(tgt_in), _swap_batch(state))
        encoded, attendable, summary = memory
        if self.attention:  # a context per step: the encoder outputs weighted by attention
            context = scaled_dot_product_attention(
                self.attn_score(outputs), encoded, encoded, attn_mask=attendable, scale=1.0
            )
        else:  # one context for every step: the summary of the whole source
            context = summary.unsqueeze(1).expand(outputs.shape[:2] + summary.shape[1:])
        outputs = self.combine(cat([context, outputs], dim=-1)).tanh()
        return self.out(outputs), _swap_batch(new_state)

    def forward(self, src: Any, tgt_in: Any) -> Tensor:
        memory, state = self.encode(src)
        return self._decode(as_ids(tgt_in), state, memory)[0]

    def step(self, tokens: np.ndarray, state: Any, memory: Any) -> tuple[Tensor, Any]:
        logits, state = self._decode(as_ids(tokens[:, None]), state, memory)
        return logits[:, 0], state


def exact_match(predicted: np.ndarray, tgt: np.ndarray) -> float:
    """Fraction of outputs (B, L) equal to their targets ``tgt`` (BOS + tokens + EOS + PAD).

    Each row is compared up to and including its first EOS (the whole row if there is none).
    """

    def until_eos(row: np.ndarray) -> list[int]:
        ids = row.tolist()
        return ids[: ids.index(EOS) + 1] if EOS in ids else ids

    predicted, tgt = np.asarray(predicted), np.asarray(tgt)
    if len(predicted) != len(tgt):
        raise ValueError(
            f"exact_match: {len(predicted)} outputs (shape {predicted.shape}) for {len(tgt)} "
            f"targets (shape {tgt.shape})"
        )
    hits = [until_eos(p) == until_eos(t[1:]) for p, t in zip(predicted, tgt)]
    return float(np.mean(hits)) if hits else 0.0


@register_model("seq2seq_gru_attention", task="translation", data="dates")
def seq2seq_gru_attention(**kwargs: Any) -> Seq2Seq:
    """GRU encoder–decoder with attention, sized for the date task; any Seq2Seq argument."""
    return Seq2Seq(cell="gru", attention=True, **kwargs)


@register_model("seq2seq_lstm_attention", task="translation", data="dates")
def seq2seq_lstm_attention(**kwargs: Any) -> Seq2Seq:
    """LSTM encoder–decoder with attention, sized for the date task; any Seq2Seq argument."""
    return Seq2Seq(cell="lstm", attention=True, **kwargs)


@register_model("seq2seq_gru", task="translation", data="dates")
def seq2seq_gru(**kwargs: Any) -> Seq2Seq:
    """GRU encoder–decoder without attention (hidden 128 for the date task)."""
    return Seq2Seq(**{"cell": "gru", "attention": False, "hidden_size": 128, **kwargs})


@register_model("seq2seq_lstm", task="translation", data="dates")
def seq2seq_lstm(**kwargs: Any) -> Seq2Seq:
    """LSTM encoder–decoder without attention (hidden 128 for the date task)."""
    return Seq2Seq(**{"cell": "lstm", "attention": False, "hidden_size": 128, **kwargs})
