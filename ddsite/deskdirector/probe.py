"""`ddsite probe`: call every read operation of one audience as ddsite's pages would, and say
for each what came back, in which dialect, and which model fields ddsite found.

Only GET operations are called, so the probe never changes anything in DeskDirector.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from . import recognise
from .client import Client, Transport
from .endpoints import Endpoint
from .errors import DeskDirectorError, Forbidden, NotFound, TokenRejected
from .models import Page, Ticket, User
from .signing_keys import key_fetcher, parse_key_list

# What each operation is, in words an operator can look for on the instance's Swagger page.
DESCRIPTIONS = {
    "portal.me": "who am I, for contacts",
    "portal.tickets": "the contact's ticket list",
    "portal.ticket": "one ticket with its conversation, for contacts",
    "portal.request_types": "request (service) types a contact may raise",
    "portal.priorities": "priorities, for contacts",
    "tech.me": "who am I, for agents",
    "tech.tickets": "the TECH ticket list",
    "tech.ticket": "one ticket with its notes, for agents",
    "tech.statuses": "ticket statuses",
    "tech.priorities": "priorities, for agents",
    "tech.agents": "agents (members) a ticket can be assigned to",
    "public_keys": "the public keys that sign access tokens",
}
AUDIENCE_WORDS = {"portal": "a contact (client portal)", "tech": "an agent (TECH)"}


@dataclass
class Line:
    """What one operation did."""

    name: str
    endpoint: Endpoint | None
    outcome: str = "ok"  # ok | fail | note | skip
    status: int | None = None
    millis: float | None = None
    dialect: str = ""
    found: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    detail: str = ""

    def render(self) -> str:
        """One line for the terminal."""
        label = {"ok": "OK", "fail": "FAIL", "note": "NOTE", "skip": "SKIP"}[self.outcome]
        where = f"{self.endpoint.method} {self.endpoint.path}" if self.endpoint else "-"
        status = f"HTTP {self.status}" if self.status is not None else "no reply"
        millis = f"{self.millis:.0f} ms" if self.millis is not None else "-"
        parts = [f"{label:<4} {self.name:<21} {where:<44} {status:<9} {millis:>7}"]
        if self.dialect:
            parts.append(f"dialect: {self.dialect}")
        if self.found:
            parts.append(f"found: {', '.join(self.found)}")
        if self.missing:
            parts.append(f"missing: {', '.join(self.missing)}")
        if self.detail:
            parts.append(self.detail)
        return " | ".join(parts)


@dataclass
class Report:
    """The probe's findings: who the token belongs to and a line per operation."""

    audience: str | None
    user: User | None
    lines: list[Line]

    @property
    def failed(self) -> list[Line]:
        """Lines for operations whose failure would break a page."""
        return [line for line in self.lines if line.outcome == "fail"]


class _Recorder:
    """Keeps the last raw reply the client received, so a line can show status and body."""

    def __init__(self) -> None:
        self._local = threading.local()

    def hook(self, response: requests.Response, *args, **kwargs) -> None:
        """requests response hook."""
        self._local.last = response

    def take(self) -> requests.Response | None:
        """The last reply, forgotten once taken."""
        response, self._local.last = getattr(self._local, "last", None), None
        return response


def probe(host: str, token: str, endpoints: Mapping[str, Endpoint], *,
          transport: Transport) -> Report:
    """Work out whose token it is, then call every read operation of that audience."""
    recorder = _Recorder()
    transport.session_for(host).hooks["response"].append(recorder.hook)
    client = Client(transport, endpoints, host, token)
    lines: list[Line] = []
    found: dict[str, User] = {}
    for audience in ("portal", "tech"):
        line, result = _run(f"{audience}.me", endpoints, recorder, client.face(audience).me)
        lines.append(line)
        if line.outcome == "ok":
            found[audience] = result
    audience = _choose_audience(found)
    if audience is None:
        _explain_no_audience(lines, found)
        return Report(None, None, lines)
    for line in lines:  # the other audience's who-am-I failing is expected, not a fault
        if not line.name.startswith(audience) and line.outcome == "fail":
            line.outcome, line.detail = "note", f"(not {AUDIENCE_WORDS[line.name[:-3]]}) " \
                + line.detail
    lines = [line for line in lines if line.name.startswith(audience)] + \
        [line for line in lines if not line.name.startswith(audience)]
    lines.extend(_read_operations(audience, client, endpoints, recorder))
    lines.append(_keys_line(host, endpoints, transport))
    return Report(audience, found[audience], lines)


def _choose_audience(found: dict[str, User]) -> str | None:
    if len(found) == 1:
        return next(iter(found))
    for audience, user in found.items():  # both answered: believe what the reply says
        if recognise.audience_of(user) == audience:
            return audience
    return None


def _explain_no_audience(lines: list[Line], found: dict[str, User]) -> None:
    if found:
        lines.append(Line("audience", None, "fail", detail=(
            "both who-am-I calls answered and neither reply says whether this is a contact or "
            "an agent")))
    elif all(line.status == 401 for line in lines):
        lines.append(Line("audience", None, "fail", detail=(
            "DeskDirector rejected the token (HTTP 401): it has expired or is not for this "
            "instance; open the menu item again for a fresh one")))
    else:
        lines.append(Line("audience", None, "fail", detail=(
            "neither who-am-I call answered, so ddsite cannot tell whose token this is; "
            "correct the lines above first")))


