"""Networks of game-playing and control agents (models/rl.py): forward FLOP of one step.

Conventions (2 FLOP per multiply-accumulate): a convolution costs 2 x B x prod(out spatial) x
C_out x C_in x k^2 (`conv_layer_flop`); a linear layer 2 x rows x in x out; a batch or layer
norm 7 per element (5 to normalise, 2 for the affine scale and shift); an LSTM layer
2 x tokens x 4H (I + H); attention 2 x B x heads x S_q x S_k x (d_qk + d_v), softmax 3 per score.
Each function names the paper and section whose architecture it follows.
"""

from __future__ import annotations

from typing import Any

from harness.analytic.breakdown import Breakdown, Component
from harness.analytic.formulas import conv_layer_flop, conv_out_size

NORM_FLOP_PER_ELEMENT = 7  # normalise 5 + affine 2 (harness.conventions: norm + norm_affine)


def dqn(config: Any, batch: int, seq: int | None) -> Breakdown:
    """Mnih et al. 2015, Methods 'Model architecture' (and the 2013 paper's Sec. 4.1): unpadded
    convolutions (filters, kernel, stride) on m x 84 x 84 frames, each + bias + ReLU; a hidden
    linear layer + bias + ReLU; a linear output of one Q-value per action + bias.

    conv_i: 2 B s_i^2 C_i C_{i-1} k_i^2, with s_i = (s_{i-1} - k_i) / stride_i + 1;
    fc: 2 B (C s^2) d; out: 2 B d A. Elementwise: 2 per conv/hidden output (bias, ReLU), 1 per Q.
    """
    B = batch
    parts: list[Component] = []
    c, size, ew = config.in_channels, config.image_size, 0
    for i, (filters, kernel, stride) in enumerate(config.convs):
        size = conv_out_size(size, kernel, stride)
        flop = conv_layer_flop(B, c, filters, (kernel, kernel), (size, size))
        parts.append(Component(f"conv{i + 1}", "conv", flop, "2 B s^2 C_out C_in k^2"))
        ew += 2 * B * filters * size * size
        c = filters
    d, A = config.d_hidden, config.n_actions
    parts += [
        Component("fc", "matmul", 2 * B * c * size * size * d, "2 B (C s^2) d"),
        Component("out", "matmul", 2 * B * d * A, "2 B d A"),
        Component("bias_relu", "elementwise", ew + 2 * B * d + B * A, "2 per conv/fc output, 1 per Q"),
    ]
    return tuple(parts)


def alphazero(config: Any, batch: int, seq: int | None) -> Breakdown:
    """Silver et al. 2017 (AlphaGo Zero) Methods 'Neural network architecture'; Silver et al. 2018
    (AlphaZero) Supplementary 'Architecture'. All convolutions keep the N x N board (same padding).

    tower: conv block (3x3, C_in -> F) + R residual blocks of two 3x3 F -> F convs:
           2 B N^2 F 9 (C_in + 2 R F); batch norm after each: 7 B N^2 F (1 + 2R).
    policy "fc" (AGZ): 1x1 conv F -> p, BN, linear p N^2 -> N^2 + 1.
    policy "conv" (AlphaZero chess): k x k conv F -> F, BN, k x k conv F -> planes.
    value: 1x1 conv F -> v, BN, linear v N^2 -> 256, linear 256 -> 1.
    """
    B, F, n2 = batch, config.filters, config.board * config.board
    R = config.n_res_blocks
    tower = conv_layer_flop(B, config.in_planes, F, (3, 3), (config.board,) * 2) + R * 2 * conv_layer_flop(
        B, F, F, (3, 3), (config.board,) * 2
    )
    parts = [
        Component("tower", "conv", tower, "2 B N^2 F 9 (C_in + 2 R F)"),
        Component("tower.bn", "normalisation", NORM_FLOP_PER_ELEMENT * B * n2 * F * (1 + 2 * R),
                  "7 B N^2 F (1 + 2R)"),  # fmt: skip
    ]
    if config.policy_head == "fc":
        p = config.policy_filters
        parts += [
            Component("policy.conv", "conv", 2 * B * n2 * F * p, "2 B N^2 F p"),
            Component("policy.bn", "normalisation", NORM_FLOP_PER_ELEMENT * B * n2 * p, "7 B N^2 p"),
            Component("policy.fc", "matmul", 2 * B * p * n2 * (n2 + 1), "2 B p N^2 (N^2 + 1)"),
        ]
    else:
        k, P = config.policy_kernel, config.policy_planes
        parts += [
            Component("policy.conv", "conv", 2 * B * n2 * F * F * k * k, "2 B N^2 F F k^2"),
            Component("policy.bn", "normalisation", NORM_FLOP_PER_ELEMENT * B * n2 * F, "7 B N^2 F"),
            Component("policy.out", "conv", 2 * B * n2 * P * F * k * k, "2 B N^2 planes F k^2"),
        ]
    v, h = config.value_filters, config.value_hidden
    parts += [
        Component("value.conv", "conv", 2 * B * n2 * F * v, "2 B N^2 F v"),
        Component("value.bn", "normalisation", NORM_FLOP_PER_ELEMENT * B * n2 * v, "7 B N^2 v"),
        Component("value.fc", "matmul", 2 * B * v * n2 * h + 2 * B * h, "2 B v N^2 256 + 2 B 256"),
    ]
    return tuple(parts)


