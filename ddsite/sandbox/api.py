"""The sandbox's DeskDirector API: every endpoint of ddsite's endpoint table, over seeded data."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from flask import Blueprint, current_app, g, jsonify, request

from ..deskdirector.endpoints import Endpoint
from .data import DATABASE, PRIORITIES, REQUEST_TYPES, STATUSES, HelpDesk
from .faults import Faults, answer_late
from .tokens import KEYS_MAX_AGE, TokenAuthority
from .wire import QUEUES, Wire, WireError

NOTE_LIMIT = 10000
SUMMARY_LIMIT = 200
MAX_TAKE = 100


class ApiError(Exception):
    """An error reply in DeskDirector's shape."""

    def __init__(self, status: int, error_code: str, message: str,
                 errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.status, self.error_code, self.message, self.errors = status, error_code, message, errors


def _api_error(error: ApiError):
    body: dict[str, Any] = {"errorCode": error.error_code, "message": error.message}
    if error.errors:
        body["errors"] = error.errors
    return jsonify(body), error.status


def desk() -> HelpDesk:
    """The sandbox's help desk."""
    return current_app.extensions["sandbox"]["desk"]


def wire() -> Wire:
    """The dialect this sandbox speaks."""
    return current_app.extensions["sandbox"]["wire"]


def _query_name(operation: str, placeholder: str) -> str | None:
    """The query parameter that carries `placeholder` for `operation`, if the table names one."""
    endpoint: Endpoint = current_app.extensions["sandbox"]["endpoints"][operation]
    query = endpoint.path.partition("?")[2]
    return next((key for key, value in parse_qsl(query) if value == f"{{{placeholder}}}"), None)


def _read(field: str, read, *args):
    try:
        return read(*args)
    except WireError as exc:
        raise ApiError(422, "ValidationFailed", "The request is not valid.",
                       {field: [str(exc)]}) from None


def _authenticate():
    faults: Faults = current_app.extensions["sandbox"]["faults"]
    injected = faults.apply()
    if injected is not None:
        return injected
    if request.endpoint == "api.public_keys":
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    authority: TokenAuthority = current_app.extensions["sandbox"]["tokens"]
    caller = authority.verify(token.strip()) if scheme == "DdAccessToken" else None
    if caller is None:
        raise ApiError(401, "Unauthorized", "The access token is missing, expired or not valid.")
    g.caller = caller
    return None


def _require(kind: str) -> int:
    caller_kind, caller_id = g.caller
    if caller_kind != kind:
        who = "agents (TECH)" if kind == "m" else "contacts (client portal)"
        raise ApiError(403, "Forbidden", f"This endpoint is for {who}.")
    return caller_id


def _paging(operation: str) -> tuple[int, int | None]:
    """skip and take, where the table says this list is paged by the server; else everything."""
    names = {name: _query_name(operation, name) for name in ("skip", "take")}
    if not all(names.values()):
        return 0, None
    errors = {}
    values = {}
    for name, default in (("skip", 0), ("take", 20)):
        raw = request.args.get(names[name], str(default))
        if not raw.isdigit():
            errors[name] = [f"{name} must be a whole number"]
        else:
            values[name] = int(raw)
    if not errors and not 1 <= values["take"] <= MAX_TAKE:
        errors["take"] = [f"take must be between 1 and {MAX_TAKE}"]
    if errors:
        raise ApiError(400, "BadRequest", "The query is not valid.", errors)
    return values["skip"], values["take"]


def _sorted(operation: str, rows: list[dict]) -> list[dict]:
    """Rows in the order asked for, where the table says the server sorts; else by id."""
    name = _query_name(operation, "sort")
    if name is None:
        return sorted(rows, key=lambda t: t["id"])
    key, reverse = _SORTS[_choice(name, tuple(_SORTS), "activity")]
    return sorted(rows, key=key, reverse=reverse)


def _choice(name: str, allowed: tuple[str, ...], default: str) -> str:
    value = request.args.get(name, default).lower()
    if value not in allowed:
        raise ApiError(400, "BadRequest", "The query is not valid.",
                       {name: [f"{name} must be one of {', '.join(allowed)}"]})
    return value


def _matches(ticket: dict, search: str) -> bool:
    if not search:
        return True
    needle = search.lower().lstrip("#")
    return needle == str(ticket["id"]) or needle in ticket["summary"].lower() \
        or needle in ticket["description"].lower()


def _status_filter(help_desk: HelpDesk, ticket: dict, status: str) -> bool:
    closed = help_desk.status(ticket["statusId"])["isClosed"]
    return status == "any" or (status == "closed") == closed


def _list_reply(rows: list[dict], skip: int, take: int | None, *, for_contact: bool):
    page = rows[skip:] if take is None else rows[skip:skip + take]
    help_desk, dialect = desk(), wire()
    results = [dialect.ticket(help_desk.summary_json(t, for_contact=for_contact), t) for t in page]
    return jsonify({**dialect.listing(results), "total": len(rows)})


def _json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "BadRequest", "The request body must be a JSON object.")
    return body


