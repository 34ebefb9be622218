"""Trainable weights from what ships: a catalogue model's verified GGUF, dequantised once into a
float32 Hugging Face checkpoint (transformers reads GGUF; its quantiser is dropped before saving)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from tierlink.endpoints.model_catalogue import model_catalogue
from tierlink.endpoints.model_files import cache_dir, gguf_path


def trainable_checkpoint(model: str) -> Path:
    """The folder of the float32 checkpoint of catalogue model `model`, made on first use."""
    entry = model_catalogue().require(model, "--device")
    target = cache_dir() / "hf" / f"{entry.name}-{entry.sha256[:12]}"
    if (target / "config.json").is_file() and any(target.glob("*.safetensors")):
        return target
    source = gguf_path(entry)  # hash-checked before use
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(source.parent, gguf_file=source.name)
    network = AutoModelForCausalLM.from_pretrained(source.parent, gguf_file=source.name, dtype="float32")
    network.hf_quantizer = None  # the weights are plain float32 now; a saved quantiser would re-quantise on load
    if hasattr(network.config, "quantization_config"):
        del network.config.quantization_config
    partial = target.with_name(f"{target.name}.partial{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    network.save_pretrained(partial)
    tokenizer.save_pretrained(partial)
    os.replace(partial, target)
    return target
