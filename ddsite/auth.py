"""Token intake, the signed-in session, expiry, and the way back through the portal.

The only module that reads the access token: views get a ready `Client` from `api()`.
"""

from __future__ import annotations

import contextlib
import logging
import time
from typing import Any
from urllib.parse import unquote_plus, urlencode, urlsplit

import jwt
from flask import Blueprint, current_app, g, redirect, request, session
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from . import flood, identity
from .assets import SESSIONLESS_ENDPOINTS
from .config import normalise_origin
from .deskdirector.client import Client
from .deskdirector.errors import Forbidden, NotFound, TokenRejected, Unavailable
from .deskdirector.models import User
from .deskdirector.signing_keys import UnknownKey
from .redirects import this_page, this_path
from .sessions import URL_HANDLE, browser_binding, settle_ticket
from .state import state

log = logging.getLogger(__name__)

TOKEN_PARAMS = ("access_token", "host")
APP_LABELS = {"portal": "a contact", "tech": "an agent"}
# Blueprint name → the audience whose session it requires (filled by `protect`).
AUDIENCES: dict[str, str] = {}
# A token claiming to live longer than this is not DeskDirector's (theirs last hours to days).
_LONGEST_TOKEN = 366 * 24 * 3600


class PageError(Exception):
    """An error with its own page: status, heading and what the user can do."""

    status_code = 400
    heading = "Something went wrong"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NoToken(PageError):
    """No session and no access_token: the page was not opened from DeskDirector."""

    heading = "Open this page from DeskDirector"


class UnknownHost(PageError):
    """`host` is not on the operator's allow-list."""

    heading = "This DeskDirector instance is not allowed"


class MalformedToken(PageError):
    """The access token is not a readable JWT with an `exp`."""

    heading = "The sign-in link is not valid"


class WrongApp(PageError):
    """A contact's token on an agent page or the other way round."""

    status_code = 403
    heading = "This page is for another kind of user"


class SessionEnded(Exception):
    """The token has expired or DeskDirector rejected it: the user must come back via the portal."""

    def __init__(self, host: str | None, app: str, ticket_id: int | None = None,
                 draft_saved: bool = False) -> None:
        super().__init__("session ended")
        self.host = host
        self.app = app
        self.ticket_id = ticket_id
        self.draft_saved = draft_saved


def protect(bp: Blueprint, app_name: str) -> None:
    """Require a live session for `app_name` on every page of `bp` (intake included)."""
    AUDIENCES[bp.name] = app_name
    bp.before_request(lambda: require_session(app_name))
    bp.after_request(settle_identity)


def intake_before_redirect():
    """Before Werkzeug's own redirects (a missing slash, doubled slashes): intake first.

    Those redirects copy the query string, token included, into `Location` and the page body.
    """
    routing = request.routing_exception
    if not isinstance(routing, RequestRedirect) or not any(p in request.args for p in TOKEN_PARAMS):
        return None
    path = urlsplit(routing.new_url).path  # under the script root, as werkzeug built it
    audience = _audience_of(path.removeprefix(request.script_root))
    if audience and "access_token" in request.args:
        return intake(audience, path)
    query = urlencode([(k, v) for k, v in request.args.items(multi=True) if k not in TOKEN_PARAMS])
    return redirect(path + (f"?{query}" if query else ""), code=303)


def _audience_of(path: str) -> str | None:
    try:
        endpoint, _ = current_app.create_url_adapter(request).match(path, method="GET")
    except HTTPException:
        return None
    return AUDIENCES.get(endpoint.rpartition(".")[0])


def require_session(app_name: str):
    """Intake a token, confirm how the handle travels, or check the session for this request."""
    args = request.args
    if "access_token" in args:
        return intake(app_name)
    # Read through the proxy once: this runs on every page, and each proxied read is a look-up.
    current = session._get_current_object()
    if URL_HANDLE in args and current.get("transport") == "pending":
        settle_transport()
    if not current.get("host"):
        raise NoToken("This page opens from a menu item in DeskDirector. Open DeskDirector and "
                      "choose the menu item again.")
    if current.get("app") != app_name:
        raise WrongApp(_wrong_app_detail(current.get("app"), app_name))
    g.session_in_url = current.get("transport") == "url"
    if request.method == "POST":
        state().csrf.protect()
    token = current.get("token")
    if not token or current["exp"] <= time.time():
        if token:
            state().metrics.expiries.labels("expired").inc()
        from . import sendonce  # here, not at the top: sendonce's forms import this module

        saved = request.method == "POST" and sendonce.keep(request.form)
        end_session()
        raise SessionEnded(current["host"], app_name, ticket_in_context(), draft_saved=saved)
    if current.get("user") is None:  # intake trusted the signature: who-am-I runs beside the page
        host = current["host"]
        client = state().client(host, token)
        identity.confirm_alongside(state().transport.executor(),
                                   lambda: _confirmed(client, app_name, host))
    return None