def _note_text(body: dict) -> str:
    field = "comment" if wire().v4 else "note"
    text = body.get(field)
    if not isinstance(text, str) or not text.strip():
        raise ApiError(422, "ValidationFailed", f"The {field} is not valid.",
                       {field: [f"The {field} must not be empty."]})
    if len(text) > NOTE_LIMIT:
        raise ApiError(422, "ValidationFailed", f"The {field} is not valid.",
                       {field: [f"The {field} must be at most {NOTE_LIMIT} characters."]})
    return text


def _is_internal(body: dict, default: bool) -> bool:
    """v2 says isInternal; v4 says isPublic."""
    field = "isPublic" if wire().v4 else "isInternal"
    value = body.get(field, (not default) if wire().v4 else default)
    if not isinstance(value, bool):
        raise ApiError(422, "ValidationFailed", "The note is not valid.",
                       {field: [f"{field} must be true or false."]})
    return not value if wire().v4 else value


def _ref_id(body: dict, name: str, table: list[dict] | dict, errors: dict, *,
            required: bool) -> Any:
    value = body.get(name)
    if value is None:
        if required:
            errors[name] = [f"{name} is required."]
        return None
    ref_id = value.get("id") if isinstance(value, dict) else None
    try:
        ref_id = wire().read_id(ref_id, name)
    except WireError as exc:
        errors[name] = [str(exc)]
        return None
    rows = table.values() if isinstance(table, dict) else table
    if not any(row["id"] == ref_id for row in rows):
        errors[name] = [f"{name} {ref_id!r} does not exist."]
    return ref_id


def _ticket_for_contact(ticket_id: int, contact_id: int) -> dict:
    ticket = desk().tickets.get(ticket_id)
    if ticket is None or not desk().visible_to_contact(contact_id, ticket):
        raise ApiError(404, "NotFound", f"Ticket {ticket_id} was not found.")
    return ticket


def _ticket(ticket_id: int) -> dict:
    ticket = desk().tickets.get(ticket_id)
    if ticket is None:
        raise ApiError(404, "NotFound", f"Ticket {ticket_id} was not found.")
    return ticket


# ---- who am I ----------------------------------------------------------------------------------
def portal_me():
    contact_id = _require("c")
    contact = desk().contacts[contact_id]
    company = desk().companies[contact["companyId"]]
    return jsonify({"id": f"{DATABASE}~c~{contact_id}", "contactId": contact_id,
                    "userName": contact["email"], "email": contact["email"],
                    "firstName": contact["firstName"], "lastName": contact["lastName"],
                    "company": wire().ref({"id": company["id"], "name": company["name"]}),
                    "userType": "Client",
                    "permissions": {"companyTickets": contact["canSeeCompanyTickets"]}})


def tech_me():
    agent_id = _require("m")
    agent = desk().agents[agent_id]
    if wire().v4:
        return jsonify({"id": f"{DATABASE}~m~{agent_id}", "agentId": str(agent_id),
                        "userName": agent["email"], "email": agent["email"],
                        "displayName": agent["name"], "userType": "Agent"})
    return jsonify({"id": f"{DATABASE}~m~{agent_id}", "memberId": agent_id,
                    "userName": agent["email"], "email": agent["email"], "name": agent["name"],
                    "company": {"id": 1, "name": "Bright MSP"}, "userType": "Member"})


def public_keys():
    # Every key still accepted, PEM in JSON, cacheable: callers pick the one named by a token's kid.
    response = jsonify({"keys": current_app.extensions["sandbox"]["tokens"].public_keys()})
    response.cache_control.public = True
    response.cache_control.max_age = KEYS_MAX_AGE
    return response


_SORTS = {
    "activity": (lambda t: desk().last_activity(t), True),
    "age": (lambda t: t["createdOn"], False),
    "priority": (lambda t: (t["priorityId"], desk().last_activity(t)), True),
}


