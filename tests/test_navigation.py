"""The top bar's sections: a list per audience that pages can add to, shown only in a live session."""

from __future__ import annotations

from flask import Blueprint, render_template

from ddsite import auth, navigation

from .conftest import expect_home, sign_in


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
