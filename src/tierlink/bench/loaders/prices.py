"""List prices ($ per million tokens) used to put a dollar figure on datasets that record none.

Every entry names its source. Two sources are data files that travel with the raw datasets:
  - RouterArena `model_cost/cost.json` (github.com/RouteWorks/RouterArena, commit 4714a9a),
    shipped in tierlink/data/outcomes/routerarena/model_cost/cost.json;
  - LLMRouter `data/example_data/llm_candidates/default_llm.json` (NVIDIA NIM prices,
    github.com/ulab-uiuc/LLMRouter, commit 4e7a796), read by the llmrouter loader itself.
The others are the providers' published 2024 list prices (the period the outcomes were recorded):
  - OpenAI https://openai.com/api/pricing ; Anthropic https://www.anthropic.com/pricing ;
  - Google https://ai.google.dev/pricing (Gemini 1.5 after the Oct-2024 cut, prompts <=128k) ;
  - DeepSeek https://platform.deepseek.com/api-docs/pricing (2024: 1 CNY in / 2 CNY out per M) ;
  - Cohere https://cohere.com/pricing (Command R / R+ 2024 releases) ;
  - Together AI https://www.together.ai/pricing (Mixtral-8x7B-Instruct $0.60 per M in and out).
Models with no public per-token price (research models, free experimental endpoints, or ones we
could not source) are absent: their cost_usd is NaN, never a guess.
"""

from __future__ import annotations

from typing import NamedTuple


class Price(NamedTuple):
    """Dollars per million input and output tokens, and where the numbers come from."""

    input_per_m: float
    output_per_m: float
    source: str


ROUTERARENA = "RouterArena model_cost/cost.json"
OPENAI = "openai.com/api/pricing (2024)"
ANTHROPIC = "anthropic.com/pricing (2024)"
GOOGLE = "ai.google.dev/pricing (Oct 2024)"
DEEPSEEK = "DeepSeek API pricing (2024)"
COHERE = "cohere.com/pricing (2024)"
TOGETHER = "together.ai/pricing (2024)"
NVIDIA_NIM = "LLMRouter default_llm.json (NVIDIA NIM)"

# RouteLLM's pair. gpt-4-1106-preview: OpenAI $10/$30 (also RouterArena cost.json);
# Mixtral-8x7B-Instruct as hosted by Together $0.60/$0.60 (also RouterArena cost.json
# 'mistralai/mixtral-8x7b-instruct').
ROUTELLM: dict[str, Price] = {
    "gpt-4-1106-preview": Price(10.0, 30.0, OPENAI),
    "mistralai/Mixtral-8x7B-Instruct-v0.1": Price(0.60, 0.60, TOGETHER),
}

# ZeroEval GSM8K models (column names of correct_matrix.csv). 28 of 42 priced; absent ones
# (cost NaN): Athene-70B, Phi-3.5-mini-instruct, Qwen2-7B/72B-Instruct, Yi-1.5-9B/34B-Chat,
# gemma-2-2b-it, gemma-2-27b-it@together, gemini-1.5-flash-exp-0827, gemini-1.5-pro-exp-0801,
# reka-core-20240501, reka-flash-20240226, yi-large, yi-large-preview.
ZEROEVAL: dict[str, Price] = {
    # OpenAI
    "gpt-4o-2024-08-06": Price(2.50, 10.0, ROUTERARENA + " 'gpt-4o'; " + OPENAI),
    "gpt-4o-2024-05-13": Price(5.0, 15.0, OPENAI),
    "gpt-4o-mini-2024-07-18": Price(0.15, 0.60, ROUTERARENA + " 'gpt-4o-mini'; " + OPENAI),
    "gpt-3.5-turbo-0125": Price(0.50, 1.50, OPENAI),
    # o1-mini launch price; its hidden reasoning tokens are billed but not in the output text,
    # so the estimated cost is a lower bound.
    "o1-mini-2024-09-12": Price(3.0, 12.0, OPENAI),
    # Anthropic
    "claude-3-5-sonnet-20240620": Price(3.0, 15.0, ROUTERARENA + " 'anthropic/claude-3.5-sonnet'"),
    "claude-3-haiku-20240307": Price(0.25, 1.25, ROUTERARENA),
    "claude-3-opus-20240229": Price(15.0, 75.0, ANTHROPIC),
    "claude-3-sonnet-20240229": Price(3.0, 15.0, ANTHROPIC),
    # Google
    "gemini-1.5-pro": Price(1.25, 5.0, GOOGLE),
    "gemini-1.5-flash": Price(0.075, 0.30, GOOGLE),
    "gemma-2-9b-it": Price(0.10, 0.10, NVIDIA_NIM),
    # Mistral
    "Mistral-Large-2": Price(2.0, 6.0, ROUTERARENA + " 'mistral-large-latest'"),
    "Mistral-Nemo-Instruct-2407": Price(0.15, 0.15, ROUTERARENA + " 'open-mistral-nemo'"),
    "Mixtral-8x7B-Instruct-v0.1": Price(
        0.60, 0.60, ROUTERARENA + " 'mistralai/mixtral-8x7b-instruct'"
    ),
    # Meta Llama (hosted prices; the 405B entries share one price whatever the provider)
    "Meta-Llama-3-8B-Instruct": Price(
        0.10, 0.10, ROUTERARENA + " 'meta-llama/llama-3-8b-instruct'"
    ),
    "Meta-Llama-3-70B-Instruct": Price(
        0.88, 0.88, ROUTERARENA + " 'meta-llama/Llama-3-70b-chat-hf'"
    ),
    "Meta-Llama-3.1-8B-Instruct": Price(0.22, 0.22, ROUTERARENA + " 'llama-3-1-8b-instruct'"),
    "Meta-Llama-3.1-70B-Instruct": Price(
        0.88, 0.88, ROUTERARENA + " 'meta-llama/Meta-Llama-3.1-70B-Instruct-Turbo'"
    ),
    "Llama-3.1-405B-Instruct-Turbo": Price(2.40, 2.40, ROUTERARENA + " 'llama-3-1-405b-instruct'"),
    "Llama-3.1-405B-Inst@sambanova": Price(2.40, 2.40, ROUTERARENA + " 'llama-3-1-405b-instruct'"),
    "Meta-Llama-3.1-405B-Instruct@hyperbolic": Price(
        2.40, 2.40, ROUTERARENA + " 'llama-3-1-405b-instruct'"
    ),
    # DeepSeek API (deepseek-chat and deepseek-coder shared one price in 2024)
    "deepseek-chat": Price(0.14, 0.28, DEEPSEEK),
    "deepseek-coder": Price(0.14, 0.28, DEEPSEEK),
    "DeepSeek-Coder-V2-0724": Price(0.14, 0.28, DEEPSEEK),
    "deepseek-v2.5-0908": Price(0.14, 0.28, DEEPSEEK),
    # Cohere (command-r = 03-2024 release, command-r-plus = 04-2024 release)
    "command-r": Price(0.50, 1.50, COHERE),
    "command-r-plus": Price(3.0, 15.0, COHERE),
}
