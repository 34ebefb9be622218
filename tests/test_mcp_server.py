"""`tierlink team serve-mcp` as a real subprocess, driven over stdio by the official MCP client."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.types import TextContent

# the smallest team that still talks: two agents on the embedded Gemma, one revision round
SERVE = [sys.executable, "-m", "tierlink.cli", "team", "serve-mcp"]
SMALL_TEAM = ["--agents", "2", "--rounds", "1", "--max-tokens", "4"]
ENV = {"HF_HUB_OFFLINE": "1", "RAY_USAGE_STATS_ENABLED": "0"}


def _error_text(result: object) -> str:
    content = getattr(result, "content", [])
    return " ".join(block.text for block in content if isinstance(block, TextContent))


@pytest.mark.model
@pytest.mark.timeout(120)
async def test_team_solve_over_stdio(tmp_path: Path) -> None:
    server = StdioServerParameters(command=SERVE[0], args=[*SERVE[1:], *SMALL_TEAM], env=ENV)
    log = tmp_path / "server.stderr"
    with log.open("w") as errlog:
        async with stdio_client(server, errlog=errlog) as (read, write), \
                ClientSession(read, write, read_timeout_seconds=90) as session:
            await session.initialize()

            tools = {tool.name: tool for tool in (await session.list_tools()).tools}
            assert "team_solve" in tools, log.read_text()
            tool = tools["team_solve"]
            assert tool.description and "team of 2" in tool.description
            assert tool.input_schema["required"] == ["question"]
            assert set(tool.input_schema["properties"]) == {"question", "gold"}
            assert tool.output_schema is not None and "model_tokens" in tool.output_schema["properties"]

            # a bad call is a tool error the model can read, and the server keeps serving
            missing = await session.call_tool("team_solve", {"gold": "yes"})
            assert missing.is_error and "question" in _error_text(missing)
            empty = await session.call_tool("team_solve", {"question": ""})
            assert empty.is_error and "question" in _error_text(empty)

            result = await session.call_tool("team_solve", {"question": "Is 17 a prime number? Answer yes or no.",
                                                            "gold": "yes"})
            assert not result.is_error, _error_text(result) + log.read_text()
            out = result.structured_content
            assert out is not None
            assert isinstance(out["answer"], str)
            assert out["correct"] in (True, False)  # graded because gold was given
            assert out["model_tokens"] > 0
            assert out["messages"] >= 0 and out["message_bytes"] >= 0
            assert out["rounds"] >= 0 and isinstance(out["stopped_because"], str)
            assert out["pattern"] == "debate" and out["topology"] == "full"


def test_bad_team_fails_before_serving() -> None:
    """A wrong option is a one-line error on stderr and exit code 2, not a hung stdio server."""
    done = subprocess.run([*SERVE, "--endpoints", "nope"], stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=60, env={**os.environ, **ENV}, check=False)
    assert done.returncode == 2, done.stderr
    assert "unknown endpoint 'nope'" in done.stderr and done.stdout == ""
