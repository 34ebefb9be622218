"""The device model as a trainable policy: a LoRA (peft) on the float32 checkpoint, sampling
groups of answers and scoring their log-likelihood (gradients through the device's tokens only)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from tierlink.core.messages import Message
from tierlink.endpoints.prompt_format import QA_STOPS, qa_transcript
from tierlink.routing.help_tag import HELP_TAG

# LLaMA GGUFs keep q/k permuted for rotary embeddings; these modules export to llama.cpp as they are
TARGET_MODULES = ("v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")

LOCAL_SYSTEM = "You are a careful assistant on a small device."
# the system turn that offers the help tag: trained with it, served with it (`self_route.json`)
HELP_SYSTEM = f"{LOCAL_SYSTEM} If you cannot work out the answer, reply only {HELP_TAG}"


class LoraSettings(BaseModel):
    """The adapter trained on the device model."""

    rank: int = Field(16, ge=1)
    alpha: float = Field(32.0, gt=0)
    dropout: float = Field(0.0, ge=0, lt=1)
    target_modules: tuple[str, ...] = TARGET_MODULES


@dataclass
class Samples:
    """G sampled answers per prompt: token ids (prompt + answer), which positions are the answer's, texts."""

    ids: Any  # LongTensor [n, length]
    answer_mask: Any  # BoolTensor [n, length]: True at the device's own tokens
    attention: Any  # LongTensor [n, length]
    texts: list[str]
    temperature: float = 1.0  # what they were sampled at: the policy whose log-likelihood is scored


class DevicePolicy:
    """The LoRA-wrapped device model and its tokenizer, in float32 on the CPU (or a GPU when lent)."""

    def __init__(self, checkpoint: Path, lora: LoraSettings, adapter: Path | None = None, seed: int = 0,
                 chat: bool = True) -> None:
        import torch
        from peft import LoraConfig, PeftModel, get_peft_model
        from transformers import AutoModelForCausalLM, AutoTokenizer

        torch.manual_seed(seed)
        self.chat = chat  # False: the Question/Answer transcript llama.cpp serves completion models with
        self.device = "cuda" if torch.cuda.is_available() else "cpu"
        self.tokenizer = AutoTokenizer.from_pretrained(checkpoint)
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        base = AutoModelForCausalLM.from_pretrained(checkpoint, dtype=torch.float32).to(self.device)
        if adapter is not None:
            self.model = PeftModel.from_pretrained(base, adapter, is_trainable=True)
        else:
            config = LoraConfig(r=lora.rank, lora_alpha=lora.alpha, lora_dropout=lora.dropout,
                                target_modules=list(lora.target_modules), task_type="CAUSAL_LM")
            self.model = get_peft_model(base, config)

    def prompt_text(self, user: str, system: str) -> str:
        """The chat-formatted prompt the device sees: the system turn, then the user's."""
        if not self.chat:
            return (self.tokenizer.bos_token or "") + qa_transcript((Message(role="system", content=system),
                                                                     Message(role="user", content=user)))
        messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        return self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)

    def sample(self, prompts: list[str], group: int, max_new_tokens: int, temperature: float = 1.0) -> Samples:
        """`group` answers per prompt (sampled; greedy at temperature 0), grouped consecutively."""
        import torch

        batch = self.tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(self.device)  # BOS is in the text
        self.model.eval()
        eos = self.tokenizer.eos_token_id
        stops = None if self.chat else list(QA_STOPS)  # where llama.cpp stops a completion model
        with torch.no_grad():
            sampling = {"do_sample": True, "temperature": temperature, "top_p": 1.0, "top_k": 0} if temperature > 0 else \
                {"do_sample": False, "temperature": None, "top_p": None, "top_k": None}
            out = self.model.generate(**batch, max_new_tokens=max_new_tokens, **sampling, num_return_sequences=group,
                                      pad_token_id=eos, stop_strings=stops, tokenizer=self.tokenizer if stops else None)
        answer = out[:, batch["input_ids"].shape[1]:]
        keep, texts = self._answer_ends(answer, stops)
        prompt_attention = batch["attention_mask"].repeat_interleave(group, dim=0)
        attention = torch.cat([prompt_attention, keep.long()], dim=1)
        mask = torch.cat([torch.zeros_like(prompt_attention, dtype=torch.bool), keep], dim=1)
        return Samples(ids=out, answer_mask=mask, attention=attention, texts=texts, temperature=temperature or 1.0)

    def _answer_ends(self, answer: Any, stops: list[str] | None) -> tuple[Any, list[str]]:
        """Which generated tokens were sampled (up to the first end token; the end token itself
        only if sampled, not padding after a stop string) and each answer's text as served."""
        import torch

        eos = self.tokenizer.eos_token_id
        ended = torch.cumsum((answer == eos).int(), dim=1)
        keep = (ended == 0) | ((ended == 1) & (answer == eos))
        texts = []
        for row in range(answer.shape[0]):
            before_end = self.tokenizer.decode(answer[row][ended[row] == 0], skip_special_tokens=False)
            cut = min((before_end.find(s) for s in stops or () if s in before_end), default=-1)
            if cut >= 0:  # stopped by a stop string: the end token after it is padding, not sampled
                keep[row] &= answer[row] != eos
                before_end = before_end[:cut]
            texts.append(self.tokenizer.decode(self.tokenizer(before_end, add_special_tokens=False)["input_ids"],
                                               skip_special_tokens=True).strip())
        return keep, texts

    def teacher_forced(self, prompts: list[str], answers: list[str]) -> Samples:
        """Prompts followed by given answers (and the end token), as Samples to score or fit."""
        import torch

        eos = self.tokenizer.eos_token or ""
        end = eos if self.chat else QA_STOPS[0]  # a completion model's answer ends where llama.cpp stops it
        lead = "" if self.chat else " "  # after 'Answer:' a completion model's answer starts with a space
        full = self.tokenizer([p + lead + a + end for p, a in zip(prompts, answers, strict=True)], return_tensors="pt",
                              padding=True, add_special_tokens=False).to(self.device)
        widths = [len(self.tokenizer(p, add_special_tokens=False)["input_ids"]) for p in prompts]
        attention = full["attention_mask"]
        pads = (attention == 0).sum(dim=1)
        columns = torch.arange(attention.shape[1], device=attention.device)[None, :]
        mask = (columns >= (pads + torch.tensor(widths, device=attention.device))[:, None]) & (attention == 1)
        return Samples(ids=full["input_ids"], answer_mask=mask, attention=attention, texts=list(answers))

    def log_likelihood(self, samples: Samples, rows: list[int]) -> Any:
        """Sum of the answer tokens' log-probabilities for the chosen rows, with gradients."""
        import torch

        self.model.train()
        ids, attention, mask = samples.ids[rows], samples.attention[rows], samples.answer_mask[rows]
        positions = (attention.cumsum(dim=1) - 1).clamp(min=0)  # as generate() numbers left-padded rows
        logits = self.model(input_ids=ids, attention_mask=attention, position_ids=positions).logits[:, :-1].float()
        logits = logits / samples.temperature  # the distribution the answers were sampled from
        token_logp = torch.log_softmax(logits, dim=-1).gather(-1, ids[:, 1:, None]).squeeze(-1)
        return (token_logp * mask[:, 1:]).sum(dim=1)

    def save(self, folder: Path) -> None:
        """The adapter alone (peft format: adapter_config.json + adapter_model.safetensors)."""
        self.model.save_pretrained(folder)

    def trainable_parameters(self) -> list[Any]:
        """The LoRA weights the optimiser updates."""
        return [p for p in self.model.parameters() if p.requires_grad]
