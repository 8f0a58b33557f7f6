"""The endpoint table: every DeskDirector operation ddsite uses, by name, in two dialects.

Verified in public sources: `portal.me` (GET /api/v2/user/client) and the ticket shapes and list
query parameters. Everything else here, the v4 ticket paths, `tech.me`, the look-ups, the key
endpoint and the list parameter `orderBy` (activity | age | priority), is an assumption; an
operator corrects any entry from their instance's Swagger page with a JSON file named by
DDSITE_ENDPOINTS_FILE, e.g. {"dialect": "v4", "tech.me": "GET /api/v2/user/member"}.

A path may end in a query template that names what the instance understands:
`?skip={skip}&take={take}` (it pages lists itself), `orderBy={sort}` (it sorts them) and, on
`tech.statuses`, `{queue_id}` (statuses belong to a ticket's queue). What a template does not
name, ddsite does itself (paging, sorting) or leaves out. `words` is the dialect's vocabulary for
what ddsite sends: "v2" (note, request type) or "v4" (comment, service type).
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType
from urllib.parse import parse_qsl, quote, urlencode

WORDS = ("v2", "v4")


@dataclass(frozen=True)
class Endpoint:
    """One operation: HTTP method, a path template with {placeholders}, and the dialect's words."""

    method: str
    path: str
    words: str = "v2"

    def placeholders(self) -> set[str]:
        """Names of the {placeholders} in the path and its query template."""
        return set(self._placeholders)

    def names(self, placeholder: str) -> bool:
        """Whether the template names `placeholder`, i.e. the instance understands it."""
        return placeholder in self._placeholders

    def url_path(self, **values: object) -> str:
        """The path with placeholders filled in; query parameters whose value is missing go."""
        route, query = self._template
        path = route.format(**{key: quote(str(value), safe="") for key, value in values.items()
                               if value is not None})
        pairs = []
        for key, template, wanted in query:
            if all(values.get(name) is not None for name in wanted):
                pairs.append((key, template.format(**{n: values[n] for n in wanted})))
        return path + (f"?{urlencode(pairs)}" if pairs else "")

    # The template read once (the endpoint is immutable), not on every call that uses it.
    @cached_property
    def _placeholders(self) -> frozenset[str]:
        return frozenset(name for _, name, _, _ in string.Formatter().parse(self.path) if name)

    @cached_property
    def _template(self) -> tuple[str, tuple[tuple[str, str, frozenset[str]], ...]]:
        route, _, query = self.path.partition("?")
        pairs = tuple((key, template, frozenset(
            name for _, name, _, _ in string.Formatter().parse(template) if name))
            for key, template in parse_qsl(query, keep_blank_values=True))
        return route, pairs


_LIST_QUERY = "?skip={skip}&take={take}&orderBy={sort}"

DEFAULT_ENDPOINTS: Mapping[str, Endpoint] = MappingProxyType({
    "public_keys": Endpoint("GET", "/api/v4/auth/public-keys"),
    "portal.me": Endpoint("GET", "/api/v2/user/client"),
    "portal.tickets": Endpoint("GET", "/api/v4/portal/tickets" + _LIST_QUERY),
    "portal.ticket": Endpoint("GET", "/api/v4/portal/tickets/{ticket_id}"),
    "portal.add_note": Endpoint("POST", "/api/v4/portal/tickets/{ticket_id}/notes"),
    "portal.create_ticket": Endpoint("POST", "/api/v4/portal/tickets"),
    "portal.request_types": Endpoint("GET", "/api/v4/portal/request-types"),
    "portal.priorities": Endpoint("GET", "/api/v4/portal/priorities"),
    "tech.me": Endpoint("GET", "/api/v2/user/member"),
    "tech.tickets": Endpoint("GET", "/api/v4/tech/tickets" + _LIST_QUERY),
    "tech.ticket": Endpoint("GET", "/api/v4/tech/tickets/{ticket_id}"),
    "tech.update_ticket": Endpoint("PATCH", "/api/v4/tech/tickets/{ticket_id}"),
    "tech.add_note": Endpoint("POST", "/api/v4/tech/tickets/{ticket_id}/notes"),
    "tech.statuses": Endpoint("GET", "/api/v4/tech/statuses"),
    "tech.priorities": Endpoint("GET", "/api/v4/tech/priorities"),
    "tech.agents": Endpoint("GET", "/api/v4/tech/agents"),
})

