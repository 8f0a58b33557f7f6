"""Response headers for life in a DeskDirector iframe, and a log filter that strips tokens."""

from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit, urlunsplit

from flask import Flask, Response, request

from .assets import SESSIONLESS_ENDPOINTS
from .sessions import URL_HANDLE

_TOKEN_PATTERNS = [
    (re.compile(r"(access_token=)[^&\s\"']+", re.IGNORECASE), r"\1[redacted]"),
    (re.compile(r"(ddsid=)[^&\s\"']+", re.IGNORECASE), r"\1[redacted]"),
    # The same inside an encoded URL, e.g. a `next=` parameter that carries a whole path.
    (re.compile(r"((?:access_token|ddsid)(?:%3D|%253D))[\w.~-]+", re.IGNORECASE),
     r"\1[redacted]"),
    (re.compile(r"((?:DdAccessToken|DdApi|Bearer)\s+)\S+", re.IGNORECASE), r"\1[redacted]"),
    # Any JWT, wherever it appears.
    (re.compile(r"eyJ[\w-]*\.[\w-]+\.[\w-]*"), "[redacted-jwt]"),
]


def redact(text: str) -> str:
    """Text with access tokens, session handles and JWTs replaced."""
    for pattern, replacement in _TOKEN_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Strips tokens from a record's message, its arguments and its formatted exception."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: keep what we can, still redacted
            message = str(record.msg)
        record.msg = redact(message)
        record.args = ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


REDACTING_FILTER = RedactingFilter()
# Loggers whose records may carry a request line or an upstream URL.
_LOGGERS = ("werkzeug", "gunicorn.access", "gunicorn.error", "ddsite", "urllib3", "flask.app")


def install_log_filter(app: Flask) -> None:
    """Attach the redacting filter to every logger (and handler) that may see a token."""
    # Filters on a logger do not see records of its children, so each ddsite module's logger
    # (all exist once the package is imported) gets its own.
    ours = [name for name in logging.root.manager.loggerDict if name.startswith("ddsite.")]
    for name in (*_LOGGERS, *ours, app.logger.name):
        logger = logging.getLogger(name)
        if REDACTING_FILTER not in logger.filters:
            logger.addFilter(REDACTING_FILTER)
    for handler in logging.getLogger().handlers:
        if REDACTING_FILTER not in handler.filters:
            handler.addFilter(REDACTING_FILTER)


def content_security_policy(frame_ancestors: list[str]) -> str:
    """The CSP for every page: own resources only, framed only by the configured instances."""
    ancestors = " ".join(frame_ancestors) or "'none'"
    return ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "object-src 'none'; base-uri 'none'; form-action 'self'; "
            f"frame-ancestors {ancestors}")


# What `set_security_headers` sets or removes on every reply (`page_headers` gives the first three).
_OWN_HEADER_NAMES = frozenset({"content-security-policy", "referrer-policy",
                               "x-content-type-options", "x-frame-options", "cache-control"})


def page_headers(frame_ancestors: list[str]) -> tuple[tuple[str, str], ...]:
    """The headers every reply gets, worked out once per app: CSP, Referrer-Policy, nosniff."""
    return (("Content-Security-Policy", content_security_policy(frame_ancestors)),
            # Same-origin: our own pages get a Referer (flask-wtf's HTTPS check needs it), nobody
            # else.
            ("Referrer-Policy", "same-origin"),
            ("X-Content-Type-Options", "nosniff"))


def set_security_headers(response: Response, headers: tuple[tuple[str, str], ...]) -> Response:
    """Add `page_headers`, and no-store on everything but static files and brand.css (whose
    caching assets.py decides); never X-Frame-Options (the CSP says who may frame us)."""
    no_store = request.endpoint not in SESSIONLESS_ENDPOINTS
    if any(name.lower() in _OWN_HEADER_NAMES for name, _ in response.headers):
        return _set_security_headers_one_by_one(response, headers, no_store)
    # Most replies hold none of these names yet: one look at the reply's headers instead of a
    # look per name (a set and a membership test each walk them), for the same list of headers.
    for name, value in headers:
        response.headers.add(name, value)
    if no_store:
        response.headers.add("Cache-Control", "no-store")
    return response


def _set_security_headers_one_by_one(response: Response, headers: tuple[tuple[str, str], ...],
                                     no_store: bool) -> Response:
    for name, value in headers:
        response.headers[name] = value
    if "X-Frame-Options" in response.headers:
        del response.headers["X-Frame-Options"]
    if no_store:
        response.headers["Cache-Control"] = "no-store"
    return response


def keep_redirects_on_this_host(response: Response) -> Response:
    """Make a redirect to this very host relative, so a forged Host header cannot steer it.

    Werkzeug writes the trailing-slash redirect (/portal → /portal/) with the request's Host;
    a relative Location means the same to the browser and names no host at all.
    """
    location = response.headers.get("Location")
    if location and response.status_code in (301, 302, 303, 307, 308):
        parts = urlsplit(location)
        if parts.netloc and parts.netloc == request.host:
            response.headers["Location"] = urlunsplit(("", "", parts.path or "/", parts.query,
                                                       parts.fragment))
    return response


# Query parameters whose values are choices or numbers, never text a stranger can put on a page.
_UNREFLECTED_ARGS = frozenset({"status", "view", "sort", "page", "notes", "at", "period", "company"})


def compress_without_breach(compress, min_size: int):
    """An after-request hook that compresses a page only when compression cannot leak a secret,
    and only when it is at least `min_size` bytes long.

    BREACH: a compressed page that holds a secret (the CSRF token, a session handle in its links)
    and also echoes text from the request (a search) lets someone who can see response sizes
    guess the secret a character at a time. Such pages go out uncompressed.
    """
    def after_request(response: Response) -> Response:
        args = request.args
        if request.method != "GET" or URL_HANDLE in args or any(
                name not in _UNREFLECTED_ARGS for name in args):
            return response
        size = response.content_length
        if size is not None and size < min_size:
            # flask-compress would come to the same answer, at four times the cost of asking.
            _vary_on_accept_encoding(response)
            return response
        return compress.after_request(response)

    return after_request


def _vary_on_accept_encoding(response: Response) -> None:
    """Say that the reply depends on Accept-Encoding, as flask-compress does for those it handles."""
    vary = response.headers.get("Vary")
    if not vary:
        response.headers["Vary"] = "Accept-Encoding"
    elif "accept-encoding" not in vary.lower():
        response.headers["Vary"] = f"{vary}, Accept-Encoding"
