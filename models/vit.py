"""Vision Transformer (Dosovitskiy et al. 2020, "An Image is Worth 16x16 Words"), Sec. 3.1, Eq. 1-4.

The image is cut into P x P patches, each linearly projected to D (a P x P conv of stride P);
a learned [class] token is prepended and learned 1-D position embeddings added. L pre-norm
encoder blocks: x + MSA(LN(x)), then x + MLP(LN(x)), the MLP two layers with a GELU. The head
reads the final LayerNorm of the [class] token. Attention runs through
`F.scaled_dot_product_attention` over all N + 1 tokens (no mask).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from models._entry import Entry, Facts
from models.convnets import image_inputs


@dataclass(frozen=True)
class ViTConfig:
    patch: int = 16  # P: "/16" in ViT-B/16
    d_model: int = 768  # D, Table 1 (Base)
    n_layer: int = 12  # L, Table 1
    n_head: int = 12  # heads, Table 1 (head width 64)
    d_mlp: int = 3072  # MLP size, Table 1
    image_size: int = 224  # pre-training resolution (Sec. 4.1); fine-tuning uses 384
    in_channels: int = 3
    # Sec. 3.1: an MLP head with one hidden layer in pre-training, a single linear layer at
    # fine-tuning. The linear head on 1000 ImageNet classes is the commonly counted 86M model.
    n_classes: int = 1000
    dropout: float = 0.0  # Table 3: no dropout for JFT-300M pre-training (0.1 for ImageNet-21k)

    @property
    def n_tokens(self) -> int:
        return (self.image_size // self.patch) ** 2 + 1  # patches + [class]


class Attention(nn.Module):
    def __init__(self, cfg: ViTConfig) -> None:
        super().__init__()
        self.n_head = cfg.n_head
        self.qkv = nn.Linear(cfg.d_model, 3 * cfg.d_model)
        self.proj = nn.Linear(cfg.d_model, cfg.d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, D = x.shape
        q, k, v = self.qkv(x).view(B, T, 3, self.n_head, D // self.n_head).permute(2, 0, 3, 1, 4)
        y = F.scaled_dot_product_attention(q, k, v)  # [B, H, T, D/H], no mask
        return self.proj(y.transpose(1, 2).reshape(B, T, D))


class Block(nn.Module):
    def __init__(self, cfg: ViTConfig) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(cfg.d_model, eps=1e-6)
        self.attn = Attention(cfg)
        self.ln2 = nn.LayerNorm(cfg.d_model, eps=1e-6)
        self.mlp = nn.Sequential(
            nn.Linear(cfg.d_model, cfg.d_mlp), nn.GELU(), nn.Dropout(cfg.dropout),
            nn.Linear(cfg.d_mlp, cfg.d_model), nn.Dropout(cfg.dropout),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class VisionTransformer(nn.Module):
    def __init__(self, cfg: ViTConfig) -> None:
        super().__init__()
        # Eq. 1: x_p E, the patch projection as a P x P conv of stride P
        self.patch_embed = nn.Conv2d(cfg.in_channels, cfg.d_model, cfg.patch, stride=cfg.patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, cfg.d_model))
        self.pos_embed = nn.Parameter(torch.zeros(1, cfg.n_tokens, cfg.d_model))
        self.dropout = nn.Dropout(cfg.dropout)
        self.blocks = nn.Sequential(*(Block(cfg) for _ in range(cfg.n_layer)))
        self.norm = nn.LayerNorm(cfg.d_model, eps=1e-6)
        self.head = nn.Linear(cfg.d_model, cfg.n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed(x).flatten(2).transpose(1, 2)  # [B, N, D]
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        x = self.norm(self.blocks(self.dropout(x)))
        return self.head(x[:, 0])  # Eq. 4: y = LN(z_L^0)


VIT_B16 = ViTConfig()

ENTRIES = [
    Entry(
        name="vit-b-16",
        family="vit",
        domain="vision",
        config=VIT_B16,
        build_fn=VisionTransformer,
        inputs_fn=image_inputs,
        default_batch=1,
        facts=Facts(
            dataset_name="ViT-Base/16",
            year=2020,
            published_parameters=86e6,
            parameters_source="Dosovitskiy et al. 2020, Table 1 (ViT-Base: 86M parameters)",
            parameters_note="86,567,656 instantiated with the 1000-class linear head (+0.7%)",
        ),
        tiny=ViTConfig(patch=8, d_model=32, n_layer=2, n_head=4, d_mlp=64, image_size=32, n_classes=10),
    ),
]
