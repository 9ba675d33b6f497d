"""Published closed-form estimators of training and forward compute, each with its source.

All results in FLOP with 1 multiply-accumulate = 2 FLOP. No torch.
"""

from __future__ import annotations


def epoch_connections(connections: float, examples: float, epochs: float = 1.0) -> float:
    """Epoch AI (Sevilla et al. 2022, "Estimating Training Compute"), method 1.

    C = 2 x connections x 3 x examples x epochs:
      2: one multiply-accumulate per connection per example = 2 FLOP;
      3: forward (1) + backward (2: gradients for activations and for weights).
    Connections equal parameters except where weights are shared (convolutions).
    """
    return 2 * connections * 3 * examples * epochs


def kaplan_training(params_non_embedding: float, tokens: float) -> float:
    """Kaplan et al. 2020, "Scaling Laws", Sec. 2.1: C = 6 N D.

    6 = 2 (FLOP per MAC) x 3 (forward + 2x backward); N non-embedding parameters; D tokens.
    """
    return 6 * params_non_embedding * tokens


def kaplan_forward_per_token(params_non_embedding: float, n_layer: int, n_ctx: int, d_attn: int) -> float:
    """Kaplan et al. 2020, Table 1: C_forward = 2N + 2 n_layer n_ctx d_attn per token.

    2N: one MAC per weight; 2 n_layer n_ctx d_attn: the attention logits (Q K^T), the context
    counted once (Kaplan leaves P V inside the "2N + ..." approximation, see Table 1).
    """
    return 2 * params_non_embedding + 2 * n_layer * n_ctx * d_attn


def palm_training_per_token(params: float, n_layer: int, n_head: int, head_dim: int, seq: int) -> float:
    """Chowdhery et al. 2022 (PaLM), Appendix B: 6N + 12 L H Q T per token.

    6N: forward + backward matmuls over the weights.
    12 L H Q T: attention, Q K^T and P V (2 matmuls x 2 FLOP/MAC = 4 per pair per head dim),
    forward + backward (x3), every (query, key) pair of the full square (no causal halving).
    """
    return 6 * params + 12 * n_layer * n_head * head_dim * seq


def nanogpt_flop_per_sequence(params: float, n_layer: int, n_head: int, head_dim: int, seq: int) -> float:
    """nanoGPT's estimate_mfu: (6N + 12 L H Q T) x T per sequence (PaLM's per-token figure)."""
    return palm_training_per_token(params, n_layer, n_head, head_dim, seq) * seq


def narayanan_per_iteration(batch: int, seq: int, n_layer: int, hidden: int, vocab: int) -> float:
    """Narayanan et al. 2021 (Megatron-LM at scale), eq. 3, with full activation recompute:
    96 B s l h^2 (1 + s / (6h) + V / (16 l h)) FLOP per iteration.

    96 = 72 (forward + backward of the 24 B s h^2 per-layer matmuls) + 24 (recomputed forward).
    """
    return 96 * batch * seq * n_layer * hidden**2 * (1 + seq / (6 * hidden) + vocab / (16 * n_layer * hidden))


def korthikanti_model_flop(batch: int, seq: int, n_layer: int, hidden: int, vocab: int) -> float:
    """Korthikanti et al. 2022, Sec. 6: model FLOPs (no recompute) per iteration,
    72 B L s h^2 (1 + s / (6h) + v / (12 h L)).

    72 = 24 B s h^2 per layer forward (QKV 6, projection 2, MLP 16) x 3 (forward + backward).
    s / 6h: attention Q K^T and P V (4 B s^2 h per layer forward) over 24 B s h^2.
    v / 12hL: the logits layer (2 B s h v forward) over the layers' 24 B s h^2 L.
    """
    return 72 * batch * n_layer * seq * hidden**2 * (1 + seq / (6 * hidden) + vocab / (12 * hidden * n_layer))


def chinchilla_forward_per_sequence(
    seq: int, vocab: int, d_model: int, n_layer: int, n_head: int, d_head: int, d_ff: int
) -> dict[str, float]:
    """Hoffmann et al. 2022 (Chinchilla), Appendix F, forward FLOP per sequence by component.

    embeddings 2 s V d; per layer: QKV 2 x 3 s d (k h), logits 2 s^2 (k h), softmax 3 h s^2,
    softmax @ V 2 s^2 (k h), output 2 s (k h) d, dense 2 s (d f + f d); final logits 2 s d V.
    The backward is taken as 2x the forward.
    """
    kh = d_head * n_head
    return {
        "embeddings": 2 * seq * vocab * d_model,
        "qkv": n_layer * 2 * 3 * seq * d_model * kh,
        "logits": n_layer * 2 * seq * seq * kh,
        "softmax": n_layer * 3 * n_head * seq * seq,
        "softmax_v": n_layer * 2 * seq * seq * kh,
        "attention_output": n_layer * 2 * seq * kh * d_model,
        "dense": n_layer * 2 * seq * (d_model * d_ff + d_ff * d_model),
        "final_logits": 2 * seq * d_model * vocab,
    }


def conv_layer_flop(
    batch: int,
    in_channels: int,
    out_channels: int,
    kernel: tuple[int, ...],
    out_spatial: tuple[int, ...],
    groups: int = 1,
) -> int:
    """One convolution layer: 2 x N x C_out x prod(out spatial) x (C_in / groups) x prod(kernel).

    Every output element is a dot product of length (C_in / groups) x prod(kernel).
    """
    k = 1
    for s in kernel:
        k *= s
    positions = 1
    for s in out_spatial:
        positions *= s
    return 2 * batch * out_channels * positions * (in_channels // groups) * k


def conv_out_size(size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """floor((size + 2 padding - dilation (kernel - 1) - 1) / stride) + 1."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1