def _confirmed(client: Client, app_name: str, host: str) -> dict:
    user = who_am_i(client, app_name)
    log.info("Confirmed %s user %s on %s", app_name, user.id, host)
    return user.to_session()


def settle_identity(response):
    """After a page: keep who-am-I's answer; if it refused the token, show that instead."""
    if not identity.pending():
        return response
    try:
        identity.user_record()
    except (TokenRejected, PageError) as error:
        # Its refusal explains whatever else the page ran into with this token.
        return current_app.make_response(current_app.handle_user_exception(error))
    except Unavailable as error:
        if response.status_code >= 400:
            return response  # the page failed on its own; the next one asks again
        return current_app.make_response(current_app.handle_user_exception(error))
    return response


def who_am_i(client: Client, app_name: str) -> User:
    """Who-am-I for `app_name`, its refusals turned into pages (TokenRejected is the caller's)."""
    try:
        return client.face(app_name).me()
    except Forbidden:
        other = "tech" if app_name == "portal" else "portal"
        raise WrongApp(_wrong_app_detail(other, app_name)) from None
    except NotFound:
        raise Unavailable("DeskDirector does not know the sign-in check ddsite uses; the "
                          "administrator may need to correct DDSITE_ENDPOINTS_FILE.") from None


def intake(app_name: str, path: str | None = None):
    """Turn `?access_token=…&host=…` into a fresh server-side session and a clean URL (`path`,
    under the script root, by default the one asked for)."""
    host = allowed_host(request.args.get("host"))
    g.tenant_host = host
    token = request.args.get("access_token", "").strip()
    if not token:
        raise NoToken("The link from DeskDirector carried no access token. Open the menu item in "
                      "DeskDirector again; if this keeps happening, ask your administrator to "
                      "tick “Access Token” on the menu item.")
    exp, verified = token_expiry(token, host)
    if exp <= time.time():
        raise SessionEnded(host, app_name, ticket_in_context())
    flood.check_intake(host)
    user = None
    if not verified:  # who-am-I proves the token before anything else may use it
        try:
            user = who_am_i(state().client(host, token), app_name)
        except TokenRejected:
            flood.count_failure(host)
            raise SessionEnded(host, app_name, ticket_in_context()) from None
    # The browser sent our cookie, so cookies work here: no second leg to find out.
    cookie_works = session.cookie is not None
    session.rotate()
    session.update({"host": host, "token": token, "exp": exp, "app": app_name,
                    "user": user.to_session() if user else None,
                    "transport": "cookie" if cookie_works else "pending"})
    if cookie_works:
        state().metrics.sessions.labels("cookie").inc()  # else counted once it has settled
    else:
        session["settle"] = settle_ticket(request)
    state().metrics.intakes.labels(app_name).inc()
    log.info("Signed in %s user %s on %s for %d s", app_name, user.id if user else "(confirming)",
             host, exp - time.time())
    # The old handle, if the URL had one, died with the rotation: only the new one goes on.
    query = [(k, v) for k, v in request.args.items(multi=True)
             if k not in (*TOKEN_PARAMS, URL_HANDLE)]
    if not cookie_works:
        query.append((URL_HANDLE, session.handle))
    # The script root too: behind a proxy that publishes the site under a prefix, the browser's
    # address has it, and a Location without it would leave the site.
    path = path or this_path()
    return redirect(path + (f"?{urlencode(query)}" if query else ""), code=303)


def settle_transport() -> None:
    """Second leg of intake, the page itself: did the cookie come back? Then the cookie carries
    the session from now on, and the page's script drops the handle from the address."""
    state().metrics.sessions.labels("url" if session.from_url else "cookie").inc()
    session.pop("settle", None)
    if session.from_url:
        session["transport"] = "url"  # cookie blocked: the handle stays in every URL
        session["bound_to"] = browser_binding(request)
        return
    # No third request to a clean URL: this page is served as the clean URL's (its links, and
    # anything built from its query, leave the handle out), and the session goes on under a new
    # handle, sent in a new cookie: the one still in the address until the page's script
    # replaces it (and in this page's history entry, and the Referer of its styles and script)
    # opens nothing, in a URL or a cookie, wherever it is copied to.
    session.rehandle()
    session["transport"] = "cookie"
    query = "&".join(part for part in request.query_string.decode("latin-1").split("&")
                     if part and unquote_plus(part.partition("=")[0]) != URL_HANDLE)
    request.environ["QUERY_STRING"], request.query_string = query, query.encode("latin-1")
    with contextlib.suppress(KeyError):
        del request.args  # werkzeug's parsed query, parsed again from the one just written
    g.clean_url = this_page()


