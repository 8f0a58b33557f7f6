"""One handler per error class: each renders a page that says what happened and what to do."""

from __future__ import annotations

import logging

from flask import Flask, Response, current_app, g, render_template, request, session
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge, SecurityError

from . import auth, flood, sendonce
from .deskdirector.errors import (
    DeskDirectorError,
    Forbidden,
    NotFound,
    TokenRejected,
    Unavailable,
    UnknownShape,
)
from .forms import too_large_message
from .redirects import this_page
from .sessions import STORE_ERRORS, StoreUnavailable
from .state import state

log = logging.getLogger(__name__)


def register(app: Flask) -> None:
    """Install the error handlers on `app`."""
    app.register_error_handler(auth.PageError, page_error)
    app.register_error_handler(auth.SessionEnded, session_ended)
    for error_class, handler in ((TokenRejected, token_rejected), (Forbidden, forbidden),
                                 (NotFound, not_found), (Unavailable, unavailable),
                                 (UnknownShape, unknown_shape),
                                 (DeskDirectorError, unexpected_upstream)):
        app.register_error_handler(error_class, _keeping_unsent_text(handler))
    app.register_error_handler(CSRFError, csrf_failed)
    app.register_error_handler(StoreUnavailable, store_down)
    for error_class in STORE_ERRORS:
        app.register_error_handler(error_class, store_down)
    app.register_error_handler(SecurityError, untrusted_host)
    app.register_error_handler(flood.TooManyAttempts, too_many_attempts)
    app.register_error_handler(RequestEntityTooLarge, too_large)
    app.register_error_handler(HTTPException, http_error)


def _keeping_unsent_text(handler):
    """A DeskDirector error before a form was sent (a read of the page failed) keeps its text."""
    def handle(error: DeskDirectorError):
        sendonce.keep_unsent(error)
        return handler(error)

    return handle


def _render(status: int, heading: str, sentence: str, detail: str = "", **context):
    """One heading and one sentence in plain words; the technical detail small, below."""
    return render_template("errors/error.html", heading=heading, sentence=sentence, detail=detail,
                           status=status, **context), status


def page_error(error: auth.PageError):
    return _render(error.status_code, error.heading, error.detail,
                   reopen_url=_reopen_url_if_known())


def session_ended(error: auth.SessionEnded):
    link = auth.return_url(error.host, error.app, error.ticket_id) if error.host else None
    already_sent = request.method == "POST" and sendonce.sent_already(request.form)
    return render_template("errors/session_ended.html", reopen_url=link, app_name=error.app,
                           draft_saved=error.draft_saved, already_sent=already_sent), 401


def token_rejected(error: TokenRejected):
    if session.get("token"):
        state().metrics.expiries.labels("rejected").inc()
    auth.end_session()
    return session_ended(auth.SessionEnded(session.get("host"), session.get("app", "portal"),
                                           auth.ticket_in_context(),
                                           draft_saved=error.draft_saved))


def forbidden(error: Forbidden):
    return _render(403, "You may not do that", f"DeskDirector says: {error.message}",
                   draft_saved=error.draft_saved, sent=error.sent)


def not_found(error: NotFound):
    return _render(404, "This ticket or page is not there",
                   "DeskDirector has no such item, or your account may not see it; it may have "
                   "been removed or merged.", draft_saved=error.draft_saved, sent=error.sent)


def unavailable(error: Unavailable):
    if error.timed_out:
        heading = "DeskDirector took too long to answer"
        sentence = "It may be busy; try again in a moment."
    elif error.upstream_status:
        heading, sentence = "DeskDirector had a problem", "Try again in a moment."
    else:
        heading, sentence = "DeskDirector could not be reached", "Try again in a moment."
    # After intake the URL holds no token, so "try again" may simply repeat it (as a GET). During
    # intake it holds the new token: only DeskDirector can hand that out again.
    during_intake = any(name in request.args for name in auth.TOKEN_PARAMS)
    retry_url = this_page() if session.get("token") and not during_intake else None
    reopen_url = None
    if retry_url is None and g.get("tenant_host"):
        reopen_url = auth.return_url(g.tenant_host, _app_of_request())
    return _render(error.status_code, heading, sentence, error.message, retry_url=retry_url,
                   reopen_url=reopen_url, draft_saved=error.draft_saved, sent=error.sent)


