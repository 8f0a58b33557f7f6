"""URLs templates build over and over, built once: the base template's stylesheet, script and
icon (per app), pages' own URLs while the session handle stays out of URLs (per app), and a
list's links to each row's ticket (per page).

`url_for` costs tens of microseconds (URL processors, the rule's builder, encoding the query);
a queue page called it three times a row, a third of its template time.
"""

from __future__ import annotations

from typing import NamedTuple

from flask import Flask, current_app, g, url_for
from flask.globals import _cv_request

from .assets import SESSIONLESS_ENDPOINTS, add_fingerprint
from .auth import add_url_handle
from .redirects import this_page

# Keys are (script root, endpoint, values): a handful per app; the bound only guards against a
# proxy that sends ever new prefixes.
_KEPT = 256
# Stands for the row's value while the URL is built once; no real id is this long.
_PROBE = 918273645546372819
_PROBE_TEXT = str(_PROBE)
_SMALL = 7  # a second, short value: checks the path writes values as plain digits


# The URL processors ddsite installs; page URLs are remembered only while they are all there are.
_OWN_URL_DEFAULTS = frozenset({add_url_handle, add_fingerprint})


def init_app(app: Flask) -> None:
    """Give templates `asset_url`, `url_for` (as `page_url`), `url_maker` and `this_page`, with
    what they remember per app."""
    app.extensions["ddsite_asset_urls"] = {}
    app.extensions["ddsite_head_urls"] = {}
    app.extensions["ddsite_page_urls"] = {}
    app.extensions["ddsite_digit_paths"] = {}  # (endpoint, names) → writes plain digits?
    app.jinja_env.globals.update(asset_url=asset_url, url_for=page_url, url_maker=UrlMaker,
                                 this_page=this_page)


def asset_url(endpoint: str, **values) -> str:
    """`url_for` a static file or brand.css, remembered: such a URL depends on the app and the
    script root only (no session handle, a content fingerprint fixed once the app runs).

    In debug mode, where files change and their fingerprints with them, outside a request, and
    for any other endpoint, it is plain `url_for`.
    """
    # The request context itself rather than the `request` and `current_app` proxies: the base
    # template asks four times a page.
    context = _cv_request.get(None)
    if context is None or endpoint not in SESSIONLESS_ENDPOINTS or context.app.debug:
        return url_for(endpoint, **values)
    known = context.app.extensions["ddsite_asset_urls"]
    key = (context.request.script_root, endpoint, *sorted(values.items()))
    url = known.get(key)
    if url is None:
        url = url_for(endpoint, **values)
        if len(known) < _KEPT:
            known[key] = url
    return url


class HeadUrls(NamedTuple):
    """The files every page's <head> links to."""

    icon: str
    stylesheet: str
    brand: str
    script: str


def head_urls() -> HeadUrls:
    """The base template's icon, stylesheets and script (as `asset_url` writes them), kept
    together per app and script root, so a page asks once rather than four times."""
    context = _cv_request.get(None)
    if context is None or context.app.debug:
        return _head_urls()
    known = context.app.extensions["ddsite_head_urls"]
    urls = known.get(context.request.script_root)
    if urls is None:
        urls = _head_urls()
        if len(known) < _KEPT:
            known[context.request.script_root] = urls
    return urls


def _head_urls() -> HeadUrls:
    return HeadUrls(asset_url("static", filename="favicon.svg"),
                    asset_url("static", filename="ddsite.css"), asset_url("brand_css"),
                    asset_url("static", filename="ddsite.js"))


def page_url(endpoint: str, **values) -> str:
    """`url_for`, remembered for a page of this site while the session handle stays out of URLs.

    Such a URL depends only on the script root, the endpoint and the values: the rules cannot
    change once the app has served a request, and no URL processor but ddsite's own adds
    anything to it (the handle's adds nothing while it stays out of URLs). Anything else (a
    handle in URLs, a blueprint's or an extension's URL processor, `_external` and the other
    options, a relative endpoint, values other than text and whole numbers, static files, outside
    a request) is plain `url_for`.
    """
    context = _cv_request.get(None)
    if (context is None or endpoint[:1] == "." or endpoint in SESSIONLESS_ENDPOINTS
            or not _urls_fixed(context.app) or g.get("session_in_url")):
        return url_for(endpoint, **values)
    key: tuple = (context.request.script_root, endpoint)
    if values:
        items = sorted(values.items())
        for name, value in items:
            if type(value) not in _PLAIN or name[:1] == "_":
                return url_for(endpoint, **values)
        # The types too: True and 1 are equal keys but are written differently.
        key = (*key, *items, *[type(value) for _, value in items])
    known = context.app.extensions["ddsite_page_urls"]
    url = known.get(key)
    if url is None:
        url = url_for(endpoint, **values)
        if len(known) >= _KEPT:
            known.clear()  # a page's own ticket URLs come and go; the top bar's come back at once
        known[key] = url
    return url


_PLAIN = frozenset({str, int})


def _urls_fixed(app: Flask) -> bool:
    """Do URLs depend only on the script root, the endpoint and the values? Checked once."""
    # `_got_first_request`: Flask refuses new rules and processors after it, so what was
    # checked stays true.
    if not app._got_first_request:
        return False
    fixed = app.extensions.get("ddsite_urls_fixed")
    if fixed is None:
        # A rule on another host or subdomain is written with the request's host, and with
        # subdomain matching the request's own subdomain decides which that is.
        fixed = app.extensions["ddsite_urls_fixed"] = (
            not app.url_map.host_matching and not app.subdomain_matching
            and all(not rule.subdomain and not rule.host for rule in app.url_map.iter_rules())
            and all(name is None and set(functions) <= _OWN_URL_DEFAULTS
                    for name, functions in app.url_default_functions.items() if functions))
    return fixed


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
