"""Hardware names as words: the normalisation that name matching (`table.resolve`) compares.

Vendor prefixes ("NVIDIA", "Tesla", "Google", ...) are dropped and remembered, trademark marks,
punctuation and spacing removed, "80 GB" joined to "80gb"; `optional` words (form factor, memory
size, product line, architecture) are those a query may leave out. Pure text, no table.
"""

from __future__ import annotations

import difflib
import functools
import re

__all__ = ["VENDOR_PREFIXES", "compact", "normalise", "optional", "ratio", "tokens", "vendor_key"]

# leading words dropped before matching, with the vendor each implies ("tesla" is NVIDIA's product line)
VENDOR_PREFIXES = {
    "nvidia": "nvidia",
    "tesla": "nvidia",
    "google": "google",
    "amd": "amd",
    "intel": "intel",
    "habana": "intel",
    "huawei": "huawei",
    "amazon": "amazon",
    "aws": "amazon",
    "graphcore": "graphcore",
    "cerebras": "cerebras",
    "apple": "apple",
}
# words a query may leave out: form factor, memory, product line, architecture
_OPTIONAL = frozenset(
    {
        "sxm",
        "sxm2",
        "sxm3",
        "sxm4",
        "sxm5",
        "sxm6",
        "pcie",
        "oam",
        "dgxs",
        "hgx",
        "nvl",
        "hbm",
        "hbm2",
        "hbm2e",
        "hbm3",
        "hbm3e",
        "gddr5",
        "gddr5x",
        "gddr6",
        "gddr6x",
        "geforce",
        "gtx",
        "quadro",
        "radeon",
        "instinct",
        "habana",
        "grace",
        "kepler",
        "maxwell",
        "pascal",
        "volta",
        "turing",
        "ampere",
        "ada",
        "lovelace",
        "hopper",
        "blackwell",
        "generation",
        "trillium",
    }
)
_MEMORY = re.compile(r"\d+gb")
_SXM = re.compile(r"sxm\d")


def normalise(name: str) -> tuple[str, str | None]:
    """(lower-case words joined by single spaces, vendor implied by a dropped prefix)."""
    text = re.sub(r"\((r|tm|c)\)", " ", name.lower())  # "Intel(R) Arc(TM)": trademark marks are noise
    text = re.sub(r"[^a-z0-9]+", " ", text)
    text = re.sub(r"\b(\d+)\s+gb\b", r"\1gb", text)
    words = text.split()
    vendor: str | None = None
    while len(words) > 1 and words[0] in VENDOR_PREFIXES:
        vendor = vendor or VENDOR_PREFIXES[words[0]]
        words.pop(0)
    return " ".join(words), vendor


def compact(normalised: str) -> str:
    return normalised.replace(" ", "")


def tokens(normalised: str) -> frozenset[str]:
    words = set(normalised.split())
    words |= {"sxm" for w in words if _SXM.fullmatch(w)}  # "A100 SXM" names SXM4 parts
    return frozenset(words)


def optional(word: str) -> bool:
    return word in _OPTIONAL or _MEMORY.fullmatch(word) is not None


def vendor_key(vendor: str) -> str:
    return VENDOR_PREFIXES.get(vendor.strip().lower(), vendor.strip().lower())



@functools.lru_cache(maxsize=65536)
def ratio(a: str, b: str) -> float:
    """difflib's similarity ratio, 0 where cheap upper bounds already put it below 0.5."""
    if 2 * min(len(a), len(b)) < 0.5 * (len(a) + len(b)):
        return 0.0
    matcher = difflib.SequenceMatcher(None, a, b)
    return matcher.ratio() if matcher.quick_ratio() >= 0.5 else 0.0
