"""Talk to `tierlink serve` with the official openai client: one session, two turns, and what
each answer cost and where it came from.

    tierlink serve --config examples/gateway.yaml      # or just `tierlink serve` for the embedded default
    python examples/gateway_client.py [--base-url http://127.0.0.1:8000/v1] [--model tierlink-auto]
"""

from __future__ import annotations

import argparse
import os

from openai import OpenAI


def main(base_url: str, model: str) -> None:
    api = OpenAI(base_url=base_url, api_key=os.environ.get("TIERLINK_API_KEY", "no-key-needed-on-loopback"))
    print("models:", ", ".join(m.id for m in api.models.list()))
    history = [{"role": "user", "content": "In one sentence, what is a circuit breaker in networking?"}]
    for follow_up in (None, "Now say it in five words."):
        if follow_up:
            history.append({"role": "user", "content": follow_up})
        reply = api.chat.completions.create(model=model, messages=history, max_tokens=64,
                                            extra_headers={"X-Tierlink-Session": "example-session"})
        answer = reply.choices[0].message.content or ""
        history.append({"role": "assistant", "content": answer})
        info = reply.model_extra["tierlink"]
        print(f"\n{answer.strip()}\n  answered by {info['endpoint']} ({info['reason']}); "
              f"${info['usage']['dollars']:.6f} [{info['usage']['origin']}]; "
              f"session budget left ${info['budget_left']['session_dollars']}")
    print("\nstreaming:", end=" ", flush=True)
    for chunk in api.chat.completions.create(model=model, messages=[{"role": "user", "content": "Count to five."}],
                                             max_tokens=32, stream=True):
        if chunk.choices and chunk.choices[0].delta.content:
            print(chunk.choices[0].delta.content, end="", flush=True)
    print()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url", default="http://127.0.0.1:8000/v1")
    parser.add_argument("--model", default="tierlink-auto")
    args = parser.parse_args()
    main(args.base_url, args.model)
