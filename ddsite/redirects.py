"""Redirect targets that come from input (`next`, return URLs): parsed and checked before use."""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

from flask import current_app, request
from werkzeug.exceptions import HTTPException

# Printable ASCII only: no control characters (header injection), no spaces, no backslash
# (browsers read "/\evil.example" as "//evil.example").
_SAFE = re.compile(r"[!-\[\]-~]{1,2000}")


# What a path may hold unescaped in an address we write (RFC 3986's pchar, and "/").
_PATH_SAFE = "/:@!$&'()*+,;=~"


def this_path() -> str:
    """This request's path as the browser has it: under the script root, escaped."""
    return quote(request.script_root + request.path, safe=_PATH_SAFE)


def this_page() -> str:
    """This request's address as the browser has it: `this_path()` and its query."""
    query = request.query_string.decode("latin-1")
    return f"{this_path()}?{query}" if query else this_path()


def local_target(raw: str | None, under: str, fallback: str) -> str:
    """`raw` when it is a page of this site below `under` (a path of the app, like "/tech/")
    that a GET reaches; else `fallback`. `raw` is an address, under the script root.

    Checked before any state changes, so an action is never followed by an error page.
    """
    if not raw or not _SAFE.fullmatch(raw):
        return fallback
    parts = urlsplit(raw)
    root = request.script_root
    if parts.scheme or parts.netloc or parts.fragment or not parts.path.startswith(root + under):
        return fallback
    try:
        current_app.create_url_adapter(request).match(parts.path.removeprefix(root), method="GET")
    except HTTPException:  # no such page (or only a redirect to one)
        return fallback
    return raw
