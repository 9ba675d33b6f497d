"""BERT (Devlin et al. 2018) and DistilBERT (Sanh et al. 2019): bidirectional Transformer encoders.

BERT, Sec. 3: the encoder of Vaswani et al. 2017 (post-norm layers, GELU feed-forward of width
4H), learned position embeddings for 512 positions, two segment (token type) embeddings, a
LayerNorm over the summed embeddings. Pre-training (Sec. 3.1, App. A.1) adds two heads:

* masked LM: a dense H x H + GELU + LayerNorm transform, then the output layer tied to the
  word embeddings plus an output bias per vocabulary entry. As in the released pre-training
  code (run_pretraining.py, `gather_indexes`), the head runs only at the masked positions:
  15% of the tokens (Sec. 3.1), here P = ceil(0.15 x seq) positions per sequence, given as an
  input (the code pads to max_predictions_per_seq: 20 at 128 tokens, 80 at 512; we take 77);
* next sentence prediction: a pooler (dense H x H + tanh on the [CLS] position) and a 2-way
  classifier.

DistilBERT (Sanh et al. 2019, Sec. 3): BERT-base with half the layers, no token-type
embeddings and no pooler; it is trained with the MLM head's logits at *every* position (the
distillation loss compares the student's and the teacher's full output distributions), so
`mlm_positions="all"` and no masked-position input.

Dropout is left out (regularisation, not arithmetic of the architecture); no padding mask.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from models._entry import Entry, Facts


@dataclass(frozen=True)
class BertConfig:
    n_layer: int  # L: Transformer blocks
    d_model: int  # H: hidden size
    n_head: int  # A: attention heads, each of width H / A
    d_ff: int | None = None  # feed-forward width; None -> 4H (Sec. 3: "4H")
    # WordPiece vocabulary: the paper says 30,000 tokens; the released uncased vocab.txt has 30522
    vocab_size: int = 30522
    max_position: int = 512  # learned position embeddings (Sec. 3.4 / App. A.2: sequences <= 512)
    type_vocab_size: int = 2  # segments A and B; 0: none (DistilBERT drops token types)
    gelu: str = "tanh"  # "tanh": the released BERT code's GELU approximation; "none": exact erf
    nsp_head: bool = True  # pooler + next-sentence classifier (BERT); DistilBERT has neither
    mlm_positions: str = "masked"  # "masked": head at the masked positions only; "all": every position
    mask_percent: int = 15  # Sec. 3.1: 15% of WordPiece tokens are selected for prediction
    eps: float = 1e-12  # LayerNorm epsilon of the released code

    @property
    def ff(self) -> int:
        return self.d_ff if self.d_ff is not None else 4 * self.d_model

    def predictions(self, seq: int) -> int:
        """Positions the MLM head runs at per sequence: ceil(mask_percent% x seq), or all."""
        if self.mlm_positions == "all":
            return seq
        return max(1, -(-seq * self.mask_percent // 100))


class SelfAttention(nn.Module):
    def __init__(self, cfg: BertConfig) -> None:
        super().__init__()
        self.n_head, self.d_head = cfg.n_head, cfg.d_model // cfg.n_head
        self.q = nn.Linear(cfg.d_model, cfg.d_model)
        self.k = nn.Linear(cfg.d_model, cfg.d_model)
        self.v = nn.Linear(cfg.d_model, cfg.d_model)
        self.o = nn.Linear(cfg.d_model, cfg.d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, S, _ = x.shape

        def heads(t: torch.Tensor) -> torch.Tensor:
            return t.view(B, S, self.n_head, self.d_head).transpose(1, 2)

        y = F.scaled_dot_product_attention(heads(self.q(x)), heads(self.k(x)), heads(self.v(x)))
        return self.o(y.transpose(1, 2).reshape(B, S, self.n_head * self.d_head))


class Layer(nn.Module):
    """Post-norm encoder layer: LayerNorm(x + Attention(x)), LayerNorm(x + FFN(x))."""

    def __init__(self, cfg: BertConfig) -> None:
        super().__init__()
        self.gelu = cfg.gelu
        self.attn = SelfAttention(cfg)
        self.norm1 = nn.LayerNorm(cfg.d_model, eps=cfg.eps)
        self.fc1 = nn.Linear(cfg.d_model, cfg.ff)
        self.fc2 = nn.Linear(cfg.ff, cfg.d_model)
        self.norm2 = nn.LayerNorm(cfg.d_model, eps=cfg.eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.norm1(x + self.attn(x))
        return self.norm2(x + self.fc2(F.gelu(self.fc1(x), approximate=self.gelu)))


class MaskedLMHead(nn.Module):
    """Transform (dense + GELU + LayerNorm), then logits through the tied word embeddings + bias."""

    def __init__(self, cfg: BertConfig, word_embeddings: nn.Embedding) -> None:
        super().__init__()
        self.gelu = cfg.gelu
        self.transform = nn.Linear(cfg.d_model, cfg.d_model)
        self.norm = nn.LayerNorm(cfg.d_model, eps=cfg.eps)
        self.decoder = nn.Linear(cfg.d_model, cfg.vocab_size)  # bias: one per vocabulary entry
        self.decoder.weight = word_embeddings.weight

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.norm(F.gelu(self.transform(h), approximate=self.gelu)))


class Bert(nn.Module):
    def __init__(self, cfg: BertConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.word = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.position = nn.Embedding(cfg.max_position, cfg.d_model)
        self.token_type = nn.Embedding(cfg.type_vocab_size, cfg.d_model) if cfg.type_vocab_size else None
        self.embed_norm = nn.LayerNorm(cfg.d_model, eps=cfg.eps)
        self.layers = nn.ModuleList(Layer(cfg) for _ in range(cfg.n_layer))
        self.mlm = MaskedLMHead(cfg, self.word)
        self.pooler = nn.Linear(cfg.d_model, cfg.d_model) if cfg.nsp_head else None
        self.nsp = nn.Linear(cfg.d_model, 2) if cfg.nsp_head else None

    def forward(
        self,
        input_ids: torch.Tensor,
        token_type_ids: torch.Tensor | None = None,
        masked_positions: torch.Tensor | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        B, S = input_ids.shape
        if S > self.cfg.max_position:
            raise ValueError(f"sequence length {S} exceeds the {self.cfg.max_position} positions")
        x = self.word(input_ids) + self.position(torch.arange(S, device=input_ids.device))
        if self.token_type is not None:
            types = token_type_ids if token_type_ids is not None else torch.zeros_like(input_ids)
            x = x + self.token_type(types)
        x = self.embed_norm(x)
        for layer in self.layers:
            x = layer(x)
        h = x
        if masked_positions is not None:  # [B, P]: gather the masked positions (gather_indexes)
            h = x.gather(1, masked_positions[..., None].expand(-1, -1, x.shape[-1]))
        logits = self.mlm(h)
        if self.pooler is None:
            return logits
        return logits, self.nsp(torch.tanh(self.pooler(x[:, 0])))


def example_inputs(cfg: BertConfig, batch: int, seq: int | None, device: str | torch.device) -> tuple:
    """(input_ids,) for DistilBERT; (input_ids, token_type_ids, masked_positions) for BERT."""
    seq = seq or cfg.max_position
    ids = torch.randint(0, cfg.vocab_size, (batch, seq), device=device)
    if cfg.mlm_positions == "all" and not cfg.type_vocab_size:
        return (ids,)
    types = torch.randint(0, max(cfg.type_vocab_size, 1), (batch, seq), device=device)
    if cfg.mlm_positions == "all":
        return (ids, types)
    positions = torch.randint(0, seq, (batch, cfg.predictions(seq)), device=device)
    return (ids, types, positions)


BASE = BertConfig(n_layer=12, d_model=768, n_head=12)  # Sec. 3: L=12, H=768, A=12
LARGE = BertConfig(n_layer=24, d_model=1024, n_head=16)  # Sec. 3: L=24, H=1024, A=16
# Sanh et al. 2019, Sec. 3: BERT-base's widths, "the number of layers is reduced by a factor
# of 2", token-type embeddings and pooler removed; GELU of the transformers library (exact erf)
DISTIL = BertConfig(
    n_layer=6, d_model=768, n_head=12, type_vocab_size=0, gelu="none", nsp_head=False, mlm_positions="all"
)
TINY = BertConfig(n_layer=2, d_model=32, n_head=4, vocab_size=101, max_position=64)
TINY_DISTIL = BertConfig(
    n_layer=2, d_model=32, n_head=4, vocab_size=101, max_position=64,
    type_vocab_size=0, gelu="none", nsp_head=False, mlm_positions="all",
)  # fmt: skip


ENTRIES = [
    Entry(
        name="bert-base",
        family="bert",
        domain="language",
        config=BASE,
        build_fn=Bert,
        inputs_fn=example_inputs,
        default_batch=1,
        default_seq=512,
        max_seq=512,
        tiny=TINY,
        facts=Facts(
            dataset_name="BERT-Base",
            year=2018,
            published_parameters=110e6,
            parameters_source="Devlin et al. 2018, Sec. 3 (BERT-BASE: total parameters = 110M)",
            parameters_note=(
                "+0.1%: 109.5M for the encoder with pooler, +0.6M for the MLM transform, its "
                "LayerNorm and output bias (output matrix tied to the word embeddings), +1.5k NSP."
            ),
        ),
    ),
    Entry(
        name="bert-large",
        family="bert",
        domain="language",
        config=LARGE,
        build_fn=Bert,
        inputs_fn=example_inputs,
        default_batch=1,
        default_seq=512,
        max_seq=512,
        tiny=TINY,
        facts=Facts(
            dataset_name="BERT-Large",
            year=2018,
            published_parameters=340e6,
            parameters_source="Devlin et al. 2018, Sec. 3 (BERT-LARGE: total parameters = 340M)",
            parameters_note=(
                "-1.1%: 336,226,108 instantiated: 335.1M for the encoder with pooler (as in the released "
                "checkpoint), +1.1M for the MLM head; the paper's 340M is rounded up."
            ),
        ),
    ),
    Entry(
        name="distilbert",
        family="bert",
        domain="language",
        config=DISTIL,
        build_fn=Bert,
        inputs_fn=example_inputs,
        default_batch=1,
        default_seq=512,
        max_seq=512,
        tiny=TINY_DISTIL,
        facts=Facts(
            dataset_name="DistilBERT",
            year=2019,
            published_parameters=66e6,
            parameters_source="Sanh et al. 2019, Table 3 (66M)",
            parameters_note=(
                "+1.5%: 66,985,530 instantiated: the 66M of Table 3 is the encoder alone (66.36M "
                "instantiated without a head); the MLM head used in training adds 0.62M (transform, "
                "LayerNorm, output bias; output matrix tied)."
            ),
        ),
    ),
]
