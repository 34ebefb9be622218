"""A peft LoRA adapter as a llama.cpp adapter GGUF, so the trained policy serves without torch.

Written with the `gguf` library: general.type 'adapter', adapter.type 'lora', adapter.lora.alpha,
and for each adapted weight `<gguf name>.lora_a` ([r, in]) and `.lora_b` ([out, r]); llama.cpp
scales by alpha / r as peft does. LLaMA-architecture GGUFs store q/k projections permuted for
rotary embeddings, so adapters on q_proj / k_proj are refused rather than exported wrong.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from tierlink.core.errors import TierlinkError

PERMUTED = ("q_proj", "k_proj")  # rows reordered by llama.cpp's LLaMA converter
_LORA = re.compile(r"^(?:base_model\.model\.)?(?P<base>.+)\.lora_(?P<which>[AB])\.weight$")


def base_architecture(base_gguf: Path) -> tuple[str, int]:
    """The base GGUF's architecture name and block count (what the adapter must match)."""
    import gguf

    reader = gguf.GGUFReader(base_gguf)
    arch = _field_text(reader, "general.architecture")
    blocks = int(reader.fields[f"{arch}.block_count"].contents())
    return arch, blocks


def export_lora(adapter_dir: Path, base_gguf: Path, out: Path) -> Path:
    """Convert a saved peft adapter (adapter_config.json + adapter_model.safetensors) for `base_gguf`."""
    import gguf
    from safetensors.numpy import load_file

    config = json.loads((adapter_dir / "adapter_config.json").read_text(encoding="utf-8"))
    arch, blocks = base_architecture(base_gguf)
    names = gguf.get_tensor_name_map(_arch_enum(arch), blocks)
    pairs: dict[str, dict[str, np.ndarray]] = {}
    for key, value in load_file(str(adapter_dir / "adapter_model.safetensors")).items():
        match = _LORA.match(key)
        if match is None:
            raise TierlinkError(f"adapter tensor '{key}' is not a LoRA A/B weight; only LoRA adapters can be exported")
        if arch == "llama" and match["base"].endswith(PERMUTED):
            raise TierlinkError(f"'{key}': LoRA on {'/'.join(PERMUTED)} cannot be exported for a LLaMA GGUF "
                                "(llama.cpp permutes those rows); train with other target modules")
        pairs.setdefault(match["base"], {})[match["which"]] = value.astype(np.float32)
    writer = gguf.GGUFWriter(str(out), arch)
    writer.add_type(gguf.GGUFType.ADAPTER)
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, float(config["lora_alpha"]))
    for base, pair in sorted(pairs.items()):
        target = names.get_name(base + ".weight", try_suffixes=(".weight",))
        if target is None or set(pair) != {"A", "B"}:
            raise TierlinkError(f"adapted module '{base}' has no llama.cpp tensor name or lacks its A/B pair")
        writer.add_tensor(f"{target}.lora_a", pair["A"])
        writer.add_tensor(f"{target}.lora_b", pair["B"])
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return out


def _arch_enum(name: str):  # type: ignore[no-untyped-def]
    import gguf

    for arch, arch_name in gguf.MODEL_ARCH_NAMES.items():
        if arch_name == name:
            return arch
    raise TierlinkError(f"the gguf library knows no architecture '{name}'")


def _field_text(reader, key: str) -> str:  # type: ignore[no-untyped-def]
    field = reader.fields.get(key)
    if field is None:
        raise TierlinkError(f"the base GGUF has no '{key}'")
    return str(field.contents())
