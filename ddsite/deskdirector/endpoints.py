"""The endpoint table: every DeskDirector operation ddsite uses, by name.

Verified in public sources: `portal.me` (GET /api/v2/user/client) and the ticket shapes and list
query parameters. Everything else here, the v4 ticket paths, `tech.me`, the look-ups, the key
endpoint and the list parameter `orderBy` (activity | age | priority), is an assumption; an
operator corrects any entry from their instance's Swagger page with a JSON file named by
DDSITE_ENDPOINTS_FILE, e.g. {"tech.me": "GET /api/v2/user/member"}.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True)
class Endpoint:
    """One operation: HTTP method and a path template with {placeholders}."""

    method: str
    path: str

    def placeholders(self) -> set[str]:
        """Names of the {placeholders} in the path."""
        return {name for _, name, _, _ in string.Formatter().parse(self.path) if name}

    def url_path(self, **values: object) -> str:
        """The path with placeholders filled in."""
        return self.path.format(**{key: str(value) for key, value in values.items()})


DEFAULT_ENDPOINTS: Mapping[str, Endpoint] = MappingProxyType({
    "public_keys": Endpoint("GET", "/api/v4/auth/public-keys"),
    "portal.me": Endpoint("GET", "/api/v2/user/client"),
    "portal.tickets": Endpoint("GET", "/api/v4/portal/tickets"),
    "portal.ticket": Endpoint("GET", "/api/v4/portal/tickets/{ticket_id}"),
    "portal.add_note": Endpoint("POST", "/api/v4/portal/tickets/{ticket_id}/notes"),
    "portal.create_ticket": Endpoint("POST", "/api/v4/portal/tickets"),
    "portal.request_types": Endpoint("GET", "/api/v4/portal/request-types"),
    "portal.priorities": Endpoint("GET", "/api/v4/portal/priorities"),
    "tech.me": Endpoint("GET", "/api/v2/user/member"),
    "tech.tickets": Endpoint("GET", "/api/v4/tech/tickets"),
    "tech.ticket": Endpoint("GET", "/api/v4/tech/tickets/{ticket_id}"),
    "tech.update_ticket": Endpoint("PATCH", "/api/v4/tech/tickets/{ticket_id}"),
    "tech.add_note": Endpoint("POST", "/api/v4/tech/tickets/{ticket_id}/notes"),
    "tech.statuses": Endpoint("GET", "/api/v4/tech/statuses"),
    "tech.priorities": Endpoint("GET", "/api/v4/tech/priorities"),
    "tech.agents": Endpoint("GET", "/api/v4/tech/agents"),
})

_METHODS = {"GET", "POST", "PATCH", "PUT", "DELETE"}
_ENTRY = re.compile(r"^\s*([A-Za-z]+)\s+(/\S*)\s*$")


class EndpointsFileError(ValueError):
    """The operator's endpoints file cannot be used."""


def load(path: str | None) -> Mapping[str, Endpoint]:
    """The default table with the operator's overrides from `path` (JSON) applied."""
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
    table = dict(DEFAULT_ENDPOINTS)
    for name, value in overrides.items():
        table[name] = _parse_override(name, value)
    return MappingProxyType(table)


def _parse_override(name: str, value: object) -> Endpoint:
    if name not in DEFAULT_ENDPOINTS:
        known = ", ".join(sorted(DEFAULT_ENDPOINTS))
        raise EndpointsFileError(f"unknown endpoint {name!r}; known names: {known}")
    match = _ENTRY.match(value) if isinstance(value, str) else None
    if not match or match.group(1).upper() not in _METHODS:
        raise EndpointsFileError(
            f"{name}: {value!r} is not \"METHOD /path\", e.g. \"GET /api/v4/portal/tickets\"")
    endpoint = Endpoint(match.group(1).upper(), match.group(2))
    expected = DEFAULT_ENDPOINTS[name]
    if endpoint.placeholders() != expected.placeholders():
        wanted = ", ".join(f"{{{p}}}" for p in sorted(expected.placeholders())) or "none"
        raise EndpointsFileError(f"{name}: path must use the placeholders {wanted}")
    if name == "tech.update_ticket" and endpoint.method != "PATCH":
        # A partial PUT would wipe every field the agent did not touch.
        raise EndpointsFileError(f"{name}: must be PATCH; ddsite never sends a partial PUT")
    return endpoint
