"""The sandbox's DeskDirector API: every endpoint of ddsite's endpoint table, over seeded data."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request

from ..deskdirector.endpoints import DEFAULT_ENDPOINTS
from .data import DATABASE, PRIORITIES, REQUEST_TYPES, STATUSES, HelpDesk
from .faults import Faults, answer_late
from .tokens import TokenAuthority

bp = Blueprint("api", __name__)

NOTE_LIMIT = 10000
SUMMARY_LIMIT = 200
MAX_TAKE = 100


class ApiError(Exception):
    """An error reply in DeskDirector's shape."""

    def __init__(self, status: int, error_code: str, message: str,
                 errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.status, self.error_code, self.message, self.errors = status, error_code, message, errors


@bp.errorhandler(ApiError)
def _api_error(error: ApiError):
    body: dict[str, Any] = {"errorCode": error.error_code, "message": error.message}
    if error.errors:
        body["errors"] = error.errors
    return jsonify(body), error.status


def desk() -> HelpDesk:
    """The sandbox's help desk."""
    return current_app.extensions["sandbox"]["desk"]


@bp.before_request
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


bp.after_request(answer_late)


def _require(kind: str) -> int:
    caller_kind, caller_id = g.caller
    if caller_kind != kind:
        who = "agents (TECH)" if kind == "m" else "contacts (client portal)"
        raise ApiError(403, "Forbidden", f"This endpoint is for {who}.")
    return caller_id


def _paging() -> tuple[int, int]:
    errors = {}
    values = {}
    for name, default in (("skip", 0), ("take", 20)):
        raw = request.args.get(name, str(default))
        if not raw.isdigit():
            errors[name] = [f"{name} must be a whole number"]
        else:
            values[name] = int(raw)
    if not errors and not 1 <= values["take"] <= MAX_TAKE:
        errors["take"] = [f"take must be between 1 and {MAX_TAKE}"]
    if errors:
        raise ApiError(400, "BadRequest", "The query is not valid.", errors)
    return values["skip"], values["take"]


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


def _status_filter(ticket: dict, status: str) -> bool:
    closed = desk().status(ticket["statusId"])["isClosed"]
    return status == "any" or (status == "closed") == closed


def _list_reply(rows: list[dict], skip: int, take: int, *, for_contact: bool):
    page = rows[skip:skip + take]
    results = [desk().summary_json(t, for_contact=for_contact) for t in page]
    return jsonify({"total": len(rows), "resultsCount": len(results), "results": results})


def _json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "BadRequest", "The request body must be a JSON object.")
    return body


def _note_text(body: dict) -> str:
    text = body.get("note")
    if not isinstance(text, str) or not text.strip():
        raise ApiError(422, "ValidationFailed", "The note is not valid.",
                       {"note": ["The note must not be empty."]})
    if len(text) > NOTE_LIMIT:
        raise ApiError(422, "ValidationFailed", "The note is not valid.",
                       {"note": [f"The note must be at most {NOTE_LIMIT} characters."]})
    return text


def _ref_id(body: dict, name: str, table: list[dict] | dict, errors: dict, *,
            required: bool) -> Any:
    value = body.get(name)
    if value is None:
        if required:
            errors[name] = [f"{name} is required."]
        return None
    ref_id = value.get("id") if isinstance(value, dict) else None
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
                    "company": {"id": company["id"], "name": company["name"]},
                    "userType": "Client",
                    "permissions": {"companyTickets": contact["canSeeCompanyTickets"]}})


def tech_me():
    agent_id = _require("m")
    agent = desk().agents[agent_id]
    return jsonify({"id": f"{DATABASE}~m~{agent_id}", "memberId": agent_id,
                    "userName": agent["email"], "email": agent["email"], "name": agent["name"],
                    "company": {"id": 1, "name": "Bright MSP"}, "userType": "Member"})


def public_keys():
    pem = current_app.extensions["sandbox"]["tokens"].public_pem()
    return Response(pem, mimetype="application/x-pem-file")


_SORTS = {
    "activity": (lambda t: desk().last_activity(t), True),
    "age": (lambda t: t["createdOn"], False),
    "priority": (lambda t: (t["priorityId"], desk().last_activity(t)), True),
}


# ---- contacts ----------------------------------------------------------------------------------
def portal_tickets():
    contact_id = _require("c")
    skip, take = _paging()
    status = _choice("status", ("open", "closed", "any"), "open")
    order = _choice("orderBy", tuple(_SORTS), "activity")
    search = request.args.get("search", "").strip()
    with desk().lock:
        rows = [t for t in desk().tickets.values()
                if desk().visible_to_contact(contact_id, t) and _status_filter(t, status)
                and _matches(t, search)]
        key, reverse = _SORTS[order]
        rows.sort(key=key, reverse=reverse)
        return _list_reply(rows, skip, take, for_contact=True)


