"""Learn the endpoint table from a HAR: the calls DeskDirector's own portal or TECH made while an
operator clicked through it, matched to ddsite's operations by method, path shape and reply shape.

Only methods and paths leave this module: request headers, cookies, query strings and bodies are
read to recognise a call and are never copied into the result.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from . import recognise
from .endpoints import DEFAULT_ENDPOINTS, Endpoint
from .faces import SORTS
from .models import TicketSummary
from .signing_keys import parse_keys

OPERATIONS = {
    "portal": ("portal.me", "portal.tickets", "portal.ticket", "portal.add_note",
               "portal.create_ticket", "portal.request_types", "portal.priorities", "public_keys"),
    "tech": ("tech.me", "tech.tickets", "tech.ticket", "tech.update_ticket", "tech.add_note",
             "tech.statuses", "tech.priorities", "tech.agents", "public_keys"),
}
# What to do in DeskDirector so the next recording holds the operation.
HOW_TO_RECORD = {
    "me": "reload the page while recording",
    "tickets": "open the ticket list",
    "ticket": "open a ticket",
    "add_note": "add a reply (or a note)",
    "create_ticket": "raise a new request",
    "update_ticket": "change a ticket's status",
    "request_types": "open the new request form",
    "priorities": "open a form with a priority",
    "statuses": "open a ticket's status choices",
    "agents": "open a ticket's assignee choices",
    "public_keys": "(DeskDirector's own pages may never fetch it; ddsite then uses who-am-I alone)",
}
# Words in a look-up list's path that say which list it is.
_LOOKUP_WORDS = {
    "statuses": ("status",),
    "priorities": ("priorit",),
    "agents": ("agent", "member", "assignee", "technician"),
    "request_types": ("requesttype", "request-type", "request_type", "servicetype",
                      "service-type", "service_type", "servicecatalog", "type"),
}
_JWT = re.compile(r"eyJ[\w-]*\.[\w-]+")
# Query parameters that page a list, by the placeholder they fill, and those that sort it.
_PAGING = {"skip": "skip", "offset": "skip", "take": "take", "limit": "take", "top": "take"}
_SORT_PARAMETERS = ("orderBy", "sort", "sortBy")


class HarError(ValueError):
    """The file cannot be used; the message says why and what to do."""


@dataclass(frozen=True)
class Call:
    """One recorded call: what was asked and what came back (bodies decoded, nothing else kept)."""

    method: str
    origin: str
    path: str
    status: int
    reply: Any
    body: Any
    query: tuple[tuple[str, str], ...] = ()


@dataclass
class Matching:
    """What the HAR taught: operations matched, operations not seen, calls not recognised."""

    audience: str
    audience_source: str
    dialect: str
    calls: int
    json_calls: int
    origins: list[str]
    matched: dict[str, Endpoint] = field(default_factory=dict)
    seen: dict[str, int] = field(default_factory=dict)
    alternatives: dict[str, list[Endpoint]] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    unrecognised: list[str] = field(default_factory=list)

    def overrides(self) -> dict[str, str]:
        """The endpoints file's content: the dialect, and name → "METHOD /path"."""
        return {"dialect": self.dialect,
                **{name: f"{ep.method} {ep.path}" for name, ep in sorted(self.matched.items())}}


def read_har(text: str) -> list[Call]:
    """The calls of a HAR 1.2 file (as browsers' developer tools save it)."""
    try:
        har = json.loads(text)
    except ValueError:
        raise HarError("this is not a HAR file (a HAR is JSON; in the browser's developer "
                       "tools, Network tab, use “Save all as HAR”)") from None
    entries = har.get("log", {}).get("entries") if isinstance(har, dict) else None
    if not isinstance(entries, list):
        raise HarError("this JSON is not a HAR file: it has no log.entries")
    if not entries:
        raise HarError("the HAR holds no recorded calls; start recording (Network tab) before "
                       "clicking through DeskDirector")
    return [call for call in map(_call, entries) if call is not None]


