"""Decoder-only transformers: GPT-2, GPT-3 and the large language models shaped like them.

One configurable block covers the variants the papers describe: LayerNorm or RMSNorm, GELU or
SwiGLU MLP, learned or rotary positions, sequential or parallel attention + MLP (GPT-J, PaLM),
multi-query / grouped-query attention (PaLM), tied or untied output head, with or without biases.
Names follow the papers: L layers, H heads, d model width, f MLP width, V vocabulary, T context.
Attention runs through `F.scaled_dot_product_attention` with the causal mask.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass(frozen=True)
class GPTConfig:
    n_layer: int  # L: transformer blocks
    n_head: int  # H: query heads
    d_model: int  # d: residual stream width
    vocab_size: int = 50257  # V: GPT-2 BPE vocabulary, also GPT-3's
    block_size: int = 1024  # T max: context length
    d_ff: int | None = None  # f: MLP width; None -> 4 d
    d_head: int | None = None  # head width; None -> d / H
    n_kv_head: int | None = None  # key/value heads; None -> H (1 = multi-query, PaLM)
    bias: bool = True  # biases in Linear and LayerNorm (GPT-2/3: yes; PaLM, LLaMA: no)
    norm: str = "layernorm"  # "layernorm" | "rmsnorm" (Gopher, LLaMA)
    mlp: str = "gelu"  # "gelu" | "swiglu" (PaLM, LLaMA: three matrices of d x f)
    positions: str = "learned"  # "learned" table | "rotary" (GPT-J, PaLM, LLaMA) | "none"
    parallel: bool = False  # attention and MLP read the same normed input (GPT-J, PaLM)
    tie_embeddings: bool = True  # output head shares the token embedding (GPT-2/3, PaLM)

    @property
    def ff(self) -> int:
        return self.d_ff if self.d_ff is not None else 4 * self.d_model

    @property
    def head_dim(self) -> int:
        return self.d_head if self.d_head is not None else self.d_model // self.n_head

    @property
    def kv_heads(self) -> int:
        return self.n_kv_head if self.n_kv_head is not None else self.n_head


def _norm(cfg: GPTConfig) -> nn.Module:
    if cfg.norm == "rmsnorm":
        return nn.RMSNorm(cfg.d_model)
    return nn.LayerNorm(cfg.d_model, bias=cfg.bias)


def rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotary position embedding (Su et al. 2021) on the last dim, halves rotated."""
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((x1 * cos - x2 * sin, x2 * cos + x1 * sin), dim=-1)


class CausalSelfAttention(nn.Module):
    def __init__(self, cfg: GPTConfig) -> None:
        super().__init__()
        self.cfg = cfg
        q_width, kv_width = cfg.n_head * cfg.head_dim, cfg.kv_heads * cfg.head_dim
        self.qkv = nn.Linear(cfg.d_model, q_width + 2 * kv_width, bias=cfg.bias)
        self.proj = nn.Linear(q_width, cfg.d_model, bias=cfg.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        cfg = self.cfg
        B, T, _ = x.shape
        q_width, kv_width = cfg.n_head * cfg.head_dim, cfg.kv_heads * cfg.head_dim
        q, k, v = self.qkv(x).split((q_width, kv_width, kv_width), dim=2)
        # [B, T, H * Dh] -> [B, H, T, Dh]
        q = q.view(B, T, cfg.n_head, cfg.head_dim).transpose(1, 2)
        k = k.view(B, T, cfg.kv_heads, cfg.head_dim).transpose(1, 2)
        v = v.view(B, T, cfg.kv_heads, cfg.head_dim).transpose(1, 2)
        if cfg.positions == "rotary":
            half = cfg.head_dim // 2
            inv = 1.0 / (10000 ** (torch.arange(half, device=x.device, dtype=torch.float32) / half))
            angles = torch.outer(torch.arange(T, device=x.device, dtype=torch.float32), inv)
            cos, sin = angles.cos().to(q.dtype), angles.sin().to(q.dtype)
            q, k = rotate(q, cos, sin), rotate(k, cos, sin)
        gqa = cfg.kv_heads != cfg.n_head
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=gqa)
        return self.proj(y.transpose(1, 2).reshape(B, T, q_width))