def openai_five(config: Any, batch: int, seq: int | None) -> Breakdown:
    """Berner et al. 2019, model section and Appendix H (Fig. 17), as approximated in models/rl.py.

    N = B x 5 heroes x T steps; U unit slots. Per unit: two linear layers (F + d_type -> d_u -> d_u);
    globals: G -> d_g; the LSTM core: 2 N 4D (D_in + D), D = 4096; heads from the LSTM output:
    action type, offsets/delay, value, the target-unit query (D -> d_k), per-unit keys
    (d_u -> d_k) and their dot products 2 N U d_k. Reductions: the max-pools over unit groups
    (one compare per pooled element, N U d_u) and the cross-hero pool (N d_flat / 4).
    """
    T = seq or config.seq_len
    N, U, D = batch * config.n_heroes * T, sum(config.unit_groups), config.d_lstm
    du, dk = config.d_unit, config.d_key
    d_flat = (len(config.unit_groups) + config.unit_groups[0] + config.unit_groups[1]) * du + config.d_global
    d_in = d_flat + d_flat // config.cross_hero_fraction + config.d_hero
    heads = config.n_action_types + sum(config.action_params) + 1 + dk
    return (
        Component("units", "matmul", 2 * N * U * ((config.unit_features + config.d_unit_type) * du + du * du),
                  "2 N U ((F + d_type) d_u + d_u^2)"),  # fmt: skip
        Component("globals", "matmul", 2 * N * config.n_global * config.d_global, "2 N G d_g"),
        Component("lstm", "recurrent", 2 * N * 4 * D * (d_in + D), "2 N 4D (D_in + D)"),
        Component("heads", "matmul", 2 * N * D * heads, "2 N D (actions + params + 1 + d_k)"),
        Component("target_keys", "matmul", 2 * N * U * du * dk + 2 * N * U * dk, "2 N U d_u d_k + 2 N U d_k"),
        Component("pools", "reduction", N * U * du + N * (d_flat // config.cross_hero_fraction),
                  "N U d_u + N d_flat / 4"),  # fmt: skip
    )


def curl(config: Any, batch: int, seq: int | None) -> Breakdown:
    """Srinivas et al. 2020, Sec. 4 and App. B; encoder of Yarats et al. 2019 (SAC+AE).

    Three encoder passes per step (critic on the anchors, actor on the anchors, key encoder on
    the positives): convs 3x3, 32 filters, stride 2 then 1, unpadded: 84 -> 41 -> 39 -> 37 -> 35;
    linear 32 * 35^2 -> 50; LayerNorm(50). Critic Q1, Q2: (50 + A) -> 1024 -> 1024 -> 1; actor
    50 -> 1024 -> 1024 -> 2A. Contrastive logits z_a (W z_p^T): 2 d^2 B + 2 B^2 d.
    """
    B, C, d, h, A = batch, config.n_filters, config.d_latent, config.d_hidden, config.action_dim
    s, c_in, conv = config.image_size, 3 * config.frame_stack, 0
    for i in range(config.n_convs):
        s = conv_out_size(s, 3, 2 if i == 0 else 1)
        conv += conv_layer_flop(B, c_in, C, (3, 3), (s, s))
        c_in = C
    passes = 3
    q = 2 * B * ((d + A) * h + h * h + h)
    return (
        Component("encoders.conv", "conv", passes * conv, "3 passes x sum 2 B s^2 C C_in 9"),
        Component("encoders.fc", "matmul", passes * 2 * B * C * s * s * d, "3 x 2 B (C s^2) d"),
        Component("encoders.ln", "normalisation", passes * NORM_FLOP_PER_ELEMENT * B * d, "3 x 7 B d"),
        Component("critic", "matmul", 2 * q, "2 x 2 B ((d + A) h + h^2 + h)"),
        Component("actor", "matmul", 2 * B * (d * h + h * h + h * 2 * A), "2 B (d h + h^2 + 2 A h)"),
        Component("contrastive", "matmul", 2 * d * d * B + 2 * B * B * d, "2 d^2 B + 2 B^2 d"),
    )


def goat(config: Any, batch: int, seq: int | None) -> Breakdown:
    """Open Ended Learning Team 2021, Sec. 5.1 (Fig. 11), as approximated in models/rl.py.

    N = B T frames. Torso: IMPALA ResNet stages (3x3 conv at the stage's input size, 3x3/2
    max-pool, two residual blocks of two 3x3 convs at half size) on 72 x 96 RGB; linear to
    d_vision; proprioception and predicate encoders. Core: LSTM 2 N 4H (I + H). GOAT: option
    queries (d_goal -> H), keys and values from the core state's slots (2 N H 2H), attention
    2 N heads O S (2 d_head) = 4 N O S H, softmax over scores and over option values, output
    projection 2 N O H^2; heads (option value, policy MLP, value, predicate predictor).
    """
    T = seq or config.seq_len
    N, H = batch * T, config.d_core
    h, w = config.image_hw
    conv, c = 0, 3
    for width in config.channels:
        conv += conv_layer_flop(N, c, width, (3, 3), (h, w))
        h, w = conv_out_size(h, 3, 2, 1), conv_out_size(w, 3, 2, 1)
        conv += 4 * conv_layer_flop(N, width, width, (3, 3), (h, w))
        c = width
    O, S, dg, heads = config.n_options, config.n_slots, config.d_goal, config.n_heads
    I = config.d_vision + config.d_proprio + dg
    encoders = 2 * N * (c * h * w * config.d_vision + config.n_proprio * config.d_proprio)
    encoders += 2 * N * O * config.n_predicates * config.d_predicate_in * dg
    goat_mm = 2 * N * O * dg * H + 2 * N * H * 2 * H + 2 * N * O * H * H
    out = 2 * N * O * H + 2 * N * (H * config.d_policy + config.d_policy * config.n_actions)
    out += 2 * N * H * (1 + config.n_predicate_outputs)
    return (
        Component("torso.resnet", "conv", conv, "sum over stages of 2 N h w C C_in 9 + 4 x 2 N h' w' C^2 9"),
        Component("encoders", "matmul", encoders, "2 N (C h w d_v + P d_p + O n_pred E d_g)"),
        Component("core", "recurrent", 2 * N * 4 * H * (I + H), "2 N 4H (I + H)"),
        Component("goat.projections", "matmul", goat_mm, "2 N O d_g H + 2 N H 2H + 2 N O H^2"),
        Component("goat.attention", "attention", 2 * N * heads * O * S * 2 * (H // heads),
                  "2 N heads O S 2 d_head"),  # fmt: skip
        Component("goat.softmax", "softmax", 3 * N * heads * O * S + 3 * N * O, "3 N heads O S + 3 N O"),
        Component("heads", "matmul", out, "2 N (O H + H d_pi + d_pi A + H (1 + n_pred))"),
    )


FORMULAS = {"dqn": dqn, "alphazero": alphazero, "openai-five": openai_five, "curl": curl, "goat": goat}