def _call(entry: Any) -> Call | None:
    if not isinstance(entry, dict):
        return None
    request, response = entry.get("request") or {}, entry.get("response") or {}
    parts = urlsplit(str(request.get("url", "")))
    if parts.scheme not in ("http", "https") or _JWT.search(parts.path):
        return None  # not a web call, or a token in the path: never learned from
    content = response.get("content") or {}
    post = request.get("postData") or {}
    status = response.get("status")
    return Call(method=str(request.get("method", "")).upper(),
                origin=f"{parts.scheme}://{parts.netloc}".lower(), path=parts.path or "/",
                status=status if isinstance(status, int) else 0,
                reply=_json(content.get("text"), content.get("encoding")),
                body=_json(post.get("text"), None),
                query=tuple(parse_qsl(parts.query, keep_blank_values=True)))


def _json(text: Any, encoding: Any) -> Any:
    if not isinstance(text, str) or not text:
        return None
    if encoding == "base64":
        try:
            text = base64.b64decode(text).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def match(calls: list[Call], audience: str | None = None) -> Matching:
    """Match recorded calls to ddsite's operations for one audience."""
    useful = [c for c in calls if 200 <= c.status < 300 and (c.reply is not None
                                                           or c.method != "GET")]
    if not any(c.reply is not None for c in useful):
        raise HarError(_no_bodies_message(calls))
    audience, source = _audience(useful, audience)
    ticket_ids, queue_ids = _ticket_ids(useful)
    candidates: dict[str, Counter] = {}
    origins: set[str] = set()
    unrecognised = []
    for call in useful:
        name = _operation(call, audience, ticket_ids)
        template = _template(call, name, ticket_ids, queue_ids) if name else None
        if template is None:
            if call.reply is not None:
                unrecognised.append(f"{call.method} {call.path}")
            continue
        candidates.setdefault(name, Counter())[Endpoint(call.method, template)] += 1
        origins.add(call.origin)
    result = Matching(audience=audience, audience_source=source, dialect=_dialect(useful),
                      calls=len(calls),
                      json_calls=sum(c.reply is not None for c in calls),
                      origins=sorted(origins),
                      unrecognised=sorted(set(unrecognised)))
    for name, counter in candidates.items():
        ranked = [endpoint for endpoint, _ in counter.most_common()]
        result.matched[name], result.seen[name] = ranked[0], counter[ranked[0]]
        if len(ranked) > 1:
            result.alternatives[name] = ranked[1:]
    result.missing = [name for name in OPERATIONS[audience] if name not in result.matched]
    if not result.matched or set(result.matched) <= {"public_keys"}:
        raise HarError(f"none of the {len(calls)} recorded calls looks like an operation ddsite "
                       f"uses; record while you open the ticket list, open a ticket and add a "
                       f"reply in DeskDirector's own {'TECH' if audience == 'tech' else 'portal'}")
    return result


def _no_bodies_message(calls: list[Call]) -> str:
    if not calls:
        return "the HAR holds no web calls"
    if not any(200 <= c.status < 300 for c in calls):
        return "no recorded call succeeded; record again while signed in to DeskDirector"
    return ("the HAR holds no JSON replies: save it with content (“Save all as HAR”, not a "
            "sanitised export without bodies), while DeskDirector's pages load their data")


def _audience(calls: list[Call], chosen: str | None) -> tuple[str, str]:
    if chosen:
        return chosen, "as asked (--audience)"
    found = {aud for call in calls if call.method == "GET"
             and (user := recognise.parse_user(call.reply)) is not None
             and (aud := recognise.audience_of(user)) is not None}
    if len(found) == 1:
        return found.pop(), "from the who-am-I reply"
    if found:
        raise HarError("the HAR holds both a contact's and an agent's calls; record the portal "
                       "and TECH separately, or say which with --audience portal|tech")
    raise HarError("the HAR holds no who-am-I reply, so ddsite cannot tell whether these are a "
                   "contact's or an agent's calls; reload the page while recording, or say "
                   "which with --audience portal|tech")


def _ticket_ids(calls: list[Call]) -> tuple[set[str], set[str]]:
    """Ids of the tickets and of their queues seen in the replies, as text."""
    tickets: list[TicketSummary] = []
    for call in calls:
        tickets.extend(recognise.parse_ticket_list(call.reply) or [])
        ticket = recognise.parse_ticket(call.reply)
        if ticket is not None:
            tickets.append(ticket)
    return ({str(t.id) for t in tickets},
            {str(t.queue.id) for t in tickets if t.queue is not None and t.queue.id is not None})