def _read_operations(audience: str, client: Client, endpoints: Mapping[str, Endpoint],
                     recorder: _Recorder) -> list[Line]:
    face = client.face(audience)
    lines = []
    line, page = _run(f"{audience}.tickets", endpoints, recorder, face.tickets)
    lines.append(line)
    first = page.items[0] if page and page.items else None
    ticket = None
    if first is None:
        lines.append(_skipped(f"{audience}.ticket", endpoints, "no ticket in the list to open"
                              if page else "needs the ticket list"))
    else:
        line, ticket = _run(f"{audience}.ticket", endpoints, recorder,
                            lambda: face.ticket(first.id))
        lines.append(line)
    lookups: dict[str, Callable[[], Any]] = (
        {"portal.request_types": face.request_types, "portal.priorities": face.priorities}
        if audience == "portal" else
        {"tech.statuses": lambda: face.statuses(queue=ticket.queue if ticket else None),
         "tech.priorities": face.priorities, "tech.agents": face.agents})
    for name, call in lookups.items():
        if name == "tech.statuses" and face.statuses_follow_the_queue and ticket is None:
            lines.append(_skipped(name, endpoints, "statuses follow a ticket's queue, and no "
                                                   "ticket could be opened"))
            continue
        lines.append(_run(name, endpoints, recorder, call)[0])
    return lines


def _run(name: str, endpoints: Mapping[str, Endpoint], recorder: _Recorder,
         call: Callable[[], Any]) -> tuple[Line, Any]:
    endpoint = endpoints[name]
    line = Line(name, endpoint)
    if endpoint.method != "GET":
        line.outcome, line.detail = "skip", "not called: the probe never writes to DeskDirector"
        return line, None
    result = None
    try:
        result = call()
    except DeskDirectorError as exc:  # UnknownShape included: a reply the models cannot read
        _failed(line, exc)
    response = recorder.take()
    if response is not None:
        line.status = response.status_code
        line.millis = response.elapsed.total_seconds() * 1000
        if line.outcome == "ok":
            _describe(line, response, result)
    return line, result


def _failed(line: Line, error: DeskDirectorError) -> None:
    line.outcome = "fail"
    if isinstance(error, NotFound) or error.upstream_status == 405:
        missing = "not found" if isinstance(error, NotFound) else "method not allowed at this path"
        line.detail = (f"{missing}: find “{DESCRIPTIONS[line.name]}” on the instance's "
                       f"/swagger page and put it in the file named by DDSITE_ENDPOINTS_FILE, "
                       f'e.g. {{"{line.name}": "GET /api/…"}}, or record a HAR and run '
                       f"`ddsite endpoints from-har`")
    elif isinstance(error, TokenRejected):
        line.detail = "DeskDirector rejected the token (expired, or not for this operation)"
    elif isinstance(error, Forbidden):
        line.detail = "DeskDirector does not allow this for the token's user"
    else:
        line.detail = error.message


def _describe(line: Line, response: requests.Response, result: Any) -> None:
    try:
        data = response.json()
    except ValueError:
        data = None
    line.dialect = recognise.dialect(data)
    items = _parsed_items(result)
    line.found, line.missing = recognise.model_fields(items)
    if isinstance(result, Page):
        listed = recognise.rows(data)
        if listed is None:
            line.outcome, line.detail = "fail", "the reply is not a list in any envelope ddsite knows"
        elif recognise.parse_ticket_list(data) is None:
            line.outcome, line.detail = "fail", "rows without a ticket id or summary"
        else:
            line.dialect += f"; {len(listed)} rows"
            if len(listed) > result.take:
                line.dialect += " (not paged by the server: ddsite pages them itself)"
    elif isinstance(result, Ticket) and recognise.parse_ticket(data) is None:
        line.outcome, line.detail = "fail", "the reply is not a ticket with an id and a summary"
    elif isinstance(result, list) and recognise.parse_lookup(data) is None:
        line.outcome, line.detail = "fail", "the reply is not a list of {id, name}"
    elif isinstance(result, User) and recognise.parse_user(data) is None:
        line.outcome, line.detail = "fail", "the reply carries no user name"


def _parsed_items(result: Any) -> list:
    if isinstance(result, Page):
        return result.items
    if isinstance(result, list):
        return result
    return [result] if result is not None else []


def _skipped(name: str, endpoints: Mapping[str, Endpoint], why: str) -> Line:
    return Line(name, endpoints[name], "skip", detail=f"not checked: {why}")


def _keys_line(host: str, endpoints: Mapping[str, Endpoint], transport: Transport) -> Line:
    endpoint = endpoints["public_keys"]
    line = Line("public_keys", endpoint, "note")
    fetch = key_fetcher(transport.session_for(host), host, endpoint, transport.timeout)
    try:
        response = fetch()
    except requests.RequestException as exc:
        line.detail = f"no reply ({type(exc).__name__}); DDSITE_JWT_KEYS=auto would rely on " \
                      "who-am-I alone"
        return line
    line.status, line.millis = response.status_code, response.elapsed.total_seconds() * 1000
    keys = parse_key_list(response).keys if response.status_code < 400 else {}
    if keys:
        line.outcome = "ok"
        named = [kid for kid in keys if kid]
        line.detail = f"{len(keys)} key(s)" + (f", kid {', '.join(named)}" if named else ", no kid")
    else:
        line.detail = ("no readable public keys: DDSITE_JWT_KEYS=auto would rely on who-am-I "
                       "alone; pages still work")
    return line
