"""The YAML configuration: nodes, links and endpoints, validated by pydantic.

Field-level rules live here; rules that need the whole file (references between sections,
files on disk, reachability) live in `checks.py`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator

from tierlink.core.budget import Budget
from tierlink.endpoints.profile import EndpointProfile, Tier
from tierlink.network.availability import Outage
from tierlink.trust.zones import PiiAction, ZoneRule, ZoneRules, known_entities, yaml_off

# the cascade's cut for a device without calibrated thresholds (a model file of your own)
HAND_SET_CASCADE: dict[str, float | int | str | bool | None] = {"min_logprob": -0.35}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NodeConfig(_Strict):
    """A node's tier and privacy zone (an empty zone means the tier name)."""

    tier: Tier
    zone: str = ""


class LinkConfig(_Strict):
    """A link between two nodes; `profile` fills any figure not given here."""

    a: str
    b: str
    profile: str = "wifi"
    up_mbps: float | None = Field(None, gt=0)
    down_mbps: float | None = Field(None, gt=0)
    rtt_ms: float | None = Field(None, ge=0)
    loss: float | None = Field(None, ge=0, lt=1)
    outages: tuple[Outage, ...] = ()


class _EndpointBase(_Strict):
    node: str
    profile: str | EndpointProfile = Field(
        description="A registry name, or a full inline profile for hardware not in the registry."
    )
    max_concurrency: int | None = Field(None, ge=1, description=(
        "Gateway: calls at once; default 1 for in-process llama.cpp (it answers one at a time), unbounded otherwise."))
    max_queue: int = Field(4, ge=0, description="Gateway: calls that may wait for a slot; one more is turned away at once.")


class LlamaCppConfig(_EndpointBase):
    """An in-process llama.cpp endpoint: a catalogue model or a GGUF file of your own."""

    kind: Literal["llamacpp"]
    profile: str | EndpointProfile | None = Field(  # type: ignore[assignment]
        None, description="A registry name or an inline profile; default: the catalogue model's own profile.")
    model: str | None = Field(None, description="Catalogue model (`tierlink models`); default: gemma-3-270m.")
    model_path: Path | None = Field(None, description="A GGUF file of your own, instead of `model`.")
    prompt_format: Literal["completion", "chat"] | None = Field(
        None, description="'chat' applies the GGUF's chat template; default: the catalogue model's (completion for a file).")
    chat_format: str | None = Field(None, description="llama.cpp chat format for 'chat'.")
    n_ctx: int = Field(2048, gt=0)
    n_threads: int | None = Field(None, gt=0, description="llama.cpp threads; default: one per two cores.")
    seed: int = 0
    adapter: Path | None = Field(None, description="A LoRA adapter GGUF applied to the model (`tierlink route self-train` writes one).")
    system: str | None = Field(None, description="A system turn for requests that bring none (the one an adapter was trained with).")


class OpenAIConfig(_EndpointBase):
    """An endpoint behind an OpenAI-compatible API; its key is read from `api_key_env`."""

    kind: Literal["openai"]
    base_url: HttpUrl
    model: str
    api_key_env: str = "OPENAI_API_KEY"
    timeout_s: float = Field(60.0, gt=0)
    max_retries: int = Field(2, ge=0, le=10)
    max_retry_wait_s: float = Field(30.0, ge=0)
    first_chunk_timeout_s: float | None = Field(None, gt=0, description="A stream with no first chunk by then is stalled.")


class ReplayConfig(_EndpointBase):
    """An endpoint that answers with `model`'s recorded responses from an outcome table."""

    kind: Literal["replay"]
    outcomes: str = Field(description="'builtin:routerarena_mcq' or the path of a canonical CSV.")
    model: str


# The endpoint kinds, by the `kind:` each is written with: the one list that the schema's union,
# the builders (config/build.py) and the error messages (config/errors.py) all read.
ENDPOINT_KINDS: dict[str, type[_EndpointBase]] = {"llamacpp": LlamaCppConfig, "openai": OpenAIConfig, "replay": ReplayConfig}
EndpointConfig = Annotated[
    LlamaCppConfig | OpenAIConfig | ReplayConfig, Field(discriminator="kind")
]


