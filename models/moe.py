"""Mixture-of-experts Transformers and their dense baseline: GShard (Lepikhin et al. 2020) and the
Switch Transformer (Fedus et al. 2021).

* GShard's dense baseline "T(96L)" (Table 3, 2.3B weights, Delta-BLEU 6.1): the Lingvo/GPipe
  Transformer used throughout GShard (model dimension 1024, feed-forward 8192, 16 heads)
  with 96 layers, "L" counting encoder and decoder layers together (48 + 48), as for
  the MoE models (36L = 18 + 18, MoE every other layer -> 2048 experts x 18 x 2 x 1024 x 8192 =
  619B, the paper's 600B). Built with models/transformer.py in pre-norm form.

* Switch Transformer: T5 (models/t5.py: relative position bias, RMS norm, no biases) whose
  feed-forward layers are Switch layers: a router (one linear map to E logits, softmax) sends
  each token to its top-1 expert, an FFN of its own, and scales the expert's output by the
  router probability (Sec. 2.1, eq. 2). Switch-C (Table 9): d_model 2080, 32 heads of 64,
  expert d_ff 6144, ReLU (no GEGLU), 15 encoder and 15 decoder blocks, 2048 experts in every
  block (expert frequency 1).

Dispatch convention (deterministic from shapes, identical on meta, CPU and CUDA): a batch of
T tokens gets S = ceil(capacity_factor x T) expert slots in all, split as evenly as the
shapes allow: c = S // E slots per expert, one more for the first S mod E experts. Tokens claim
slots of their chosen expert in batch order (as in Switch and Mesh TensorFlow); a token that
finds its expert full is dropped (its layer output is 0, the residual carries it, Sec. 2.2).
The experts then run as two batched matmuls over the slots, so the counted expert FLOP is
S x one expert's FLOP: with capacity_factor 1.0 (the default here) exactly T x one expert's
FLOP, the model-FLOP convention of Switch's Table 9 ("FLOPs/seq"), whatever the routing
decided. A capacity factor above 1 counts the padding slots too (hardware FLOP). Equal
capacities of ceil(T / E) per expert (Switch's own buffers) would count E x ceil(T / E) slots:
4x too many for Switch-C at 512 tokens and 2048 experts, hence the even split.

Left out: the load-balancing auxiliary loss (Sec. 2.2, a few reductions over T x E), the router's
input jitter, expert dropout, dropout.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from models import t5, transformer
from models._entry import Entry, Facts


@dataclass(frozen=True)
class SwitchConfig(t5.T5Config):
    n_experts: int = 1  # E: experts per Switch layer
    expert_every: int = 1  # 1: every FFN is a Switch layer (Switch-C); 2: every other one
    capacity_factor: float = 1.0  # expert slots per token (Sec. 2.2); 1.0: count routed tokens only

    def is_sparse(self, index: int) -> bool:
        """Which blocks get a Switch layer (the odd ones when every other one, as released)."""
        return self.expert_every == 1 or index % self.expert_every == 1


def expert_slots(tokens: int, n_experts: int, capacity_factor: float) -> tuple[int, int, int]:
    """(S, c, r): S slots in all, c per expert, one more for the first r experts."""
    slots = math.ceil(capacity_factor * tokens)
    c, r = divmod(slots, n_experts)
    return slots, c, r


class SwitchFFN(nn.Module):
    """Top-1 routed mixture of E ReLU feed-forward experts (Fedus et al. 2021, Sec. 2.1-2.2)."""

    def __init__(self, d_model: int, d_ff: int, n_experts: int, capacity_factor: float) -> None:
        super().__init__()
        self.n_experts, self.capacity_factor = n_experts, capacity_factor
        self.router = nn.Linear(d_model, n_experts, bias=False)
        self.wi = nn.Parameter(torch.empty(n_experts, d_model, d_ff))
        self.wo = nn.Parameter(torch.empty(n_experts, d_ff, d_model))
        nn.init.normal_(self.wi, std=d_model**-0.5)
        nn.init.normal_(self.wo, std=d_ff**-0.5)

    def experts(self, h: torch.Tensor, first: int, last: int) -> torch.Tensor:
        """Experts first..last-1 on their slots h [experts, slots each, d]."""
        return torch.bmm(F.relu(torch.bmm(h, self.wi[first:last])), self.wo[first:last])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape, d = x.shape, x.shape[-1]
        tokens = x.reshape(-1, d)
        E = self.n_experts
        S, c, r = expert_slots(tokens.shape[0], E, self.capacity_factor)

        # router in float32 (selective precision, Fedus et al. Sec. 2.4); top-1 expert and its probability
        probs = F.softmax(self.router(tokens.float()), dim=-1)
        gate, expert = probs.max(dim=-1)

        # capacity and first slot of each expert: from shapes alone
        e = torch.arange(E, device=x.device)
        capacity = c + (e < r).long()
        start = e * c + e.clamp(max=r)
        # a token's place in its expert's queue: tokens earlier in the batch come first
        chosen = (expert[:, None] == e).long()  # [T, E] one-hot of each token's expert
        place = chosen.cumsum(0).gather(1, expert[:, None]).squeeze(1) - 1
        kept = place < capacity[expert]
        slot = torch.where(kept, start[expert] + place, S)  # row S: where dropped tokens go

        buffer = tokens.new_zeros(S + 1, d).index_put((slot,), tokens)
        wide = r * (c + 1)  # slots of the experts with one more
        out = []
        if r:
            out.append(self.experts(buffer[:wide].view(r, c + 1, d), 0, r))
        if c:
            out.append(self.experts(buffer[wide:S].view(E - r, c, d), r, E))
        out.append(tokens.new_zeros(1, 1, d))  # dropped tokens: no expert output
        y = torch.cat([o.reshape(-1, d) for o in out])[slot]
        return (y * (gate * kept).to(y.dtype)[:, None]).view(shape)


def switch_ffn(cfg: SwitchConfig, index: int, decoder: bool) -> nn.Module:
    if cfg.is_sparse(index):
        return SwitchFFN(cfg.d_model, cfg.d_ff, cfg.n_experts, cfg.capacity_factor)
    return t5.DenseReluDense(cfg)


def build_switch(cfg: SwitchConfig) -> nn.Module:
    return t5.T5(cfg, ffn=switch_ffn)


# Fedus et al. 2021, Table 9: Switch-C. Embeddings untied (Switch builds on Mesh TensorFlow's
# T5.1.1 settings; the difference is 67M of 1.57T). Capacity factor 1.0: see the module docstring.
SWITCH_C = SwitchConfig(
    n_layer=15, d_model=2080, d_kv=64, n_head=32, d_ff=6144, tie_embeddings=False,
    n_experts=2048, expert_every=1,
)  # fmt: skip
# 3 experts over 2 x 16 tokens: 32 slots = 2 experts of 11 + 1 of 10 (both dispatch groups);
# a dense FFN in the encoder's first block (expert_every=2) covers the mixed stack.
SWITCH_TINY = SwitchConfig(
    n_layer=2, d_model=32, d_kv=8, n_head=4, d_ff=48, vocab_size=101, tie_embeddings=False,
    n_experts=3, expert_every=2,
)  # fmt: skip

# GShard T(96L): 48 + 48 pre-norm layers, d_model 1024, d_ff 8192, 16 heads. Lepikhin et al.
# give no vocabulary size for the dense model; M4 (Arivazhagan et al. 2019), whose data and
# Transformer it scales, uses a 64k shared SentencePiece vocabulary; tied as in Vaswani et al.
GSHARD_DENSE = transformer.TransformerConfig(
    n_layer=48, d_model=1024, d_ff=8192, n_head=16, vocab_size=64000, pre_norm=True
)
GSHARD_TINY = transformer.TransformerConfig(
    n_layer=2, n_dec_layer=1, d_model=32, d_ff=64, n_head=4, vocab_size=97, max_len=64, pre_norm=True
)

ENTRIES = [
    Entry(
        name="gshard-dense",
        family="gshard",
        domain="language",
        config=GSHARD_DENSE,
        build_fn=transformer.Transformer,
        inputs_fn=transformer.example_inputs,
        default_batch=1,
        default_seq=128,
        max_seq=1024,
        tiny=GSHARD_TINY,
        facts=Facts(
            dataset_name="GShard (dense)",
            year=2020,
            published_parameters=2.3e9,
            parameters_source="Lepikhin et al. 2020, Table 3 (T(96L): 2.3B weights)",
            parameters_note=(
                "-0.8%: 2,282,098,688 instantiated = 96 layers (48 encoder, 48 decoder) of d_model 1024, "
                "d_ff 8192 (2,216,558,592 with biases and LayerNorms) + a tied 64,000 x 1024 embedding "
                "(65,536,000) + the final LayerNorms (4,096); the vocabulary size is our reading: see the "
                "config."
            ),
        ),
    ),
    Entry(
        name="switch-c",
        family="switch",
        domain="language",
        config=SWITCH_C,
        build_fn=build_switch,
        inputs_fn=t5.example_inputs,
        default_batch=1,
        default_seq=512,
        max_seq=4096,
        tiny=SWITCH_TINY,
        facts=Facts(
            dataset_name="Switch",
            year=2021,
            published_parameters=1571e9,
            parameters_source="Fedus et al. 2021, Table 9 (Switch-C: 1571B parameters)",
        ),
    ),
]
