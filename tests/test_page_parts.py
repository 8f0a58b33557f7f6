"""ddsite.page_parts: the small page parts write exactly what the Jinja macros they replace wrote."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from flask import g, session

from ddsite.deskdirector.models import Ref

# The macros as they were written in Jinja (the reference).
STOCK_MACROS = """\
{% macro user_card(user) -%}
<dl class="user-card">
  <dt>Name</dt><dd>{{ user.name or "—" }}</dd>
  <dt>User name</dt><dd>{{ user.user_name or "—" }}</dd>
  {% if user.email and user.email != user.user_name %}<dt>E-mail</dt><dd>{{ user.email }}</dd>{% endif %}
  <dt>Company</dt><dd>{{ user.company.name if user.company else "—" }}</dd>
</dl>
{%- endmacro %}

{% macro pager(page, endpoint, args) -%}
<nav class="pager" aria-label="Pages">
  <p class="muted">{% if page.total %}Showing {{ page.first }}–{{ page.last }} of {{ page.total }}{% else %}Nothing to show{% endif %}</p>
  {% set number = (page.skip // page.take) + 1 %}
  {% if page.has_previous %}<a href="{{ url_for(endpoint, page=number - 1, **args) }}" rel="prev">Previous</a>{% endif %}
  {% if page.has_next %}<a href="{{ url_for(endpoint, page=number + 1, **args) }}" rel="next">Next</a>{% endif %}
</nav>
{%- endmacro %}

{% macro back_link(back) -%}
{% if back %}<p class="back"><a href="{{ back.url }}">← {{ back.label }}</a></p>{% endif %}
{%- endmacro %}

{% macro url_handle_field() -%}
{# A GET form replaces the query string, so without cookies it must carry the session handle itself. #}
{% if g.session_in_url %}<input type="hidden" name="ddsid" value="{{ session.handle }}">{% endif %}
{%- endmacro %}
"""
HOSTILE = '"><script>alert(1)</script>&\'x'


def _page(total, skip, take=20):
    return SimpleNamespace(total=total, skip=skip, take=take, first=skip + 1,
                           last=min(skip + take, total), has_previous=skip > 0,
                           has_next=skip + take < total)


USERS = [SimpleNamespace(name="Sam", user_name="sam@example.com", email="sam@example.com",
                         company=Ref(1, "Harbour <Dental>")),
         SimpleNamespace(name="", user_name=None, email=HOSTILE, company=None),
         SimpleNamespace(name=HOSTILE, user_name="u", email="", company=Ref(2, ""))]


@pytest.mark.parametrize("cookieless", [False, True])
def test_the_page_parts_write_what_the_jinja_macros_wrote(app, cookieless):
    env = app.jinja_env
    with app.test_request_context("/tech/queue"):
        if cookieless:
            g.session_in_url, session.handle = True, f"h{HOSTILE}"
        stock = env.from_string(STOCK_MACROS).make_module()
        kept = env.get_template("_macros.html").make_module()  # what pages may still import
        filters = env.filters
        written = []
        for back in (None, {}, {"url": "/tech/queue?view=open&q=<x>", "label": HOSTILE},
                     SimpleNamespace(url="/portal/tickets", label="My tickets")):
            written.append(str(stock.back_link(back)))
            assert str(filters["back_link"](back)) == written[-1] == str(kept.back_link(back))
        for page in (_page(0, 0), _page(5, 0), _page(45, 20), _page(45, 40), _page(30, 60)):
            for args in ({"view": "open", "sort": "age", "q": HOSTILE}, {"status": "any"}):
                endpoint = "tech.queue" if "view" in args else "portal.tickets"
                written.append(str(stock.pager(page, endpoint, args)))
                assert str(filters["pager"](page, endpoint, args)) == written[-1]
                assert str(kept.pager(page, endpoint, args)) == written[-1]
        for user in USERS:
            written.append(str(stock.user_card(user)))
            assert str(filters["user_card"](user)) == written[-1] == str(kept.user_card(user))
        written.append(str(stock.url_handle_field()))
        assert str(filters["handle_field"](session)) == written[-1] == str(kept.url_handle_field())
    shown = "".join(written)
    assert 'rel="prev"' in shown and 'rel="next"' in shown and "E-mail" in shown
    assert ('name="ddsid"' in shown) == cookieless and "<script>" not in shown
