"""`python -m tierlink.endpoints.llama_server ARGS`: llama-cpp-python's OpenAI-compatible server
(same arguments), loading its model as tierlink's own endpoints do, so an AMX build does not
crash on hosts hit by llama.cpp#20824 (see `llamacpp_host`)."""

from __future__ import annotations

from tierlink.endpoints.llamacpp_host import safe_weight_buffers


def main() -> None:
    """Run llama_cpp.server's main with its model loads made safe."""
    from llama_cpp.server.__main__ import main as serve

    with safe_weight_buffers():
        serve()


if __name__ == "__main__":
    main()