def portal_ticket(ticket_id: int):
    contact_id = _require("c")
    with desk().lock:
        return jsonify(desk().ticket_json(_ticket_for_contact(ticket_id, contact_id),
                                          for_contact=True))


def portal_add_note(ticket_id: int):
    contact_id = _require("c")
    text = _note_text(_json_body())
    with desk().lock:
        ticket = _ticket_for_contact(ticket_id, contact_id)
        note = desk().add_note(ticket, text, False, desk().contact_author(contact_id))
        return jsonify(desk().note_json(note)), 201


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
    request_type = _ref_id(body, "requestType", REQUEST_TYPES, errors, required=True)
    priority = _ref_id(body, "priority", PRIORITIES, errors, required=False)
    if errors:
        raise ApiError(422, "ValidationFailed", "The ticket is not valid.", errors)
    with desk().lock:
        ticket = desk().create_ticket(contact_id, summary.strip(), description, request_type,
                                      priority)
        return jsonify(desk().ticket_json(ticket, for_contact=True)), 201


def portal_request_types():
    _require("c")
    return jsonify(REQUEST_TYPES)


def portal_priorities():
    _require("c")
    return jsonify(PRIORITIES)


# ---- agents ------------------------------------------------------------------------------------


def tech_tickets():
    agent_id = _require("m")
    skip, take = _paging()
    status = _choice("status", ("open", "closed", "any"), "open")
    assigned = _choice("assigned", ("me", "assigned", "unassigned", "any"), "any")
    order = _choice("orderBy", tuple(_SORTS), "activity")
    search = request.args.get("search", "").strip()

    def assigned_ok(ticket: dict) -> bool:
        agents = ticket["assignedAgentIds"]
        return {"me": agent_id in agents, "assigned": bool(agents),
                "unassigned": not agents, "any": True}[assigned]

    with desk().lock:
        rows = [t for t in desk().tickets.values()
                if _status_filter(t, status) and assigned_ok(t) and _matches(t, search)]
        key, reverse = _SORTS[order]
        rows.sort(key=key, reverse=reverse)
        return _list_reply(rows, skip, take, for_contact=False)


def tech_ticket(ticket_id: int):
    _require("m")
    with desk().lock:
        return jsonify(desk().ticket_json(_ticket(ticket_id), for_contact=False))


def tech_add_note(ticket_id: int):
    agent_id = _require("m")
    body = _json_body()
    text = _note_text(body)
    internal = body.get("isInternal", False)
    if not isinstance(internal, bool):
        raise ApiError(422, "ValidationFailed", "The note is not valid.",
                       {"isInternal": ["isInternal must be true or false."]})
    with desk().lock:
        note = desk().add_note(_ticket(ticket_id), text, internal, desk().agent_author(agent_id))
        return jsonify(desk().note_json(note)), 201


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
        changes = _validated_changes(body, replace)
        ticket.update(changes)
        if changes:
            ticket["modifiedOn"] = datetime.now(UTC)
            closed = desk().status(ticket["statusId"])["isClosed"]
            ticket["closedOn"] = (ticket["closedOn"] or ticket["modifiedOn"]) if closed else None
        return jsonify(desk().ticket_json(ticket, for_contact=False))


def _validated_changes(body: dict, replace: bool) -> dict:
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
        changes["statusId"] = _ref_id(body, "status", STATUSES, errors, required=True)
    if "priority" in present:
        changes["priorityId"] = _ref_id(body, "priority", PRIORITIES, errors, required=False)
    if "assignedAgents" in present:
        agents = body.get("assignedAgents")
        if agents is None:
            changes["assignedAgentIds"] = []
        elif not isinstance(agents, list) or not all(
                isinstance(a, dict) and a.get("id") in desk().agents for a in agents):
            errors["assignedAgents"] = ["assignedAgents must list existing agents by id."]
        else:
            changes["assignedAgentIds"] = list(dict.fromkeys(a["id"] for a in agents))
    if errors:
        raise ApiError(422, "ValidationFailed", "The update is not valid.", errors)
    return changes


def tech_statuses():
    _require("m")
    return jsonify(STATUSES)


def tech_priorities():
    _require("m")
    return jsonify(PRIORITIES)


def tech_agents():
    _require("m")
    return jsonify([{"id": a["id"], "name": a["name"]} for a in desk().agents.values()])


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
    return re.sub(r"\{(\w+)\}", r"<int:\1>", path)


# Routes come from the endpoint table, so the sandbox serves exactly what the client calls.
for _name, _endpoint in DEFAULT_ENDPOINTS.items():
    _methods = [_endpoint.method]
    if _name == "tech.update_ticket":
        _methods.append("PUT")  # DeskDirector's PUT: replaces the whole ticket
    bp.add_url_rule(_rule(_endpoint.path), _name.replace(".", "_"), HANDLERS[_name],
                    methods=_methods)