class PolicyConfig(_Strict):
    """Which routing policy decides each turn, and its parameters."""

    name: str = "cascade"
    params: dict[str, float | int | str | bool | None] = {}


class BreakerConfig(_Strict):
    """Circuit breaker per endpoint (gateway)."""

    failures_to_open: int = Field(3, ge=1, description="Consecutive failures that open the circuit.")
    reset_after_s: float = Field(30.0, ge=0, description="Seconds open before one probe call is let through.")


class ServeConfig(_Strict):
    """`tierlink serve`: the OpenAI-compatible gateway."""

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    database: Path = Field(Path("tierlink-gateway.sqlite3"), description="SQLite file for keys, sessions and spend.")
    session_dollars: float | None = Field(None, ge=0, description="Dollars one session id may spend; default: budget.dollars.")
    request_latency_s: float | None = Field(None, gt=0, description="Latency cap per request; default: budget.latency_s.")
    fallback: tuple[str, ...] | None = Field(None, description="Endpoints to try in order when one fails; default: by tier, cloud, edge, device.")
    breaker: BreakerConfig = BreakerConfig()
    learned_model: Path | None = Field(None, description="Router directory for model 'tierlink-learned' (route train --out).")
    stream_upstream: bool = Field(True, description="Call endpoints by streaming, so first-chunk timeouts and broken streams are caught.")
    stream: Literal["live", "buffered"] = Field("live", description=(
        "Streamed requests: 'live' forwards pieces as they arrive (a failure before the first piece still "
        "falls back; one after it ends the stream with an error event); 'buffered' sends the answer once "
        "complete, so any failure can fall back."))
    drain_timeout_s: float = Field(30.0, ge=0, description="On shutdown, seconds to let requests in flight finish.")
    admin_key_env: str = Field("TIERLINK_ADMIN_KEY", min_length=1, description=(
        "Environment variable holding the key of the admin routes (/admin/endpoints: endpoints join and leave "
        "at run time); unset or empty: those routes answer 403."))


class TrustConfig(_Strict):
    """What may leave the device's privacy zone, for each zone it may go to."""

    pii: PiiAction = Field("off", description=(
        "For zones without a rule under `zones`: 'off' sends text as written; 'pseudonymise': personal data "
        "(emails, phones, cards, IBANs, SSNs, IPs, dates, names, addresses) leaves as tokens (<PERSON_1>) and "
        "the answer is restored on the device; 'refuse': a turn carrying personal data is not sent there."))
    keep: frozenset[str] = Field(frozenset(), description="Entity types the default rule lets go in clear (e.g. DATE_TIME).")
    zones: dict[str, ZoneRule] = Field({}, description=(
        "A rule per zone (a node's `zone`, else its tier): {pii: off|pseudonymise|refuse, keep: [...], private: true|false}."))

    _off = field_validator("pii", mode="before")(yaml_off)
    _known = field_validator("keep")(known_entities)

    def rules(self, device_zone: str) -> ZoneRules:
        """The deployment's rule set, seen from the device's zone."""
        return ZoneRules(device_zone=device_zone, default=ZoneRule(pii=self.pii, keep=self.keep), zones=self.zones)


class TierlinkConfig(_Strict):
    """A whole deployment: where models run, how nodes connect, which endpoint is 'the device'."""

    nodes: dict[str, NodeConfig]
    links: dict[str, LinkConfig] = {}
    endpoints: dict[str, EndpointConfig]
    device: str | None = Field(None, description="Endpoint the user talks to; default: first device-tier one.")
    mode: Literal["live", "simulated"] = "live"
    policy: PolicyConfig = PolicyConfig(params=HAND_SET_CASCADE)
    budget: Budget = Budget(latency_s=30.0, dollars=0.05)
    serve: ServeConfig = ServeConfig()
    trust: TrustConfig = TrustConfig()
