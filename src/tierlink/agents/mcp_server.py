"""A tierlink team as one MCP tool, so any MCP client (an IDE, an assistant) can ask the team.

The server (official `mcp` SDK v2, `MCPServer`) offers one tool, `team_solve`: it takes a
`question` (and optionally a `gold` answer to grade against), runs the team once on it with a
fresh ledger, and returns the team's answer with what it cost as structured output: rounds,
why it stopped, model tokens and dollars, messages, message tokens and bytes, link seconds,
wall seconds and notes. The team is built once when the server starts; models still load on
the first call.

Usage: `tierlink team serve-mcp` serves the embedded device model as a three-agent debate over
stdio; it takes the team options of `tierlink team run` (`--pattern`, `--topology`, `--agents`,
`--rounds`, `--endpoints`, `--lead`, `--history`, `--judge`, `--consensus`, `--max-tokens`,
`--config`). Register it with an MCP client as a stdio server whose command is
`tierlink team serve-mcp --agents 3 --rounds 1`, then call the tool `team_solve` with
`{"question": "Is 17 prime? Answer yes or no."}`. From Python, `serve(spec, deployment)` does
the same for any `TeamSpec` and deployment, and `create_server` returns the server unstarted.
"""

from __future__ import annotations

import itertools
from typing import Annotated

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field

from tierlink.agents.result import Task
from tierlink.agents.runner import TeamSpec, build_team, run_task
from tierlink.config.build import Deployment, build_deployment
from tierlink.config.load import default_config
from tierlink.core.errors import TierlinkError
from tierlink.core.ledger import Ledger

TOOL_NAME = "team_solve"


class TeamSolveResult(BaseModel):
    """The tool's structured output: `TeamResult.summary()` without the generated task id."""

    answer: str = Field(description="the team's final answer")
    correct: bool | None = Field(description="whether the answer matches gold; null without gold")
    pattern: str
    topology: str
    rounds: int = Field(description="rounds (debate) or steps (hierarchical) actually run")
    stopped_because: str
    model_tokens: int = Field(description="input plus output tokens of every model call")
    model_dollars: float
    messages: int = Field(description="messages sent between agents")
    message_tokens: int
    message_bytes: int
    link_seconds: float = Field(description="simulated time the messages spent on links")
    wall_s: float
    notes: list[str]


def _description(spec: TeamSpec) -> str:
    effort = {"debate": f", up to {spec.rounds} revision round(s)",
              "hierarchical": f", up to {max(1, spec.rounds)} step(s)"}
    return (f"Ask a team of {spec.agents} LLM agents ({spec.pattern} over a {spec.topology} topology"
            f"{effort.get(spec.pattern, '')}) one question. Returns the team's answer and what it cost: "
            "model tokens and dollars, messages between agents with their tokens and bytes, "
            "simulated link seconds and wall seconds. Give `gold` to have the answer graded.")


def create_server(spec: TeamSpec, deployment: Deployment) -> MCPServer:
    """An MCP server whose `team_solve` tool runs this team; nothing loads until the first call.

    Raises `ConfigError` now (not on the first call) when the spec names unknown endpoints.
    """
    team, topology = build_team(spec, deployment)
    task_ids = itertools.count(1)  # per server: ids only tell calls apart in logs and ledgers
    server = MCPServer("tierlink-team", instructions=_description(spec))

    async def team_solve(
        question: Annotated[str, Field(min_length=1, description="the task for the team")],
        gold: Annotated[str | None, Field(description="the correct answer, to grade the team's")] = None,
    ) -> TeamSolveResult:
        task = Task(id=f"mcp-{next(task_ids)}", question=question, gold=gold)
        try:
            result = await run_task(spec, team, topology, task, Ledger())  # each call's own traffic
        except TierlinkError as exc:  # an endpoint or config failure the caller should read
            raise ToolError(str(exc)) from exc
        return TeamSolveResult.model_validate(result.summary())

    server.add_tool(team_solve, name=TOOL_NAME, title="Ask a tierlink agent team", description=_description(spec))
    return server


def serve(spec: TeamSpec, deployment: Deployment) -> None:
    """Serve the team over stdio until the client closes the connection; then close endpoints."""
    server = create_server(spec, deployment)

    async def run() -> None:
        try:
            await server.run_stdio_async()
        finally:
            await deployment.aclose()

    anyio.run(run)


def main() -> None:
    """`python -m tierlink.agents.mcp_server`: the default team on the embedded device model."""
    serve(TeamSpec(), build_deployment(default_config()))


if __name__ == "__main__":
    main()