class MLP(nn.Module):
    def __init__(self, cfg: GPTConfig) -> None:
        super().__init__()
        self.swiglu = cfg.mlp == "swiglu"
        self.fc = nn.Linear(cfg.d_model, (2 if self.swiglu else 1) * cfg.ff, bias=cfg.bias)
        self.proj = nn.Linear(cfg.ff, cfg.d_model, bias=cfg.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.fc(x)
        if self.swiglu:
            gate, up = h.chunk(2, dim=-1)
            h = F.silu(gate) * up
        else:
            h = F.gelu(h)
        return self.proj(h)


class Block(nn.Module):
    def __init__(self, cfg: GPTConfig) -> None:
        super().__init__()
        self.parallel = cfg.parallel
        self.ln1 = _norm(cfg)
        self.attn = CausalSelfAttention(cfg)
        self.ln2 = None if cfg.parallel else _norm(cfg)
        self.mlp = MLP(cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.parallel:
            h = self.ln1(x)
            return x + self.attn(h) + self.mlp(h)
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    def __init__(self, cfg: GPTConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.wte = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.wpe = nn.Embedding(cfg.block_size, cfg.d_model) if cfg.positions == "learned" else None
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.ln_f = _norm(cfg)
        self.head = nn.Linear(cfg.d_model, cfg.vocab_size, bias=False)
        if cfg.tie_embeddings:
            self.head.weight = self.wte.weight

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        T = idx.shape[1]
        if T > self.cfg.block_size:
            raise ValueError(f"sequence length {T} exceeds the context of {self.cfg.block_size}")
        x = self.wte(idx)
        if self.wpe is not None:
            x = x + self.wpe(torch.arange(T, device=idx.device))
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))


def example_inputs(cfg: GPTConfig, batch: int, seq: int | None, device: str | torch.device) -> tuple:
    return (torch.randint(0, cfg.vocab_size, (batch, seq or cfg.block_size), device=device),)


TINY = GPTConfig(n_layer=2, n_head=4, d_model=64, vocab_size=100, block_size=64)


# ---------------------------------------------------------------- the zoo's decoder-only systems
from models._entry import Entry, Facts  # noqa: E402


def _entry(name: str, cfg: GPTConfig, facts: Facts, domain: str = "language") -> Entry:
    return Entry(name, "gpt", domain, cfg, GPT, example_inputs, 1, cfg.block_size, cfg.block_size, facts, TINY)


ENTRIES = [
    _entry(
        "gpt2-small",
        GPTConfig(n_layer=12, n_head=12, d_model=768),
        Facts(
            "GPT-2 (124M)", 2019, 124e6, "released checkpoint (Radford et al. 2019 Table 2 says 117M)",
            parameters_note="the paper's 117M predates a recount; the released model has 124,439,808",
        ),
    ),
    _entry(
        "gpt2-xl",
        GPTConfig(n_layer=48, n_head=25, d_model=1600),
        Facts(
            "GPT-2 (1.5B)", 2019, 1.542e9, "Radford et al. 2019, Table 2 (1542M)",
            parameters_note="+1.0%: the released checkpoint has 1,557,611,200; Table 2 rounds down",
        ),
    ),
    _entry(
        "gpt3-175b",
        GPTConfig(n_layer=96, n_head=96, d_model=12288, block_size=2048),
        Facts(
            "GPT-3 175B (davinci)", 2020, 175e9, "Brown et al. 2020, Table 2.1",
        ),
    ),
    _entry(
        "megatron-lm-8.3b",
        # 51200: the 50257-token GPT-2 vocabulary padded to a multiple of 1024 for model parallelism
        GPTConfig(n_layer=72, n_head=32, d_model=3072, vocab_size=51200),
        Facts(
            "Megatron-LM (8.3B)", 2019, 8.3e9, "Shoeybi et al. 2019, Table 2",
        ),
    ),
    _entry(
        "turing-nlg",
        GPTConfig(n_layer=78, n_head=28, d_model=4256),
        Facts(
            "Turing-NLG", 2020, 17e9, "Microsoft blog post, Feb 2020 (78 layers, 4256 hidden, 28 heads)",
            parameters_note=(
                "+1.0%: 17,176,845,728 instantiated (78 x 12 x 4256^2 plus embeddings); the post rounds to "
                "17B"
            ),
        ),
    ),
    _entry(
        "gpt-j-6b",
        # rotary on every head dimension here (GPT-J rotates 64 of 256): elementwise FLOP only;
        # biases on the attention projections too (GPT-J has none there): +458,752 parameters
        GPTConfig(n_layer=28, n_head=16, d_model=4096, vocab_size=50400, block_size=2048, positions="rotary",
                  parallel=True, tie_embeddings=False),
        Facts(
            "GPT-J-6B", 2021, 6_053_381_344, "Wang & Komatsuzaki 2021 (mesh-transformer-jax README)",
            parameters_note=(
                "-0.03%: 6,051,291,136 instantiated: the attention biases (458,752) are built, the output "
                "head's 50,400 biases are not; the released checkpoint has the reverse"
            ),
        ),
    ),
    _entry(
        "pangu-alpha",
        # the paper's extra top "query layer" is a standard block here
        GPTConfig(n_layer=64, n_head=128, d_model=16384, vocab_size=40000, block_size=1024),
        Facts(
            "PanGu-α", 2021, 207e9, "Zeng et al. 2021, Table 1 (64 layers, 16384 hidden, 128 heads)",
        ),
    ),
    _entry(
        "hyperclova-204b",
        # the paper details shapes up to 82B only; 96 layers of 13312 (104 heads of 128) keep GPT-3's
        # aspect ratio and land on 204B
        GPTConfig(n_layer=96, n_head=104, d_model=13312, vocab_size=51200, block_size=2048),
        Facts(
            "HyperCLOVA 204B", 2021, 204e9, "Kim et al. 2021, abstract (shape not published)",
            parameters_note="shape chosen to match the published total: the paper gives none for 204B",
        ),
    ),
    _entry(
        "gopher-280b",
        # RMSNorm; relative positions (Transformer-XL style) replaced by none: no weights, small FLOP
        GPTConfig(n_layer=80, n_head=128, d_model=16384, vocab_size=32000, block_size=2048, norm="rmsnorm",
                  positions="none", bias=False, tie_embeddings=False),
        Facts(
            "Gopher (280B)", 2021, 280e9, "Rae et al. 2021, Table 1",
            parameters_note=(
                "-7.6%: 258,749,251,584 instantiated from Table 1's shape (80 x 12 x 16384^2 + embeddings). "
                "Gopher uses Transformer-XL relative position encodings, whose per-layer position-key "
                "projection (80 x 16384^2 = 21,474,836,480) this model does not build; with it the count is "
                "280,224,088,064, the paper's 280B within 0.08%"
            ),
        ),
    ),
    _entry(
        "chinchilla-70b",
        GPTConfig(n_layer=80, n_head=64, d_model=8192, vocab_size=32000, block_size=2048, norm="rmsnorm",
                  positions="none", bias=False, tie_embeddings=False),
        Facts(
            "Chinchilla", 2022, 70e9, "Hoffmann et al. 2022, Table 4",
            parameters_note=(
                "-7.2%: 64,950,116,352 instantiated from Table 4's shape (80 x 12 x 8192^2 + embeddings). "
                "Like Gopher it uses Transformer-XL relative position encodings, whose per-layer "
                "position-key projection (80 x 8192^2 = 5,368,709,120) this model does not build; with it "
                "the count is 70,318,825,472, the paper's 70B within 0.46%"
            ),
        ),
    ),
    _entry(
        "palm-540b",
        GPTConfig(n_layer=118, n_head=48, d_model=18432, d_ff=73728, d_head=256, n_kv_head=1, vocab_size=256000,
                  block_size=2048, bias=False, mlp="swiglu", positions="rotary", parallel=True),
        Facts(
            "PaLM (540B)", 2022, 540.35e9, "Chowdhery et al. 2022, Table 1",
        ),
    ),
    _entry(
        "llama-65b",
        GPTConfig(n_layer=80, n_head=64, d_model=8192, d_ff=22016, vocab_size=32000, block_size=2048, bias=False,
                  norm="rmsnorm", mlp="swiglu", positions="rotary", tie_embeddings=False),
        Facts(
            "LLaMA-65B", 2023, 65.2e9, "Touvron et al. 2023, Table 2",
        ),
    ),
    _entry(
        "igpt-xl",
        # 64x64 images in a 9-bit colour palette: 4096 positions of 512 tokens; head count not
        # published: 24 chosen (128-wide heads); it changes softmax FLOP only
        GPTConfig(n_layer=60, n_head=24, d_model=3072, vocab_size=512, block_size=4096, tie_embeddings=False),
        Facts(
            "iGPT-XL", 2020, 6.801e9, "Chen et al. 2020, Sec. 3",
        ),
        domain="vision",
    ),
    _entry(
        "dall-e-12b",
        # 256 text + 1024 image tokens; vocabulary 16384 text + 8192 image codes; dense causal
        # attention here (the paper uses row, column and convolutional sparse masks)
        GPTConfig(n_layer=64, n_head=62, d_model=3968, vocab_size=16384 + 8192, block_size=1280,
                  tie_embeddings=False),
        Facts(
            "DALL-E", 2021, 12e9, "Ramesh et al. 2021, Sec. 2.2 and App. B.1",
            parameters_note=(
                "+2.5%: 12,295,601,920 instantiated. The blocks alone (64 x 12 x 3968^2) hold 12.09B; with "
                "the untied text and image embeddings and head the model has 12.30B; the paper rounds to 12B"
            ),
        ),
        domain="multimodal",
    ),
]