# The other dialect, as newer (Toki Iti) instances may speak it: agents, queues, service types and
# comments; lists that are neither paged nor sorted by the server; statuses per queue. Paths are
# assumptions like the ones above.
V4_ENDPOINTS: Mapping[str, Endpoint] = MappingProxyType({
    "public_keys": Endpoint("GET", "/api/v4/auth/signing-keys", "v4"),
    "portal.me": Endpoint("GET", "/api/v2/user/client", "v4"),
    "portal.tickets": Endpoint("GET", "/api/v4/client-portal/tickets", "v4"),
    "portal.ticket": Endpoint("GET", "/api/v4/client-portal/tickets/{ticket_id}", "v4"),
    "portal.add_note": Endpoint("POST", "/api/v4/client-portal/tickets/{ticket_id}/comments",
                                "v4"),
    "portal.create_ticket": Endpoint("POST", "/api/v4/client-portal/tickets", "v4"),
    "portal.request_types": Endpoint("GET", "/api/v4/client-portal/service-types", "v4"),
    "portal.priorities": Endpoint("GET", "/api/v4/client-portal/priorities", "v4"),
    "tech.me": Endpoint("GET", "/api/v4/tech/me", "v4"),
    "tech.tickets": Endpoint("GET", "/api/v4/tech/tickets", "v4"),
    "tech.ticket": Endpoint("GET", "/api/v4/tech/tickets/{ticket_id}", "v4"),
    "tech.update_ticket": Endpoint("PATCH", "/api/v4/tech/tickets/{ticket_id}", "v4"),
    "tech.add_note": Endpoint("POST", "/api/v4/tech/tickets/{ticket_id}/comments", "v4"),
    "tech.statuses": Endpoint("GET", "/api/v4/tech/statuses?queueId={queue_id}", "v4"),
    "tech.priorities": Endpoint("GET", "/api/v4/tech/priorities", "v4"),
    "tech.agents": Endpoint("GET", "/api/v4/tech/agents", "v4"),
})

DIALECTS: Mapping[str, Mapping[str, Endpoint]] = MappingProxyType(
    {"v2": DEFAULT_ENDPOINTS, "v4": V4_ENDPOINTS})

# Placeholders an operation may name beyond the ones its default path requires.
OPTIONAL_PLACEHOLDERS: Mapping[str, frozenset[str]] = MappingProxyType({
    "portal.tickets": frozenset({"skip", "take", "sort"}),
    "tech.tickets": frozenset({"skip", "take", "sort"}),
    "tech.statuses": frozenset({"queue_id"}),
})

_METHODS = {"GET", "POST", "PATCH", "PUT", "DELETE"}
_ENTRY = re.compile(r"^\s*([A-Za-z]+)\s+(/\S*)\s*$")


class EndpointsFileError(ValueError):
    """The operator's endpoints file cannot be used."""


def load(path: str | None) -> Mapping[str, Endpoint]:
    """The table of the chosen dialect with the operator's overrides from `path` (JSON) applied.

    The file holds "name": "METHOD /path" entries, and optionally "dialect": "v2" | "v4", which
    picks the table the entries start from (and the words they use).
    """
    if not path:
        return DEFAULT_ENDPOINTS
    try:
        with open(path, encoding="utf-8") as handle:
            overrides = json.load(handle)
    except OSError as exc:
        raise EndpointsFileError(f"cannot read {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise EndpointsFileError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(overrides, dict):
        raise EndpointsFileError(f"{path} must hold a JSON object of name → \"METHOD /path\"")
    dialect = overrides.pop("dialect", "v2")
    if dialect not in DIALECTS:
        raise EndpointsFileError(f"dialect must be one of {', '.join(DIALECTS)}, not {dialect!r}")
    table = dict(DIALECTS[dialect])
    for name, value in overrides.items():
        table[name] = _parse_override(name, value, table)
    return MappingProxyType(table)


def _parse_override(name: str, value: object, table: Mapping[str, Endpoint]) -> Endpoint:
    if name not in DEFAULT_ENDPOINTS:
        known = ", ".join(sorted(DEFAULT_ENDPOINTS))
        raise EndpointsFileError(f"unknown endpoint {name!r}; known names: {known}")
    match = _ENTRY.match(value) if isinstance(value, str) else None
    if not match or match.group(1).upper() not in _METHODS:
        raise EndpointsFileError(
            f"{name}: {value!r} is not \"METHOD /path\", e.g. \"GET /api/v4/portal/tickets\"")
    endpoint = Endpoint(match.group(1).upper(), match.group(2), table[name].words)
    required = DEFAULT_ENDPOINTS[name].placeholders() - OPTIONAL_PLACEHOLDERS.get(name, set())
    allowed = required | OPTIONAL_PLACEHOLDERS.get(name, set())
    if not required <= endpoint.placeholders() <= allowed:
        wanted = ", ".join(f"{{{p}}}" for p in sorted(required)) or "none"
        optional = ", ".join(f"{{{p}}}" for p in sorted(allowed - required))
        raise EndpointsFileError(f"{name}: path must use the placeholders {wanted}"
                                 + (f" and may use {optional}" if optional else ""))
    if name == "tech.update_ticket" and endpoint.method != "PATCH":
        # A partial PUT would wipe every field the agent did not touch.
        raise EndpointsFileError(f"{name}: must be PATCH; ddsite never sends a partial PUT")
    return endpoint
