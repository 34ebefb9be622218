"""End to end: a few RL steps on the embedded device model, the adapter exported to GGUF and
served by llama.cpp, where it changes the answers exactly as it does in torch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tierlink.endpoints.model_catalogue import DEFAULT_MODEL, model_catalogue
from tierlink.endpoints.model_files import gguf_path
from tierlink.learn.self_routing.config import SelfTrainConfig
from tierlink.learn.self_routing.lora_gguf import export_lora
from tierlink.learn.self_routing.policy_model import HELP_SYSTEM, LoraSettings
from tierlink.learn.self_routing.tasks import split_items
from tierlink.learn.self_routing.trainer import ADAPTER_DIR, STATE_FILE, SelfTrainer
from tierlink.learn.self_routing.weights import trainable_checkpoint

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def checkpoint() -> Path:
    return trainable_checkpoint(DEFAULT_MODEL)


def test_a_short_run_trains_checkpoints_and_resumes(checkpoint: Path, tmp_path: Path) -> None:
    train, _ = split_items(40, seed=5)
    cloud = {item.prompt_id: item.level >= 3 for item in train}  # a cloud that is right on the hard half
    config = SelfTrainConfig(device=DEFAULT_MODEL, steps=2, group=2, prompts_per_step=2, max_new_tokens=6,
                             checkpoint_every=1, learning_rate=1e-3, warmup_steps=1)
    logs = SelfTrainer(config, checkpoint, train, cloud, tmp_path).run()
    assert [log.step for log in logs] == [1, 2] and (tmp_path / ADAPTER_DIR / "adapter_config.json").is_file()
    assert all(0 <= log.call_rate <= 1 and log.answerable + log.ask_worthy + log.dropped == 2 for log in logs)
    longer = config.model_copy(update={"steps": 3})
    with pytest.raises(Exception, match="other settings"):
        SelfTrainer(longer, checkpoint, train, cloud, tmp_path)  # a different run in the same folder is refused
    resumed = SelfTrainer(config, checkpoint, train, cloud, tmp_path)
    assert resumed.step == 2 and resumed.run() == []  # already done: resumes at the end, nothing to redo
    assert '"step": 2' in (tmp_path / STATE_FILE).read_text()


def test_the_exported_adapter_moves_llama_cpp_as_it_moves_torch(checkpoint: Path, tmp_path: Path) -> None:
    """A LoRA with large random weights, exported and loaded by llama.cpp: the shift it causes in
    the next-token log-probabilities matches the shift in torch (the export is faithful)."""
    import torch

    from tierlink.learn.self_routing.policy_model import DevicePolicy

    policy = DevicePolicy(checkpoint, LoraSettings(rank=4, alpha=8), chat=model_catalogue()[DEFAULT_MODEL].prompt_format == "chat")
    prompt = policy.prompt_text("What is 12 + 7? Answer with the number only.", HELP_SYSTEM)
    ids = policy.tokenizer(prompt, return_tensors="pt", add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        before = torch.log_softmax(policy.model(input_ids=ids).logits[0, -1], -1)
        for name, weight in policy.model.named_parameters():
            if "lora_B" in name:
                weight.copy_(torch.randn_like(weight) * 0.05)
        after = torch.log_softmax(policy.model(input_ids=ids).logits[0, -1], -1)
    policy.save(tmp_path / "adapter")
    gguf = export_lora(tmp_path / "adapter", gguf_path(model_catalogue()[DEFAULT_MODEL]), tmp_path / "adapter.gguf")
    base = _llama_logprobs(None, ids[0].tolist())
    adapted = _llama_logprobs(gguf, ids[0].tolist())
    torch_shift, llama_shift = (after - before).numpy(), adapted - base
    top = np.argsort(-before.numpy())[:200]  # where the probability mass is
    assert np.abs(torch_shift[top]).mean() > 0.5  # the random adapter does move the model
    assert np.corrcoef(torch_shift[top], llama_shift[top])[0, 1] > 0.9


def _llama_logprobs(adapter: Path | None, tokens: list[int]) -> np.ndarray:
    import llama_cpp

    from tierlink.endpoints.llamacpp_host import safe_weight_buffers

    with safe_weight_buffers():  # an AMX build crashes on some hosts otherwise (llama.cpp#20824)
        llm = llama_cpp.Llama(model_path=str(gguf_path(model_catalogue()[DEFAULT_MODEL])), n_ctx=512, logits_all=True,
                              lora_path=str(adapter) if adapter else None, verbose=False, n_threads=1)
    llm.eval(tokens)
    logits = np.asarray(llm.scores[llm.n_tokens - 1], dtype=np.float64)
    return logits - np.log(np.exp(logits - logits.max()).sum()) - logits.max()


def test_teacher_forcing_scores_exactly_the_answer_tokens(checkpoint: Path) -> None:
    """The warm-up's targets: only the answer (and where the model stops) carries gradient, not
    the prompt or the padding, whatever the lengths in the batch."""
    from tierlink.endpoints.prompt_format import QA_STOPS
    from tierlink.learn.self_routing.policy_model import DevicePolicy

    policy = DevicePolicy(checkpoint, LoraSettings(rank=2), chat=False)
    prompts = [policy.prompt_text("What is 1 + 1?", HELP_SYSTEM), policy.prompt_text("What is 12345 + 67890? Think.", HELP_SYSTEM)]
    answers = ["2", "<unknown> I need external assistance </unknown>"]
    forced = policy.teacher_forced(prompts, answers)
    expected = [len(policy.tokenizer(p + " " + a + QA_STOPS[0], add_special_tokens=False)["input_ids"])
                - len(policy.tokenizer(p, add_special_tokens=False)["input_ids"]) for p, a in zip(prompts, answers)]
    assert forced.answer_mask.sum(dim=1).tolist() == expected
    assert not forced.answer_mask[forced.attention == 0].any()
    first = int(forced.answer_mask[0].nonzero()[0])  # the first scored token is the answer's first
    assert policy.tokenizer.decode(forced.ids[0, first:]).strip().startswith("2")