def _dialect(calls: list[Call]) -> str:
    """"v4" when the tickets and notes recorded speak its words (comments, service types), else
    "v2": the words ddsite then sends (a comment or a note)."""
    words = " ".join(recognise.vocabulary(call.reply) for call in calls
                     if recognise.parse_ticket(call.reply) is not None
                     or recognise.parse_ticket_list(call.reply))
    sent = {key for call in calls if call.method == "POST" and isinstance(call.body, dict)
            for key in call.body}
    return "v4" if "v4 (" in words or "comment" in sent else "v2"


def _operation(call: Call, audience: str, ticket_ids: set[str]) -> str | None:
    if call.method == "GET":
        return _read_operation(call, audience)
    has_ticket = _ticket_segment(call.path, ticket_ids) is not None
    if call.method == "POST" and has_ticket and _has_text(call.body):
        return f"{audience}.add_note"
    if call.method == "POST" and not has_ticket and audience == "portal" \
            and isinstance(call.body, dict) and "summary" in call.body:
        return "portal.create_ticket"
    if call.method == "PATCH" and has_ticket and audience == "tech":
        return "tech.update_ticket"
    return None


def _read_operation(call: Call, audience: str) -> str | None:
    if parse_keys(call.reply).keys:
        return "public_keys"
    user = recognise.parse_user(call.reply)
    if user is not None:
        return f"{audience}.me" if recognise.audience_of(user) in (audience, None) else None
    if recognise.parse_ticket_list(call.reply):
        return f"{audience}.tickets"
    if recognise.parse_ticket(call.reply) is not None:
        return f"{audience}.ticket"
    if recognise.parse_lookup(call.reply) is not None:
        words = "/".join(call.path.lower().rstrip("/").split("/")[-2:])
        for kind, needles in _LOOKUP_WORDS.items():
            name = f"{audience}.{kind}"
            if name in OPERATIONS[audience] and any(needle in words for needle in needles):
                return name
    return None


def _template(call: Call, name: str, ticket_ids: set[str], queue_ids: set[str]) -> str | None:
    """The call's path as the endpoint table writes it: {ticket_id} in place of the id, and a
    query template for what the recorded query shows the instance understands."""
    path = call.path
    if "{ticket_id}" in DEFAULT_ENDPOINTS[name].path:
        ticket = recognise.parse_ticket(call.reply) if name.endswith(".ticket") else None
        index = _ticket_segment(path, {str(ticket.id)} if ticket else ticket_ids)
        if index is None:
            return None
        segments = path.split("/")
        segments[index] = "{ticket_id}"
        path = "/".join(segments)
    query = _query_template(call.query, name, queue_ids)
    return path + (f"?{query}" if query else "")


def _query_template(query: tuple[tuple[str, str], ...], name: str, queue_ids: set[str]) -> str:
    """Only parameters ddsite can fill: paging and ddsite's sorts on lists, a queue on statuses.
    Nothing else recorded (filters, tokens) is copied, not even its name."""
    pairs = []
    if name.endswith(".tickets"):
        paging = {key: f"{key}={{{_PAGING[key]}}}" for key, value in query
                  if key in _PAGING and value.isdigit()}
        if {"skip", "take"} <= {_PAGING[key] for key in paging}:
            pairs.extend(paging.values())
        pairs.extend(f"{key}={{sort}}" for key, value in query
                     if key in _SORT_PARAMETERS and value in SORTS)
    elif name == "tech.statuses":
        pairs.extend(f"{key}={{queue_id}}" for key, value in query if value in queue_ids)
    return "&".join(pairs)


def _ticket_segment(path: str, ticket_ids: set[str]) -> int | None:
    segments = path.split("/")
    for index in range(len(segments) - 1, 0, -1):
        if segments[index] in ticket_ids:
            return index
    return None


def _has_text(body: Any) -> bool:
    return isinstance(body, dict) and any(
        isinstance(value, str) and value.strip() for key, value in body.items()
        if key in ("note", "comment", "text", "body", "message", "content"))