# ---- contacts ----------------------------------------------------------------------------------
def portal_tickets():
    contact_id = _require("c")
    skip, take = _paging("portal.tickets")
    status = _choice("status", ("open", "closed", "any"), "open")
    search = request.args.get("search", "").strip()
    help_desk = desk()
    with help_desk.lock:
        rows = [t for t in help_desk.tickets.values()
                if help_desk.visible_to_contact(contact_id, t)
                and _status_filter(help_desk, t, status) and _matches(t, search)]
        return _list_reply(_sorted("portal.tickets", rows), skip, take, for_contact=True)


def portal_ticket(ticket_id: int):
    contact_id = _require("c")
    with desk().lock:
        ticket = _ticket_for_contact(ticket_id, contact_id)
        return jsonify(wire().ticket(desk().ticket_json(ticket, for_contact=True), ticket))


def portal_add_note(ticket_id: int):
    contact_id = _require("c")
    text = _note_text(_json_body())
    with desk().lock:
        ticket = _ticket_for_contact(ticket_id, contact_id)
        note = desk().add_note(ticket, text, False, desk().contact_author(contact_id))
        return jsonify(wire().note(desk().note_json(note))), 201


def portal_create_ticket():
    contact_id = _require("c")
    body = _json_body()
    errors: dict[str, list[str]] = {}
    summary = body.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        errors["summary"] = ["A summary is required."]
    elif len(summary) > SUMMARY_LIMIT:
        errors["summary"] = [f"The summary must be at most {SUMMARY_LIMIT} characters."]
    description = body.get("description") or ""
    if not isinstance(description, str) or len(description) > NOTE_LIMIT:
        errors["description"] = [f"The description must be text of at most {NOTE_LIMIT} characters."]
    request_type = _ref_id(body, "serviceType" if wire().v4 else "requestType", REQUEST_TYPES,
                           errors, required=True)
    priority = _ref_id(body, "priority", PRIORITIES, errors, required=False)
    if errors:
        raise ApiError(422, "ValidationFailed", "The ticket is not valid.", errors)
    with desk().lock:
        ticket = desk().create_ticket(contact_id, summary.strip(), description, request_type,
                                      priority)
        return jsonify(wire().ticket(desk().ticket_json(ticket, for_contact=True), ticket)), 201


def portal_request_types():
    _require("c")
    return jsonify(wire().lookup(REQUEST_TYPES))


def portal_priorities():
    _require("c")
    return jsonify(wire().lookup(PRIORITIES))


# ---- agents ------------------------------------------------------------------------------------


def tech_tickets():
    agent_id = _require("m")
    skip, take = _paging("tech.tickets")
    status = _choice("status", ("open", "closed", "any"), "open")
    assigned = _choice("assigned", ("me", "assigned", "unassigned", "any"), "any")
    search = request.args.get("search", "").strip()

    def assigned_ok(ticket: dict) -> bool:
        agents = ticket["assignedAgentIds"]
        return {"me": agent_id in agents, "assigned": bool(agents),
                "unassigned": not agents, "any": True}[assigned]

    help_desk = desk()
    with help_desk.lock:
        rows = [t for t in help_desk.tickets.values()
                if _status_filter(help_desk, t, status) and assigned_ok(t) and _matches(t, search)]
        return _list_reply(_sorted("tech.tickets", rows), skip, take, for_contact=False)


def tech_ticket(ticket_id: int):
    _require("m")
    with desk().lock:
        ticket = _ticket(ticket_id)
        return jsonify(wire().ticket(desk().ticket_json(ticket, for_contact=False), ticket))


def tech_add_note(ticket_id: int):
    agent_id = _require("m")
    body = _json_body()
    text = _note_text(body)
    internal = _is_internal(body, default=False)
    with desk().lock:
        note = desk().add_note(_ticket(ticket_id), text, internal, desk().agent_author(agent_id))
        return jsonify(wire().note(desk().note_json(note))), 201


_UPDATABLE = ("summary", "description", "status", "priority", "assignedAgents")


def tech_update_ticket(ticket_id: int):
    """PATCH: JSON merge-patch, only the fields sent change. PUT: the body replaces the ticket."""
    _require("m")
    body = _json_body()
    replace = request.method == "PUT"
    unknown = sorted(set(body) - set(_UPDATABLE) - {"id", "modifiedOn"})
    if unknown:
        raise ApiError(422, "ValidationFailed", "The update is not valid.",
                       {name: [f"{name} cannot be changed."] for name in unknown})
    with desk().lock:
        ticket = _ticket(ticket_id)
        changes = _validated_changes(body, replace, ticket)
        ticket.update(changes)
        if changes:
            ticket["modifiedOn"] = datetime.now(UTC)
            closed = desk().status(ticket["statusId"])["isClosed"]
            ticket["closedOn"] = (ticket["closedOn"] or ticket["modifiedOn"]) if closed else None
        return jsonify(wire().ticket(desk().ticket_json(ticket, for_contact=False), ticket))


