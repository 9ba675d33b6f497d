"""Recurrent language models: the LSTM LM of Zaremba et al. 2014 and the Seq2Seq LSTM of
Sutskever et al. 2014. Forward FLOP of one step (2 FLOP per multiply-accumulate).

An LSTM layer of H units with input width I computes, per token, the four gates
W_ih x + W_hh h: weights of 4H x I and 4H x H, so 2 x 4H (I + H) FLOP per token per layer
(the same for every layer; the first reads the embedding). Its gate arithmetic is 21 FLOP
per unit per token with nn.LSTM's two bias vectors, as `harness.counting.regions` decomposes it:
the two products summed 4, biases 8, three sigmoids and a tanh 4, c = f c + i g 3, tanh(c) 1,
h = o tanh(c) 1.
The word embeddings are lookups (0 FLOP). The output layer is a linear map H -> V per
predicted token, 2 H V, plus its bias, V adds.
"""

from __future__ import annotations

from typing import Any

from harness.analytic.breakdown import Breakdown, Component

LSTM_GATE_FLOP_PER_UNIT = 21  # with both biases; see the module docstring


def lstm_stack(tokens: int, d_in: int, d_hidden: int, n_layer: int) -> int:
    """Matmul FLOP of a stacked unidirectional LSTM: 2 x tokens x 4H (I + H), then 2 x tokens x 4H (2H)."""
    first = 2 * tokens * 4 * d_hidden * (d_in + d_hidden)
    rest = (n_layer - 1) * 2 * tokens * 4 * d_hidden * (2 * d_hidden)
    return first + rest


def lstm_lm(config: Any, batch: int, seq: int | None) -> Breakdown:
    """Zaremba et al. 2014, Sec. 4.1: embedding (H wide) -> L LSTM layers of H -> softmax over V.

    N = B T tokens. Recurrent: L x 2 N 4H (H + H). Logits: 2 N H V. Elementwise: 21 N H per
    layer (gates) + N V (output bias).
    """
    T = seq or config.seq_len
    N, H, V, L = batch * T, config.d_hidden, config.vocab_size, config.n_layer
    return (
        Component("embedding", "embedding", 0, "lookup"),
        Component("lstm", "recurrent", lstm_stack(N, H, H, L), "L * 2 N 4H (H + H)"),
        Component("lstm.gates", "elementwise", L * N * LSTM_GATE_FLOP_PER_UNIT * H, "L * 21 N H"),
        Component("logits", "matmul", 2 * N * H * V, "2 N H V"),
        Component("logits.bias", "elementwise", N * V, "N V"),
    )


def seq2seq(config: Any, batch: int, seq: int | None) -> Breakdown:
    """Sutskever et al. 2014, Sec. 3.4: a 4-layer LSTM encoder over the reversed source, a 4-layer
    LSTM decoder over the target (teacher-forced), a naive softmax over the 80k output words.

    Source and target have T tokens each: N = B T per side. Each LSTM: first layer 2 N 4H (E + H),
    the others 2 N 4H (2H). Logits 2 N H V_out on the target side only. The source reversal is a
    flip (0 FLOP); embeddings are lookups.
    """
    T = seq or config.seq_len
    N, E, H, L, V = batch * T, config.d_embed, config.d_hidden, config.n_layer, config.tgt_vocab
    gates = L * N * LSTM_GATE_FLOP_PER_UNIT * H
    return (
        Component("embeddings", "embedding", 0, "lookups"),
        Component("encoder", "recurrent", lstm_stack(N, E, H, L), "2 N 4H (E + H) + (L - 1) 2 N 4H 2H"),
        Component("decoder", "recurrent", lstm_stack(N, E, H, L), "2 N 4H (E + H) + (L - 1) 2 N 4H 2H"),
        Component("encoder.gates", "elementwise", gates, "L * 21 N H"),
        Component("decoder.gates", "elementwise", gates, "L * 21 N H"),
        Component("logits", "matmul", 2 * N * H * V, "2 N H V_out"),
        Component("logits.bias", "elementwise", N * V, "N V_out"),
    )


FORMULAS = {"lstm-lm": lstm_lm, "seq2seq": seq2seq}
