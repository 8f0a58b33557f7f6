"""The small parts pages repeat, written in Python: the link back to the list, the pager, the
user's card, and the session handle a GET form must carry without cookies.

They were Jinja macros (`_macros.html` keeps macros of the same names, calling these). Importing
from `_macros.html` alone cost a page about as much as a dozen expressions, and each macro call
more; these write the same markup, byte for byte (tests hold them equal to the macros).
"""

from __future__ import annotations

from flask import current_app, g
from markupsafe import Markup, escape

from .page_urls import page_url


def back_link(back) -> Markup:
    """"← Queue": the link back to the list the user came from (`back` has `url` and `label`,
    as attributes or keys); nothing without one."""
    if not back:
        return Markup("")
    read = current_app.jinja_env.getattr  # attribute, else key: as the template read it
    return Markup(f'<p class="back"><a href="{escape(read(back, "url"))}">← '
                  f'{escape(read(back, "label"))}</a></p>')


def pager(page, endpoint: str, args: dict) -> Markup:
    """Where a list's page stands ("Showing 21–40 of 45"), with links to the pages around it."""
    shown = (f"Showing {escape(page.first)}–{escape(page.last)} of {escape(page.total)}"
             if page.total else "Nothing to show")
    number = (page.skip // page.take) + 1
    previous = (f'<a href="{escape(page_url(endpoint, page=number - 1, **args))}" rel="prev">'
                "Previous</a>" if page.has_previous else "")
    following = (f'<a href="{escape(page_url(endpoint, page=number + 1, **args))}" rel="next">'
                 "Next</a>" if page.has_next else "")
    return Markup(f'<nav class="pager" aria-label="Pages">\n  <p class="muted">{shown}</p>\n'
                  f"  \n  {previous}\n  {following}\n</nav>")


def user_card(user) -> Markup:
    """Who is signed in: name, user name, e-mail (when it is not the user name), company."""
    email = (f"<dt>E-mail</dt><dd>{escape(user.email)}</dd>"
             if user.email and user.email != user.user_name else "")
    company = escape(user.company.name) if user.company else "—"
    return Markup(f'<dl class="user-card">\n  <dt>Name</dt><dd>{escape(user.name or "—")}</dd>\n'
                  f'  <dt>User name</dt><dd>{escape(user.user_name or "—")}</dd>\n'
                  f"  {email}\n  <dt>Company</dt><dd>{company}</dd>\n</dl>")


def handle_field(session) -> Markup:
    """The session handle as a hidden field, when the session rides in URLs (no cookies): a GET
    form replaces the query string, so it must carry the handle itself."""
    if not g.get("session_in_url"):
        return Markup("\n")
    return Markup(f'\n<input type="hidden" name="ddsid" value="{escape(session.handle)}">')


FILTERS = {"back_link": back_link, "pager": pager, "user_card": user_card,
           "handle_field": handle_field}