def allowed_host(raw: str | None) -> str:
    """The normalised `host`, if the operator allows it; with one host configured it may be omitted."""
    hosts = current_app.config["DESKDIRECTOR_HOSTS"]
    if not raw:
        if len(hosts) == 1:
            return hosts[0]
        raise UnknownHost("The link from DeskDirector did not say which instance it came from. "
                          "Ask your administrator to tick “Access Token” on the menu item.")
    # A bare instance name ("support.example.com") is read as https; the allow-list decides.
    candidate = raw.strip() if "://" in raw else f"https://{raw.strip()}"
    origin = normalise_origin(candidate.rstrip("/"))
    if origin is None or origin not in hosts:
        log.warning("Refused a token for an instance not on the allow-list: %r", raw[:200])
        raise UnknownHost(f"“{raw}” is not one of the DeskDirector instances this site works with. "
                          "If it should be, the administrator adds it to DDSITE_DESKDIRECTOR_HOSTS.")
    return origin


def token_expiry(token: str, host: str) -> tuple[float, bool]:
    """`exp` of the JWT, and whether its signature was checked (when DeskDirector's keys are
    configured)."""
    options = {"verify_exp": False, "verify_aud": False, "require": ["exp"]}
    try:
        # Only keys fetched from the instance are chosen by `kid`; for the others, reading the
        # header first would parse the token twice (decode reads and checks the header itself).
        keys = state().jwt_keys(host, _kid(token) if state().keys_by_kid else None)
        if not keys:
            claims = jwt.decode(token, options={**options, "verify_signature": False})
        else:
            claims = _verified_claims(token, keys, options)
    except (jwt.PyJWTError, UnknownKey):
        raise MalformedToken("The access token from DeskDirector could not be read. Open the menu "
                             "item in DeskDirector again.") from None
    exp = claims.get("exp")
    if isinstance(exp, bool) or not isinstance(exp, int | float):
        raise MalformedToken("The access token from DeskDirector has no expiry time.")
    # JSON allows NaN, Infinity and integers of any size; none of them is a time.
    if not 0 <= exp <= time.time() + _LONGEST_TOKEN:  # also false for NaN
        raise MalformedToken("The access token from DeskDirector has an expiry time that cannot be "
                             "right. Open the menu item in DeskDirector again.")
    return float(exp), bool(keys)


def _kid(token: str) -> str | None:
    kid = jwt.get_unverified_header(token).get("kid")
    return kid if isinstance(kid, str) else None


def _verified_claims(token: str, keys: list, options: dict) -> dict[str, Any]:
    # Keys rotate every 30 days, so the file may hold several; any one may have signed.
    for key in keys:
        try:
            return jwt.decode(token, key=key, algorithms=["RS256", "RS384", "RS512"],
                              options=options)
        except jwt.InvalidSignatureError:
            continue
    raise jwt.InvalidSignatureError("no configured key matches")


def _wrong_app_detail(token_app: str | None, page_app: str) -> str:
    token_user = APP_LABELS.get(token_app or "", "another kind of user")
    page_users = {"portal": "contacts", "tech": "agents"}[page_app]
    return (f"You are signed in as {token_user}, and these pages are for "
            f"{page_users}. Open the menu item from the "
            f"{'TECH' if page_app == 'tech' else 'client portal'} instead.")


def ticket_in_context() -> int | None:
    """The ticket this page is about, for a deep link back into the portal."""
    value = (request.view_args or {}).get("ticket_id")
    return value if isinstance(value, int) else None


def current_user() -> User:
    """The signed-in contact or agent, as who-am-I said (asked once per session)."""
    return User.from_session(identity.user_record())


def api() -> Client:
    """A DeskDirector client acting as the signed-in user (never waits for who-am-I)."""
    user = session.get("user") or {}
    return state().client(session["host"], session["token"], user=user.get("id"))


def tenant() -> str:
    """The signed-in user's DeskDirector instance (validated at intake)."""
    return session["host"]


def end_session() -> None:
    """Forget the token (it expired or DeskDirector rejected it); tenant and user stay, so the
    session-ended page can link back and a late form can still be kept as a draft."""
    if "token" in session:
        del session["token"]
        session["exp"] = 0


def return_url(host: str, app_name: str, ticket_id: int | None = None) -> str:
    """Where to reopen the menu item through the portal; built only from the validated host."""
    config = current_app.config
    if ticket_id is not None:
        template = config["TECH_TICKET_URL" if app_name == "tech" else "PORTAL_TICKET_URL"]
    else:
        template = config["TECH_RETURN_URL" if app_name == "tech" else "PORTAL_RETURN_URL"]
    return template.format(host=host, ticket_id=ticket_id if ticket_id is not None else "")


def add_url_handle(endpoint: str, values: dict) -> None:
    """URL processor: carry the session handle in every ddsite URL when cookies are blocked."""
    if endpoint not in SESSIONLESS_ENDPOINTS and g.get("session_in_url") and session.handle:
        values.setdefault(URL_HANDLE, session.handle)

