"""The page-extension point: a page for contacts or agents is a blueprint in one file.

A module declares one or more `PageBlueprint`s; ddsite registers every one it finds in the modules
named by the `ddsite.pages` entry-point group of installed packages and by DDSITE_PAGES, after its
own stock pages, which come through the same door. Registration gives a page the session guard of
its audience (intake, expiry, CSRF, drafts of late forms), error pages, the URL-handle fallback and
its links in the navigation. Anything wrong stops start-up with a message that names the page.
The guide: ddsite/pages/README.md.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterable
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any

from flask import Blueprint, Flask

from .. import auth, lookback, navigation, sendonce
from ..auth import PageError, api, current_user, tenant
from ..config import ConfigError
from ..deskdirector.models import User
from ..forms import OnceForm, note_field
from ..navigation import Link
from ..sendonce import Sending

__all__ = ["PageBlueprint", "PageRefused", "api", "current_user", "tenant", "sendonce", "Sending",
           "lookback", "OnceForm", "note_field", "PageError", "register_pages"]

ENTRY_POINT_GROUP = "ddsite.pages"
AUDIENCES = {"portal": "contacts, in the client portal", "tech": "agents, in TECH"}
# The stock pages, registered exactly as anyone's: contacts, agents, then Insights.
STOCK_PAGES = ("ddsite.portal.views", "ddsite.tech.views", "ddsite.insights.views")


class PageRefused(ConfigError):
    """A page that cannot be registered; start-up stops with this message."""


class PageBlueprint(Blueprint):
    """A Flask blueprint for one audience ("portal" = contacts, "tech" = agents).

    `nav` lists the page's menu links as (label, view name) or (label, view name, other view
    names under which the link is current); `visible(user)` may hide them from some users.
    The URL prefix defaults to /portal/<name> or /tech/<name>.
    """

    def __init__(self, name: str, import_name: str, *, audience: str,
                 nav: Iterable[tuple] = (), visible: Callable[[User], bool] | None = None,
                 url_prefix: str | None = None, **kwargs: Any) -> None:
        super().__init__(name, import_name, url_prefix=url_prefix or f"/{audience}/{name}",
                         **kwargs)
        self.audience = audience
        self.nav = [Link(entry[0], f"{name}.{entry[1]}",
                         tuple(f"{name}.{e}" for e in (entry[2] if len(entry) > 2 else ())), visible)
                    for entry in nav]
        # The guard of its audience on every view: intake, expiry, CSRF, drafts of late forms.
        auth.protect(self, audience)


def register_pages(app: Flask) -> None:
    """Register the stock pages, then every page from entry points and from DDSITE_PAGES."""
    for module_name in STOCK_PAGES:
        _register_module(app, _import(module_name, "stock page"), f"stock page {module_name}")
    for entry_point in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        source = (f"entry point {entry_point.name!r} = {entry_point.value} of "
                  f"{_distribution(entry_point)} ({ENTRY_POINT_GROUP})")
        _register_module(app, _load_entry_point(entry_point, source), source)
    for module_name in app.config["PAGES"]:
        source = f"DDSITE_PAGES: {module_name}"
        _register_module(app, _import(module_name, source), source)


def _distribution(entry_point) -> str:
    dist = getattr(entry_point, "dist", None)
    return f"package {dist.name} {dist.version}" if dist else "an installed package"


def _import(module_name: str, source: str) -> ModuleType:
    try:
        return importlib.import_module(module_name)
    except Exception as exc:  # whatever the page's module raises, start-up names it
        raise PageRefused(f"{source}: cannot import {module_name!r}: "
                          f"{type(exc).__name__}: {exc}") from None


def _load_entry_point(entry_point, source: str) -> Any:
    try:
        return entry_point.load()
    except Exception as exc:  # whatever the page's module raises, start-up names it
        raise PageRefused(f"{source}: cannot import it: {type(exc).__name__}: {exc}") from None


def _register_module(app: Flask, loaded: Any, source: str) -> None:
    if isinstance(loaded, PageBlueprint):
        pages = [loaded]
    elif isinstance(loaded, ModuleType):
        pages = [value for value in vars(loaded).values() if isinstance(value, PageBlueprint)]
    else:
        pages = []
    if not pages:
        raise PageRefused(f"{source}: defines no page; a page module holds at least one "
                          f"ddsite.pages.PageBlueprint at module level")
    for page in pages:
        _register(app, page, source)


def _register(app: Flask, page: PageBlueprint, source: str) -> None:
    label = f"{source}: page {page.name!r}"
    if page.audience not in AUDIENCES:
        choices = "; ".join(f"{key!r} ({who})" for key, who in AUDIENCES.items())
        raise PageRefused(f"{label}: audience {page.audience!r} is not one of {choices}")
    prefix = (page.url_prefix or "").rstrip("/")
    if not re.fullmatch(rf"/{page.audience}(/[\w.~-]+)*", prefix or "/"):
        raise PageRefused(f"{label}: URL prefix {page.url_prefix!r} must be /{page.audience} or "
                          f"below it, where DeskDirector's {page.audience} menu item opens pages")
    if page.name in app.blueprints:
        raise PageRefused(f"{label}: the name {page.name!r} is taken by another page; "
                          f"choose another blueprint name")
    before = {_route_key(rule): rule for rule in app.url_map.iter_rules()}
    # The CSRF check runs in auth.require_session, after the expiry check, so that a POST that
    # arrives too late can still be kept as a draft.
    app.extensions["ddsite"].csrf.exempt(page)
    app.register_blueprint(page)
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] != page.name:
            continue
        clash = before.get(_route_key(rule))
        methods = set(rule.methods or ()) - {"HEAD", "OPTIONS"}
        if clash is not None and methods & set(clash.methods or ()):
            raise PageRefused(f"{label}: route {rule.rule} collides with {clash.rule} of "
                              f"{clash.endpoint}; give the page another URL prefix")
    for link in page.nav:
        navigation.add_link(app, page.audience, link)


def _route_key(rule) -> str:
    # Two rules that differ only in a variable's name or converter answer the same URLs.
    return re.sub(r"<[^>]+>", "<>", rule.rule).rstrip("/") or "/"