def _validated_changes(body: dict, replace: bool, ticket: dict) -> dict:
    """Ticket fields to set; with PUT an absent field counts as null (that is what PUT means)."""
    errors: dict[str, list[str]] = {}
    changes: dict[str, Any] = {}
    present = set(_UPDATABLE) if replace else set(body) & set(_UPDATABLE)
    if "summary" in present:
        summary = body.get("summary")
        if not isinstance(summary, str) or not summary.strip():
            errors["summary"] = ["A summary is required."]
        else:
            changes["summary"] = summary.strip()[:SUMMARY_LIMIT]
    if "description" in present:
        description = body.get("description")
        changes["description"] = description if isinstance(description, str) else ""
    if "status" in present:
        status = body.get("status")
        if isinstance(status, dict) and wire().v4:
            # A status of the ticket's queue, as an id of the help desk's own list.
            status = {"id": str(_read("status", wire().read_status, status.get("id"), ticket))}
        changes["statusId"] = _ref_id({"status": status}, "status", STATUSES, errors,
                                      required=True)
    if "priority" in present:
        changes["priorityId"] = _ref_id(body, "priority", PRIORITIES, errors, required=False)
    if "assignedAgents" in present:
        agents = body.get("assignedAgents")
        if agents is None:
            changes["assignedAgentIds"] = []
        elif not isinstance(agents, list) or not all(isinstance(a, dict) for a in agents):
            errors["assignedAgents"] = ["assignedAgents must list existing agents by id."]
        else:
            ids = [_read("assignedAgents", wire().read_id, a.get("id"), "assignedAgents")
                   for a in agents]
            if not all(i in desk().agents for i in ids):
                errors["assignedAgents"] = ["assignedAgents must list existing agents by id."]
            changes["assignedAgentIds"] = list(dict.fromkeys(ids))
    if errors:
        raise ApiError(422, "ValidationFailed", "The update is not valid.", errors)
    return changes


def tech_statuses(queue_id: str | None = None):
    _require("m")
    name = _query_name("tech.statuses", "queue_id")
    if name is not None:
        queue_id = request.args.get(name)
    if not wire().v4:
        return jsonify(STATUSES)
    if queue_id is None:
        raise ApiError(400, "BadRequest", "Statuses belong to a queue; say which.",
                       {name or "queueId": ["A queue is required."]})
    if not queue_id.isdigit() or int(queue_id) not in QUEUES:
        raise ApiError(404, "NotFound", f"Queue {queue_id} was not found.")
    return jsonify(wire().statuses(STATUSES, int(queue_id)))


def tech_priorities():
    _require("m")
    return jsonify(wire().lookup(PRIORITIES))


def tech_agents():
    _require("m")
    return jsonify(wire().lookup([{"id": a["id"], "name": a["name"]}
                                  for a in desk().agents.values()]))


HANDLERS = {
    "public_keys": public_keys, "portal.me": portal_me, "portal.tickets": portal_tickets,
    "portal.ticket": portal_ticket, "portal.add_note": portal_add_note,
    "portal.create_ticket": portal_create_ticket, "portal.request_types": portal_request_types,
    "portal.priorities": portal_priorities, "tech.me": tech_me, "tech.tickets": tech_tickets,
    "tech.ticket": tech_ticket, "tech.update_ticket": tech_update_ticket,
    "tech.add_note": tech_add_note, "tech.statuses": tech_statuses,
    "tech.priorities": tech_priorities, "tech.agents": tech_agents,
}


def _rule(path: str) -> str:
    route = path.partition("?")[0]
    route = route.replace("{ticket_id}", "<int:ticket_id>")
    return re.sub(r"\{(\w+)\}", r"<\1>", route)


def blueprint(endpoints: Mapping[str, Endpoint]) -> Blueprint:
    """The API of one dialect: routes come from its endpoint table, so the sandbox serves
    exactly what the client calls."""
    bp = Blueprint("api", __name__)
    bp.register_error_handler(ApiError, _api_error)
    bp.before_request(_authenticate)
    bp.after_request(answer_late)
    for name, endpoint in endpoints.items():
        methods = [endpoint.method]
        if name == "tech.update_ticket":
            methods.append("PUT")  # DeskDirector's PUT: replaces the whole ticket
        bp.add_url_rule(_rule(endpoint.path), name.replace(".", "_"), HANDLERS[name],
                        methods=methods)
    return bp
