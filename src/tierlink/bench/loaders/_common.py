"""Helpers shared by the raw-dataset loaders: file checks, token estimates, ids and prices.

Most public router datasets record correctness but not tokens or dollars, so the loaders
estimate them the same way everywhere (4 characters per token, list prices) and say so in the
`estimated` column.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

from tierlink.bench.loaders.prices import Price
from tierlink.core.errors import DataError
from tierlink.core.tokens import CHARS_PER_TOKEN  # one estimate of characters per token everywhere

ESTIMATED_ALL = "input_tokens,output_tokens,cost_usd"


def require_file(root: Path, relative: str, dataset: str) -> Path:
    """`root / relative`, or a DataError naming the missing file and the expected layout."""
    path = root / relative
    if not path.is_file():
        raise DataError(
            str(path),
            f"missing {dataset} file '{relative}'",
            f"point root at a copy of the {dataset} release that keeps its original layout "
            f"(it must contain {relative}), or omit root to use the slice shipped with tierlink",
        )
    return path


def tokens_from_chars(chars: pd.Series | int) -> pd.Series:
    """Estimated token count of text with `chars` characters (rounded up, NaN stays NaN)."""
    series = pd.Series(chars, dtype="float64") if not isinstance(chars, pd.Series) else chars
    return np.ceil(series.astype("float64") / CHARS_PER_TOKEN)


def cost_usd(input_tokens: pd.Series, output_tokens: pd.Series, prices: pd.Series) -> pd.Series:
    """Dollar cost per row; `prices` holds a Price (or None when unknown) per row."""
    price_in = prices.map(lambda p: p.input_per_m if isinstance(p, Price) else np.nan)
    price_out = prices.map(lambda p: p.output_per_m if isinstance(p, Price) else np.nan)
    return (input_tokens * price_in + output_tokens * price_out) / 1_000_000


def short_hash(text: str, length: int = 12) -> str:
    """First hex digits of sha1(text): an id that survives re-ordering and slicing."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:length]


def clean_number(text: str) -> str:
    """A gold number as plain digits: '1,450,000 ' -> '1450000'."""
    return text.strip().replace(",", "")
