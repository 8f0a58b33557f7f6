"""The top bar's sections and the lists' remembered state: data the base template loops over."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app, request, session, url_for

from .auth import URL_HANDLE
from .deskdirector.models import User


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
    """Give `app` its own copy of the sections and the template globals that read them."""
    app.extensions["ddsite_navigation"] = {audience: [] for audience in AUDIENCES}
    app.context_processor(template_context)


def template_context() -> dict:
    """`nav_links` and `list_back` for the base template, the list's URL built once for both."""
    who = audience()
    if who is None:
        return {"nav_links": [], "list_back": None}
    list_url = _list_url(who)
    return {"nav_links": _links(who, list_url), "list_back": _list_back(who, list_url)}


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


def _links(who: str, list_url: str) -> list[dict]:
    """The sections for this page: label, URL and whether this page is inside it."""
    if not session.get("user"):
        return []  # who-am-I has not answered yet (it runs beside the first page's reads)
    here = request.endpoint
    shown = []
    user = None
    for link in current_app.extensions["ddsite_navigation"].get(who, []):
        if link.visible is not None:
            user = user or User.from_session(session["user"])  # only some links ask
            if not link.visible(user):
                continue
        url = list_url if link.endpoint == LIST_ENDPOINTS[who] else url_for(link.endpoint)
        shown.append({"label": link.label, "url": url,
                      "current": here == link.endpoint or here in link.also_current_on})
    return shown


def remember_list() -> None:
    """Note the list's filters and page, so "back" and the top bar return to them."""
    who = audience()
    if who is None:
        return
    args = {key: value for key, value in request.args.items() if key != URL_HANDLE}
    if session.get(f"list_args.{who}") != args:
        session[f"list_args.{who}"] = args


def _list_back(who: str, list_url: str) -> dict:
    """The way back to the audience's list as the user left it: {"label", "sentence", "url"}."""
    label, sentence = LIST_LABELS[who]
    return {"label": label, "sentence": sentence, "url": list_url}


def scroll_anchor() -> str:
    """"#at=<pixels>" when the page sent where it was scrolled (a quick action's `at`), so the
    list comes back at the same place; else ""."""
    at = request.args.get("at", "")
    return f"#at={at}" if _PIXELS.fullmatch(at) else ""


def _list_url(who: str) -> str:
    """The audience's list with the filters and page it had."""
    return url_for(LIST_ENDPOINTS[who], **session.get(f"list_args.{who}", {}))
