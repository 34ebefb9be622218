"""Add an endpoint to a running `tierlink serve`, route one request to it, and remove it again,
through the admin routes (the admin key is the value of TIERLINK_ADMIN_KEY when the gateway started).

    export TIERLINK_ADMIN_KEY=$(openssl rand -hex 16)
    tierlink serve &                                     # the embedded default, on 127.0.0.1:8000
    python -m tierlink.endpoints.llama_server --model MODEL.gguf --port 8081 &   # any OpenAI-compatible server
    python examples/membership.py --upstream http://127.0.0.1:8081/v1 --model MODEL
"""

from __future__ import annotations

import argparse
import os

import httpx
from openai import OpenAI


def main(gateway: str, upstream: str, model: str) -> None:
    admin = {"Authorization": f"Bearer {os.environ['TIERLINK_ADMIN_KEY']}"}
    member = {
        "name": "newcomer",
        "endpoint": {"kind": "openai", "node": "device", "base_url": upstream, "model": model,
                     "profile": "laptop-cpu/gemma3-270m-q4", "api_key_env": "NO_KEY_NEEDED"},
        "probes": [{"question": "What is 2 + 3? Answer with a number.", "answer": "5"},
                   {"question": "What is the capital of France? Answer with one word.", "answer": "Paris"}],
    }
    joined = httpx.post(f"{gateway}/admin/endpoints", json=member, headers=admin, timeout=120)
    print(joined.status_code, joined.json())
    joined.raise_for_status()
    api = OpenAI(base_url=f"{gateway}/v1", api_key=os.environ.get("TIERLINK_API_KEY", "no-key-needed-on-loopback"))
    reply = api.chat.completions.with_raw_response.create(model="newcomer", messages=[{"role": "user", "content": "Say hi."}])
    print("answered by", reply.headers["x-tierlink-endpoint"], "->", reply.parse().choices[0].message.content)
    left = httpx.delete(f"{gateway}/admin/endpoints/newcomer", headers=admin, timeout=30)
    print(left.status_code, left.json())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gateway", default="http://127.0.0.1:8000")
    parser.add_argument("--upstream", required=True, help="the new endpoint's OpenAI-compatible base URL")
    parser.add_argument("--model", default="gemma-server", help="the model name the upstream serves")
    args = parser.parse_args()
    main(args.gateway, args.upstream, args.model)
