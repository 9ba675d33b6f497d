"""Hugging Face decoders counted on the meta device at full size, against hand counts."""

from pathlib import Path

import pytest

from harness.counting.api import count_flops
from harness.sources import load

HF = Path(__file__).parent / "fixtures" / "hf"


def _count(name, batch, seq, device):
    loaded = load(f"hf:{HF / name}", batch=batch, seq=seq, device=device)
    return count_flops(loaded.module, loaded.inputs, hint=loaded.attention)


def _decoder_hand_count(tokens, seq, layers, h, kv_width, experts_weights, router, vocab, heads, head_dim):
    """2 FLOP per weight per token (attention projections, router, the active experts, the head),
    plus Q K^T and P V: 2 x heads x seq^2 x (2 head_dim) per sequence and layer."""
    per_layer = 2 * h * h + 2 * h * kv_width + router + experts_weights
    matmul = 2 * tokens * (layers * per_layer + h * vocab)
    attention = layers * 2 * (tokens // seq) * heads * seq * seq * 2 * head_dim
    return matmul, attention


def test_small_mixtral_on_cpu_counts_the_active_experts():
    r = _count("mixtral.json", 2, 16, "cpu")
    # h 64, K/V 2 heads of 16 = 32 wide, router 64 x 4 experts, top-2 experts of 3 x 64 x 96, vocab 256
    matmul, attention = _decoder_hand_count(32, 16, 2, 64, 32, 2 * 3 * 64 * 96, 64 * 4, 256, 4, 16)
    assert matmul == 2 * 32 * (2 * (8192 + 4096 + 256 + 36864) + 16384) == 7_372_800
    assert r.by_category["matmul"] == matmul and r.by_category["attention"] == attention
    assert not r.uncounted


def test_mixtral_8x7b_on_meta_within_a_thousandth_of_the_hand_count():
    r = _count("mixtral-8x7b.json", 1, 128, "meta")
    # per layer and token: q, o 4096^2; k, v 4096 x 1024; router 4096 x 8; 2 of 8 experts, 3 x 4096 x 14336
    matmul, attention = _decoder_hand_count(128, 128, 32, 4096, 1024, 2 * 3 * 4096 * 14336, 4096 * 8, 32000, 32, 128)
    assert matmul == 2 * 128 * (32 * 394_297_344 + 131_072_000) == 3_263_638_274_048
    assert attention == 32 * 2 * 32 * 128 * 128 * 256 == 8_589_934_592
    assert r.by_category["matmul"] == matmul and r.by_category["attention"] == attention
    assert abs(r.total - (matmul + attention)) / r.total < 1e-3  # the rest: norms, softmax, routing
    assert not r.uncounted


@pytest.mark.parametrize(
    "name, intermediate, kv_width",
    [("llama-2-7b.json", 11008, 4096), ("mistral-7b.json", 14336, 1024)],
)
def test_llama_and_mistral_count_on_meta(name, intermediate, kv_width):
    r = _count(name, 1, 128, "meta")
    matmul, attention = _decoder_hand_count(128, 128, 32, 4096, kv_width, 3 * 4096 * intermediate, 0, 32000, 32, 128)
    assert r.by_category["matmul"] == matmul and r.by_category["attention"] == attention
    assert r.total_full - r.total_causal == 32 * 2 * 32 * (128 * 128 - 128 * 129 // 2) * 256  # causal triangle
    assert not r.uncounted
