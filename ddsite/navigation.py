"""The top bar's sections and the lists' remembered state: data the base template loops over."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from flask import Flask, current_app, request, session
from flask.sessions import SessionMixin

from .auth import URL_HANDLE
from .deskdirector.models import User
from .page_urls import page_url


@dataclass(frozen=True)
class Link:
    """One section in the top bar: its label, its page, the pages that count as inside it, and
    (optionally) which users see it."""

    label: str
    endpoint: str
    also_current_on: tuple[str, ...] = ()
    visible: Callable[[User], bool] | None = None


# Every page adds its own sections when it is registered (ddsite.pages), the stock pages too.
AUDIENCES = ("portal", "tech")
# Each audience's list page: where "back" goes, with the filters and page it had.
LIST_ENDPOINTS = {"portal": "portal.tickets", "tech": "tech.queue"}
_PIXELS = re.compile(r"[0-9]{1,7}")
LIST_LABELS = {"portal": ("My tickets", "Back to my tickets"), "tech": ("Queue", "Back to the queue")}


def init_app(app: Flask) -> None:
    """Give `app` its own copy of the sections (the app's context processor calls
    `template_context`)."""
    app.extensions["ddsite_navigation"] = {audience: [] for audience in AUDIENCES}


def template_context(current: SessionMixin, live: bool) -> dict:
    """`nav_links` and `list_back` for the base template, the list's URL built once for both.

    `current` is the session, read by the caller (which also needs it), and `live` whether its
    token still holds.
    """
    who = current.get("app") if live else None
    if who is None or not request.path.startswith(f"/{who}/"):
        return {"nav_links": [], "list_back": None}
    list_url = page_url(LIST_ENDPOINTS[who], **_list_args(current.get(f"list_args.{who}", {})))
    return {"nav_links": _links(current, who, list_url), "list_back": _list_back(who, list_url)}


def add_link(app: Flask, audience: str, link: Link) -> None:
    """Add a section to the top bar of `audience` ("portal" or "tech")."""
    app.extensions["ddsite_navigation"].setdefault(audience, []).append(link)


def audience() -> str | None:
    """The audience of a live session on its own pages, else None (no navigation to offer)."""
    current = session.get("app")
    live = bool(session.get("token")) and session.get("exp", 0) > time.time()
    if not live or not request.path.startswith(f"/{current}/"):
        return None
    return current


def _links(current: SessionMixin, who: str, list_url: str) -> list[dict]:
    """The sections for this page: label, URL and whether this page is inside it."""
    if not current.get("user"):
        return []  # who-am-I has not answered yet (it runs beside the first page's reads)
    here = request.endpoint
    shown = []
    user = None
    for link in current_app.extensions["ddsite_navigation"].get(who, []):
        if link.visible is not None:
            user = user or User.from_session(current["user"])  # only some links ask
            if not link.visible(user):
                continue
        url = list_url if link.endpoint == LIST_ENDPOINTS[who] else page_url(link.endpoint)
        shown.append({"label": link.label, "url": url,
                      "current": here == link.endpoint or here in link.also_current_on})
    return shown


def remember_list() -> None:
    """Note the list's filters and page, so "back" and the top bar return to them."""
    who = audience()
    if who is None:
        return
    args = _list_args(request.args)
    if session.get(f"list_args.{who}") != args:
        session[f"list_args.{who}"] = args


def _list_args(args: Mapping[str, str]) -> dict[str, str]:
    """A list's query without the handle or names `url_for` takes as its own ("endpoint",
    "_anchor", ...): a list URL with `?endpoint=x` broke every later page of the session with a
    500. Filtered when read too, for sessions that kept such names before."""
    if not any(key == URL_HANDLE or key == "endpoint" or key[:1] == "_" for key in args):
        return args if type(args) is dict else dict(args.items())
    return {key: value for key, value in args.items()
            if key != URL_HANDLE and key != "endpoint" and key[:1] != "_"}


def _list_back(who: str, list_url: str) -> dict:
    """The way back to the audience's list as the user left it: {"label", "sentence", "url"}."""
    label, sentence = LIST_LABELS[who]
    return {"label": label, "sentence": sentence, "url": list_url}


def scroll_anchor() -> str:
    """"#at=<pixels>" when the page sent where it was scrolled (a quick action's `at`), so the
    list comes back at the same place; else ""."""
    at = request.args.get("at", "")
    return f"#at={at}" if _PIXELS.fullmatch(at) else ""
