"""The top bar's sections: a list per audience that pages can add to, shown only in a live session."""

from __future__ import annotations

import html
import re

import responses
from flask import Blueprint, render_template

from ddsite import auth, navigation

from .conftest import HOST, expect_home, sign_in


def test_a_page_added_to_the_list_appears_in_the_top_bar_and_is_marked_current(app, client, dd):
    bp = Blueprint("invoices", __name__, url_prefix="/portal/invoices")
    auth.protect(bp, "portal")
    bp.add_url_rule("/", "index", lambda: render_template("base.html"))
    app.register_blueprint(bp)
    navigation.add_link(app, "portal", navigation.Link("Invoices", "invoices.index"))
    sign_in(client, dd)
    expect_home(dd)
    home = client.get("/portal/").get_data(as_text=True)
    assert '<a href="/portal/invoices/">Invoices</a>' in home
    page = client.get("/portal/invoices/").get_data(as_text=True)
    assert '<a href="/portal/invoices/" aria-current="page">Invoices</a>' in page
    assert '<a href="/portal/" aria-current="page">' not in page


def test_no_sections_without_a_live_session(client):
    text = client.get("/portal/").get_data(as_text=True)
    assert 'aria-label="Sections"' not in text


def test_agents_get_their_own_sections(client, dd):
    sign_in(client, dd, "tech")
    text = client.get("/tech/").get_data(as_text=True)
    assert ">Queue</a>" in text and ">My tickets</a>" not in text
    assert 'data-keys-help' in text  # the keyboard help is offered to agents


def test_query_names_url_for_takes_as_its_own_do_not_break_the_way_back(client, dd):
    # `?endpoint=x` once made every later page of the session a 500 (url_for's own argument).
    sign_in(client, dd, "tech")
    dd.add(responses.GET, HOST + "/api/v4/tech/tickets", json={"total": 0, "results": []})
    queue = client.get("/tech/queue?endpoint=x&_anchor=top&view=open")
    assert queue.status_code == 200
    assert queue_link_on_home(client) == "/tech/queue?view=open"


def test_a_session_that_kept_such_names_before_still_finds_its_way_back(client, dd):
    sign_in(client, dd, "tech")
    with client.session_transaction() as stored:  # as a session saved by an earlier version
        stored["list_args.tech"] = {"endpoint": "x", "_external": "1", "view": "open"}
    assert queue_link_on_home(client) == "/tech/queue?view=open"


def queue_link_on_home(client) -> str:
    """The top bar's Queue link on the TECH home page (which must answer 200)."""
    home = client.get("/tech/")
    assert home.status_code == 200
    return html.unescape(re.search(r'<a href="([^"]+)">Queue</a>',
                                   home.get_data(as_text=True)).group(1))


def test_section_links_are_what_url_for_writes_with_the_handle_in_urls(client, dd):
    sign_in(client, dd, "tech")
    client.get("/tech/")  # the top bar's URLs are remembered while the handle stays out of URLs
    with client.session_transaction() as stored:
        stored["transport"] = "url"
    handle = client.get_cookie("ddsite_session").value
    page = client.get("/tech/").get_data(as_text=True)
    assert f'<a href="/tech/?ddsid={handle}" aria-current="page">Home</a>' in page
