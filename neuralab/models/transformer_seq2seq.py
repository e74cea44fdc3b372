"""A Transformer encoder–decoder ("Attention Is All You Need") for sequence-to-sequence tasks.

Source and target ids are embedded (PAD's row stays zero), positions are added (a fixed
sinusoidal table or learned vectors, one table shared by both sides) and ``nn.Transformer`` runs
its encoder stack over the source and its decoder stack over the target, with a causal mask on
the decoder's self-attention and the source's PAD positions masked in every attention over it.
A Linear layer gives the logits over the target vocabulary.

Teacher-forced training decodes all target positions at once. Decoding one token at a time
(greedy or beam search, inherited from :class:`~neuralab.models.seq2seq.EncoderDecoder`) keeps
the ids decoded so far as the state and reruns the decoder stack over them at every step (no key
/value cache: the targets here are a dozen tokens). See docs/models/transformer.md.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neuralab import nn
from neuralab.data.sequences import DATE_SOURCE_VOCAB, DATE_TARGET_VOCAB, PAD
from neuralab.models.registry import register_model
from neuralab.models.rnn import as_ids
from neuralab.models.seq2seq import EncoderDecoder
from neuralab.nn.layers.transformer import generate_square_subsequent_mask
from neuralab.tensor import Tensor

__all__ = ["TransformerSeq2Seq", "transformer_seq2seq"]

_POSITIONAL = ("sinusoidal", "learned")


class TransformerSeq2Seq(EncoderDecoder):
    """Embeddings + positions → nn.Transformer (batch first) → Linear.

    ``forward(src (B, S), tgt_in (B, T))`` → logits (B, T, tgt_vocab_size) under teacher forcing;
    sequences are at most ``max_len`` tokens long.
    """

    def __init__(
        self,
        src_vocab_size: int = len(DATE_SOURCE_VOCAB),
        tgt_vocab_size: int = len(DATE_TARGET_VOCAB),
        d_model: int = 64,
        nhead: int = 4,
        num_encoder_layers: int = 2,
        num_decoder_layers: int = 2,
        dim_feedforward: int = 128,
        dropout: float = 0.0,
        positional: str = "sinusoidal",
        max_len: int = 64,
    ) -> None:
        super().__init__()
        if positional not in _POSITIONAL:
            raise ValueError(f"positional must be one of {_POSITIONAL}, got {positional!r}")
        self.max_len = max_len
        self.src_embed = nn.Embedding(src_vocab_size, d_model, padding_idx=PAD)
        self.tgt_embed = nn.Embedding(tgt_vocab_size, d_model, padding_idx=PAD)
        if positional == "sinusoidal":
            self.position = nn.SinusoidalPositionalEncoding(d_model, max_len, dropout)
        else:
            self.position = nn.LearnedPositionalEncoding(max_len, d_model, dropout)
        self.transformer = nn.Transformer(
            d_model, nhead, num_encoder_layers, num_decoder_layers, dim_feedforward, dropout,
            batch_first=True,
        )  # fmt: skip
        self.out = nn.Linear(d_model, tgt_vocab_size)

    def encode(self, src: Any) -> tuple[tuple[Tensor, np.ndarray], np.ndarray]:
        """Memory (encoder output (B, S, d_model), PAD positions (B, S) bool) and an empty prefix.

        The decoder state is the ids fed to the decoder so far, (B, t) int64 (t = 0 here).
        """
        src = as_ids(src)
        padding = src.numpy() == PAD
        encoded = self.transformer.encoder(
            self.position(self.src_embed(src)), src_key_padding_mask=padding
        )
        return (encoded, padding), np.zeros((len(src), 0), dtype=np.int64)

    def _decode(self, tgt_in: Tensor, memory: tuple[Tensor, np.ndarray]) -> Tensor:
        """Logits (B, T, V) for decoder input ids (B, T), each position seeing only earlier ones."""
        encoded, padding = memory
        if tgt_in.shape[1] > self.max_len:
            raise ValueError(
                f"TransformerSeq2Seq: {tgt_in.shape[1]} target positions exceed max_len="
                f"{self.max_len}"
            )
        causal = generate_square_subsequent_mask(tgt_in.shape[1])
        decoded = self.transformer.decoder(
            self.position(self.tgt_embed(tgt_in)), encoded, tgt_mask=causal,
            memory_key_padding_mask=padding,
        )  # fmt: skip
        return self.out(decoded)

    def forward(self, src: Any, tgt_in: Any) -> Tensor:
        memory, _ = self.encode(src)
        return self._decode(as_ids(tgt_in), memory)

    def step(self, tokens: np.ndarray, state: np.ndarray, memory: Any) -> tuple[Tensor, Any]:
        prefix = np.concatenate([state, tokens[:, None]], axis=1)
        return self._decode(as_ids(prefix), memory)[:, -1], prefix


@register_model("transformer_seq2seq", task="translation", data="dates")
def transformer_seq2seq(**kwargs: Any) -> TransformerSeq2Seq:
    """A small Transformer encoder–decoder sized for the date task; any TransformerSeq2Seq arg."""
    return TransformerSeq2Seq(**kwargs)
