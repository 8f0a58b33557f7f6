"""Flask's per-request steps that ddsite does once: the default template context, the coroutine
check of each hook, reading an empty body."""

from __future__ import annotations

import gc
import io
import weakref

import flask.app
from flask import render_template_string
from flask.templating import _default_template_ctx_processor

from .conftest import sign_in


def test_the_default_template_context_runs_once_on_a_blueprints_page(app, client, dd):
    for blueprint in app.blueprints:
        names = (None, blueprint)
        runs = [f for name in names for f in app.template_context_processors.get(name, [])]
        assert runs.count(_default_template_ctx_processor) == 1, blueprint
    # ... and a blueprint's page still gets what it gives.
    sign_in(client, dd, "tech")
    with client:  # keeps the page's request context open after it
        assert client.get("/tech/").status_code == 200
        text = render_template_string("{{ request.path }} {{ session.app }} {{ g.session_in_url }}")
    assert text == "/tech/ tech False"


def test_a_plain_functions_coroutine_check_is_done_once(app, monkeypatch):
    asked = []
    real = flask.app.iscoroutinefunction
    monkeypatch.setattr(flask.app, "iscoroutinefunction", lambda f: asked.append(f) or real(f))

    def hook():
        return None

    assert app.ensure_sync(hook) is hook
    assert app.ensure_sync(hook) is hook
    assert asked == [hook]
    bound = "text".upper  # not a plain function: asked every time, never kept
    assert app.ensure_sync(bound) is bound and app.ensure_sync(bound) is bound
    assert asked == [hook, bound, bound]


def test_closures_made_per_request_share_one_check_and_are_not_kept_alive(app, monkeypatch):
    asked = []
    real = flask.app.iscoroutinefunction
    monkeypatch.setattr(flask.app, "iscoroutinefunction", lambda f: asked.append(f) or real(f))

    def callback_for(response_text):
        def callback(response):  # as after_this_request gets a fresh closure on every request
            return response_text
        return callback

    first, second = callback_for("a"), callback_for("b")
    assert app.ensure_sync(first) is first and app.ensure_sync(second) is second
    assert asked == [first]
    gone = weakref.ref(first)
    del first, asked[:]
    gc.collect()
    assert gone() is None


def test_a_coroutine_function_still_goes_to_flask_every_time(app, monkeypatch):
    wrapped = []
    monkeypatch.setattr(app, "async_to_sync", lambda f: wrapped.append(f) or (lambda: "done"))

    async def view():
        return "never"

    assert app.ensure_sync(view)() == "done" and app.ensure_sync(view)() == "done"
    assert wrapped == [view, view]


class Untouchable(io.RawIOBase):
    """A request body nobody may read."""

    def read(self, *_args):
        raise AssertionError("the body of a request without one was read")


def test_a_get_without_a_body_is_not_read(app, client):
    # Servers such as gunicorn mark every body as terminated, also a GET's, which has none.
    response = client.get("/healthz", environ_overrides={"wsgi.input": Untouchable(),
                                                         "wsgi.input_terminated": True})
    assert response.status_code == 200


def test_templates_see_the_globals_and_keep_their_own_to_themselves(app):
    env = app.jinja_env
    env.globals["shout"] = str.upper
    with app.test_request_context("/"):
        own = env.from_string("{{ shout(word) }} {{ mark }} {{ url_for('tech.home') }}",
                              globals={"mark": "!"})
        assert own.render(word="hi") == "HI ! /tech/"
        assert "mark" not in env.globals
        assert env.from_string("{{ mark is defined }}").render() == "False"
