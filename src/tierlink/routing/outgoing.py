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
from tierlink.trust.zones import ZoneRule, ZoneRules

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
    pseudonymiser: Pseudonymiser | None = None  # the conversation's tokens; set when any zone rule detects
    rules: ZoneRules | None = None  # what may go to each zone (None: everything, as written)

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
        messages, attachments, redacted = self._redacted(
            name, _with_placeholders(messages, left_out), tuple(request.attachments[i] for i in sent))
        outgoing = request.model_copy(update={"messages": messages, "attachments": attachments})
        return Outgoing(outgoing, sent, plan, redacted)

    def rule_for(self, name: str) -> ZoneRule | None:
        """The zone rule for sending to `name`; None where nothing is checked (its own zone, no rules)."""
        return None if self.rules is None else self.rules.rule_for(self.zones.get(name, "cloud"))

    def held_back(self, name: str, request: Request, history: tuple[Message, ...]) -> str | None:
        """Why this turn may not go to `name` at all (private content, or personal data for a
        zone whose rule refuses it); None if it may."""
        zone = self.zones.get(name, "cloud")
        refused = self.residency.text_refused(request, zone)
        if refused is not None:
            return refused
        rule = self.rule_for(name)
        if rule is None or rule.pii != "refuse" or self.pseudonymiser is None:
            return None
        texts = [m.content for m in (*history, *request.messages)] + [a.description for a in request.attachments]
        types = self.pseudonymiser.types_in(texts, rule.keep)
        return f"personal data ({', '.join(sorted(types))}) may not go to zone '{zone}'" if types else None

    def _redacted(self, name: str, messages: tuple[Message, ...], attachments: tuple[Attachment, ...]
                  ) -> tuple[tuple[Message, ...], tuple[Attachment, ...], dict[str, int]]:
        """Messages and attachments bound for a pseudonymising zone with their personal data as
        tokens (captions, and the contents of text files), and what was replaced."""
        rule = self.rule_for(name)
        if rule is None or rule.pii != "pseudonymise" or self.pseudonymiser is None:
            return messages, attachments, {}
        bodies = [text_body(a) for a in attachments]
        texts = [m.content for m in messages] + [a.description for a in attachments] + [b for b in bodies if b is not None]
        redacted, counts = self.pseudonymiser.redact_all(texts, rule.keep)
        out = [m if text == m.content else m.model_copy(update={"content": text})
               for m, text in zip(messages, redacted, strict=False)]
        captions, contents = iter(redacted[len(messages):]), iter(redacted[len(messages) + len(attachments):])
        files = []
        for attachment, body in zip(attachments, bodies, strict=True):
            update: dict[str, object] = {"description": next(captions)}
            if body is not None:
                data = next(contents).encode("utf-8")
                update |= {"data": data, "path": None, "size_bytes": len(data)}
            files.append(attachment.model_copy(update=update))
        return tuple(out), tuple(files), dict(counts)


TEXT_MIMES = ("text/", "application/json", "application/xml", "application/x-yaml", "application/csv")


def text_body(attachment: Attachment) -> str | None:
    """An attachment's contents as text, if it is a text file that reads as UTF-8 (what can be redacted)."""
    if not attachment.mime.startswith(TEXT_MIMES):
        return None
    content = attachment.content()
    if content is None:
        return None
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return None


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
