"""URLs templates build over and over, built once: the base template's stylesheet, script and
icon (per app), and a list's links to each row's ticket (per page).

`url_for` costs tens of microseconds (URL processors, the rule's builder, encoding the query);
a queue page called it three times a row, a third of its template time.
"""

from __future__ import annotations

from flask import Flask, current_app, has_request_context, request, url_for

from .assets import SESSIONLESS_ENDPOINTS

# Keys are (script root, endpoint, values): a handful per app; the bound only guards against a
# proxy that sends ever new prefixes.
_KEPT = 256
# Stands for the row's value while the URL is built once; no real id is this long.
_PROBE = 918273645546372819
_PROBE_TEXT = str(_PROBE)
_SMALL = 7  # a second, short value: checks the path writes values as plain digits


def init_app(app: Flask) -> None:
    """Give templates `asset_url` and `url_maker`, with what they remember per app."""
    app.extensions["ddsite_asset_urls"] = {}
    app.extensions["ddsite_digit_paths"] = {}  # (endpoint, names) → writes plain digits?
    app.jinja_env.globals.update(asset_url=asset_url, url_maker=UrlMaker)


def asset_url(endpoint: str, **values) -> str:
    """`url_for` a static file or brand.css, remembered: such a URL depends on the app and the
    script root only (no session handle, a content fingerprint fixed once the app runs).

    In debug mode, where files change and their fingerprints with them, outside a request, and
    for any other endpoint, it is plain `url_for`.
    """
    if endpoint not in SESSIONLESS_ENDPOINTS or current_app.debug or not has_request_context():
        return url_for(endpoint, **values)
    known = current_app.extensions["ddsite_asset_urls"]
    key = (request.script_root, endpoint, *sorted(values.items()))
    url = known.get(key)
    if url is None:
        url = url_for(endpoint, **values)
        if len(known) < _KEPT:
            known[key] = url
    return url


class UrlMaker:
    """`url_for(endpoint, **{name: value}, **values)` for each of many whole numbers (a list's
    ticket ids), by filling the number into a URL built once.

    Used where the number is a path part written as plain digits (`<int:ticket_id>`), which is
    checked (once per app and endpoint): a URL whose number does not land once in the path, a
    value that is not a positive int, or a path that writes numbers otherwise (padded), goes
    to `url_for`.
    """

    def __init__(self, endpoint: str, name: str, **values) -> None:
        self._endpoint, self._name, self._values = endpoint, name, values
        self._parts: tuple[str, str] | None = None
        path, mark, query = url_for(endpoint, **{name: _PROBE}, **values).partition("?")
        if path.count(_PROBE_TEXT) == 1:
            head, _, tail = path.partition(_PROBE_TEXT)
            self._parts = (head, tail + mark + query)
            # Which rule builds the URL depends on the endpoint and the names given, not values.
            rule = (endpoint, name, *sorted(values))
            checked = current_app.extensions["ddsite_digit_paths"]
            if rule not in checked:
                checked[rule] = self(_SMALL) == self._built(_SMALL)
            if not checked[rule]:
                self._parts = None

    def __call__(self, value) -> str:
        """The URL for `value`."""
        if self._parts is None or type(value) is not int or value < 1:
            return self._built(value)
        head, tail = self._parts
        return f"{head}{value}{tail}"

    def _built(self, value) -> str:
        return url_for(self._endpoint, **{self._name: value}, **self._values)
