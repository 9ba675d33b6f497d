"""GPT-style decoder-only transformer (GPT-2, GPT-3 shapes), nanoGPT layout, SDPA attention.

Radford et al. 2019 (GPT-2), Brown et al. 2020 (GPT-3, Table 2.1). Names follow the papers:
L layers, H heads, d model width, V vocabulary, T context. Pre-LayerNorm blocks, GELU MLP of
width 4d, learned positions, output head tied to the token embedding.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass(frozen=True)
class GPTConfig:
    n_layer: int  # L: transformer blocks
    n_head: int  # H: attention heads; head width d / H
    d_model: int  # d: residual stream width
    vocab_size: int = 50257  # GPT-2 BPE vocabulary, also used by GPT-3
    block_size: int = 1024  # T max: learned position table length
    bias: bool = True  # GPT-2 has biases in every Linear and LayerNorm


class CausalSelfAttention(nn.Module):
    def __init__(self, cfg: GPTConfig) -> None:
        super().__init__()
        self.n_head = cfg.n_head
        self.qkv = nn.Linear(cfg.d_model, 3 * cfg.d_model, bias=cfg.bias)
        self.proj = nn.Linear(cfg.d_model, cfg.d_model, bias=cfg.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        # [B, T, C] -> [B, H, T, C/H]
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.proj(y.transpose(1, 2).reshape(B, T, C))


class MLP(nn.Module):
    def __init__(self, cfg: GPTConfig) -> None:
        super().__init__()
        self.fc = nn.Linear(cfg.d_model, 4 * cfg.d_model, bias=cfg.bias)
        self.proj = nn.Linear(4 * cfg.d_model, cfg.d_model, bias=cfg.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(F.gelu(self.fc(x)))


class Block(nn.Module):
    def __init__(self, cfg: GPTConfig) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(cfg.d_model, bias=cfg.bias)
        self.attn = CausalSelfAttention(cfg)
        self.ln2 = nn.LayerNorm(cfg.d_model, bias=cfg.bias)
        self.mlp = MLP(cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    def __init__(self, cfg: GPTConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.wte = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.wpe = nn.Embedding(cfg.block_size, cfg.d_model)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.ln_f = nn.LayerNorm(cfg.d_model, bias=cfg.bias)
        self.head = nn.Linear(cfg.d_model, cfg.vocab_size, bias=False)
        self.head.weight = self.wte.weight  # tied, as in GPT-2

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        T = idx.shape[1]
        if T > self.cfg.block_size:
            raise ValueError(f"sequence length {T} exceeds the context of {self.cfg.block_size}")
        pos = torch.arange(T, device=idx.device)
        x = self.wte(idx) + self.wpe(pos)
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))


def example_inputs(cfg: GPTConfig, batch: int, seq: int, device: str | torch.device) -> tuple:
    return (torch.randint(0, cfg.vocab_size, (batch, seq), device=device),)


PRESETS: dict[str, GPTConfig] = {
    # Radford et al. 2019: 12 layers, 768 wide, 12 heads, 1024 context -> 124M parameters
    "gpt2-small": GPTConfig(n_layer=12, n_head=12, d_model=768),
    # Brown et al. 2020, Table 2.1: 96 layers, 12288 wide, 96 heads, 2048 context
    "gpt3-175b": GPTConfig(n_layer=96, n_head=96, d_model=12288, block_size=2048),
    # for tests: every code path of the family at a size that runs in milliseconds
    "gpt-tiny": GPTConfig(n_layer=2, n_head=4, d_model=64, vocab_size=100, block_size=64),
}
