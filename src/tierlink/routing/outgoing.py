"""What is sent to an endpoint: the history plan chosen once, then the attachments residency,
modality and the upload selector allow."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from tierlink.context.history import HistoryPlan, plan_messages
from tierlink.core.messages import Attachment, Message, Request
from tierlink.endpoints.base import Endpoint
from tierlink.network.link import Link
from tierlink.network.linked_endpoint import LinkedEndpoint
from tierlink.routing.modality import AttachmentSelector
from tierlink.routing.relevance import RelevanceScorer
from tierlink.routing.residency import Residency
from tierlink.routing.state import Action
from tierlink.trust.pseudonyms import Pseudonymiser

MODALITY_OF = {"image": "image", "document": "document", "audio": "audio", "sensor": "sensor"}


@dataclass(frozen=True)
class Outgoing:
    """A request as it goes to one endpoint, with the attachment indices and plan it used."""

    request: Request
    sent: tuple[int, ...]
    plan: HistoryPlan
    redacted: dict[str, int] = field(default_factory=dict)  # personal data replaced, by type (never values)


@dataclass(frozen=True)
class Preparer:
    """The rules that shape an outgoing request; the session holds one."""

    residency: Residency
    selector: AttachmentSelector
    zones: Mapping[str, str]
    device: str
    history_plan: HistoryPlan  # the default plan for remote endpoints
    device_history: HistoryPlan  # the device's default (it holds the conversation already)
    scorer: Callable[[], RelevanceScorer]  # loads the embedding model only when needed
    pseudonymiser: Pseudonymiser | None = None  # set: personal data leaves the device's zone as tokens

    def plan_for(self, name: str, action: Action) -> HistoryPlan:
        """The action's plan, else the default for the device or for a remote endpoint."""
        if action.history is not None:
            return action.history
        return self.device_history if name == self.device else self.history_plan

    def prepare(self, name: str, endpoint: Endpoint, request: Request, action: Action,
                history: tuple[Message, ...], summary: str | None) -> Outgoing:
        """The request as sent to `name`: planned history, permitted attachments only."""
        plan = self.plan_for(name, action)
        messages = plan_messages(history, request.messages, plan, summary)
        zone = self.zones.get(name, "cloud")
        offered = range(len(request.attachments)) if action.attachments is None else action.attachments
        allowed = tuple(
            i for i in offered
            if 0 <= i < len(request.attachments)
            and modality_ok(request.attachments[i], endpoint)
            and self.residency.attachment_allowed(request.attachments[i], request, zone)
        )
        sent = allowed
        if action.attachments is None and name != self.device and allowed:
            sent = self.selector.select(request.last_user_text, request.attachments, allowed,
                                        endpoint.profile, link_of(endpoint), self.scorer()).chosen
        left_out = [a for i, a in enumerate(request.attachments) if i not in sent]
        messages, redacted = self._redacted(name, _with_placeholders(messages, left_out))
        outgoing = request.model_copy(update={"messages": messages, "attachments": tuple(request.attachments[i] for i in sent)})
        return Outgoing(outgoing, sent, plan, redacted)

    def _redacted(self, name: str, messages: tuple[Message, ...]) -> tuple[tuple[Message, ...], dict[str, int]]:
        """Messages bound for another zone with their personal data as tokens, and what was replaced."""
        if self.pseudonymiser is None or self.zones.get(name) == self.zones.get(self.device):
            return messages, {}
        texts, counts = self.pseudonymiser.redact_all([m.content for m in messages])
        out = [m if text == m.content else m.model_copy(update={"content": text}) for m, text in zip(messages, texts, strict=True)]
        return tuple(out), dict(counts)


def _with_placeholders(messages: tuple[Message, ...], left_out: list[Attachment]) -> tuple[Message, ...]:
    """The user's turn with a line per attachment it does not carry: the caption, so the model
    knows what the user sent (a private one only as withheld: its caption may not leave either)."""
    if not left_out or not messages:
        return messages
    notes = [f"[{a.kind} withheld: private]" if a.private else a.placeholder() for a in left_out]
    last = messages[-1]
    return (*messages[:-1], last.model_copy(update={"content": "\n".join([last.content, *notes])}))


def link_of(endpoint: Endpoint) -> Link | None:
    """The link an endpoint is reached over; None for in-process ones (the device)."""
    return endpoint.link if isinstance(endpoint, LinkedEndpoint) else None


def modality_ok(attachment: Attachment, endpoint: Endpoint) -> bool:
    """Can the endpoint read this attachment's kind? Unreadable ones are never sent."""
    return MODALITY_OF[attachment.kind] in endpoint.profile.modalities