def unknown_shape(error: UnknownShape):
    log.warning("DeskDirector answered %s in an unknown shape: %s (HTTP %s, request id %s)",
                error.operation, error.detail, error.upstream_status, error.request_id or "-")
    return _render(502, "DeskDirector answered in a form ddsite does not know",
                   "This DeskDirector may keep that operation elsewhere or speak another "
                   "dialect: tell your administrator, who can set its path and dialect in "
                   "DDSITE_ENDPOINTS_FILE.",
                   f"ddsite asked DeskDirector for “{error.operation}” and could not read the "
                   f"answer ({error.detail}).", draft_saved=error.draft_saved, sent=error.sent)


def unexpected_upstream(error: DeskDirectorError):
    log.warning("DeskDirector answered HTTP %s (request id %s)", error.upstream_status,
                error.request_id or "-")
    return _render(502, "DeskDirector gave an unexpected answer",
                   "Try again; if it keeps happening, tell your administrator.", error.message,
                   draft_saved=error.draft_saved, sent=error.sent)


def store_down(error: Exception):
    if not isinstance(error, StoreUnavailable):
        log.error("The session store is not answering (%s)", type(error).__name__)
    # Refused before the page ran (the session could not be read): nothing was sent anywhere.
    return store_down_body(nothing_sent=getattr(session, "store_down", False)), 503


def store_down_body(nothing_sent: bool) -> str:
    """The 503 page for a store that does not answer; it needs no session to render.

    `nothing_sent` is False when the store failed while or after the page ran, so a form may
    already have reached DeskDirector.
    """
    detail = ("Its session store is not answering, so nothing can be shown or sent right now. "
              "Try again in a moment.")
    if request.method == "POST":
        detail += (" Nothing you sent was taken." if nothing_sent else
                   " What you sent may have reached DeskDirector; check before sending again.")
    # "Try again" repeats a plain GET; never a URL that still carries an access token.
    retry = request.method == "GET" and "access_token" not in request.args
    return render_template("errors/error.html", status=503, detail=detail,
                           heading="The site is briefly unavailable",
                           retry_url=this_page() if retry else None)


def csrf_failed(error: CSRFError):
    return _render(400, "The form could not be sent",
                   "Nothing was sent: it was too old or did not come from this page. Reload "
                   "the page and try again.")


def untrusted_host(error: SecurityError):
    # No URL can be built for a host the site does not answer to, so no template either.
    log.warning("Refused a request for a host not in DDSITE_TRUSTED_HOSTS")
    return Response("<!doctype html><title>Unknown host</title><h1>Unknown host</h1>"
                    "<p>This site does not answer to that host name.</p>", status=400,
                    mimetype="text/html")


def too_many_attempts(error: flood.TooManyAttempts):
    body, status = _render(429, "Too many sign-in attempts", error.detail)
    return body, status, {"Retry-After": str(error.retry_after)}


def too_large(error: RequestEntityTooLarge):
    return _render(413, "Too much to send", too_large_message(current_app.config["MAX_CONTENT_LENGTH"]))


def http_error(error: HTTPException):
    if isinstance(getattr(error, "original_exception", None), STORE_ERRORS):
        # The store failed outside the view (in a response hook), where Flask hands over only
        # a 500: it is still the store-down page.
        return store_down(error.original_exception)
    if error.code == 404:
        return _render(404, "This page is not there",
                       "The address may be mistyped, or the page may have moved.")
    return _render(error.code or 500, error.name, error.description or "")


def _reopen_url_if_known() -> str | None:
    # No session (never opened, or the store lost it): when the instance is still known, the
    # way back is through DeskDirector.
    host = g.get("tenant_host") or session.get("host") or _only_instance()
    return auth.return_url(host, _app_of_request(), auth.ticket_in_context()) if host else None


def _only_instance() -> str | None:
    hosts = current_app.config["DESKDIRECTOR_HOSTS"]
    return hosts[0] if len(hosts) == 1 else None


def _app_of_request() -> str:
    return "tech" if request.path.startswith("/tech") else "portal"
