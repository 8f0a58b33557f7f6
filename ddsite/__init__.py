"""ddsite: custom pages for contacts and agents inside a DeskDirector External Site menu item."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from types import CodeType, FunctionType
from typing import Any

from flask import Flask, Response, current_app, session
from flask.templating import Environment, _default_template_ctx_processor
from flask_compress import Compress
from flask_wtf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from . import (
    assets,
    auth,
    config,
    error_pages,
    flood,
    health,
    hooks,
    navigation,
    page_urls,
    pages,
    rendering,
    security,
)
from .deskdirector import endpoints
from .sessions import ServerSessionInterface, claims_folder, make_store, make_sweeper
from .state import State

PACKAGE = Path(__file__).resolve().parent
ROOT = PACKAGE.parent

csrf = CSRFProtect()
compress = Compress()
# The quick end of each algorithm: a page is compressed while the user waits, and the last
# few per cent of size are worth less than the CPU they cost (gzip 6 takes ~1.6x gzip 1's time
# for ~10 % less; brotli 4 ~4x quality 1's for ~13 % less). zstd's default is already quick.
_COMPRESS_LEVELS = {"COMPRESS_LEVEL": 1, "COMPRESS_BR_LEVEL": 1}


def resource_folder(name: str) -> str:
    """templates/ or static/: inside the installed package, else at the top of the checkout."""
    installed = PACKAGE / name
    return str(installed if installed.is_dir() else ROOT / name)


def default_instance_folder() -> str:
    """The per-user data folder (never site-packages: it may be read-only or shared)."""
    import platformdirs

    return platformdirs.user_data_dir("ddsite", appauthor=False)


class Templates(Environment):
    """Flask's Jinja environment, whose templates see the globals as one plain dict."""

    def make_globals(self, d: dict[str, Any] | None) -> dict[str, Any]:
        """The environment's globals overlaid with the template's own, copied as it loads."""
        # Jinja keeps a live ChainMap over the two, and every render copies it into the
        # context and every `{% from ... import %}` compares their keys, each key a ChainMap
        # look-up (tens of microseconds a page). Jinja asks that globals not change once a
        # template is loaded; ddsite's are all set while the app is built. Changes made to a
        # template's globals still stay with that template.
        return {**self.globals, **(d or {})}


class Site(Flask):
    """Flask, remembering which functions are plain (not coroutines), with `Templates`."""

    jinja_environment = Templates

    # Flask asks `inspect` whether each hook, context processor and view is a coroutine function
    # every time it calls one, a dozen times a page. For a plain function the answer is in its
    # code's flags, so it is remembered by code object: closures made afresh on every request
    # (`after_this_request` callbacks) share one entry and are not kept alive by it. Bounded,
    # in case something compiles new code on every request.
    _KEEP_SYNC = 4096

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plain_code: set[CodeType] = set()

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """`func` as it is when it is a plain function; else Flask's wrapper."""
        # A function marked as a coroutine function (Python 3.12's markcoroutinefunction)
        # says so outside its code: such functions always go to Flask.
        plain = type(func) is FunctionType and not hasattr(func, "_is_coroutine_marker")
        if plain and func.__code__ in self._plain_code:
            return func
        result = super().ensure_sync(func)
        if result is func and plain and len(self._plain_code) < self._KEEP_SYNC:
            self._plain_code.add(func.__code__)
        return result


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the app from defaults, DDSITE_* variables and `overrides`; no network, no sleeps."""
    app = Site(__name__, template_folder=resource_folder("templates"),
                static_folder=resource_folder("static"), instance_path=default_instance_folder())
    app.config.update(config.load(overrides))
    # CSRF: the secret lives in the server-side session, which ends with the token; a shorter
    # time limit would only throw away what the user typed.
    app.config["WTF_CSRF_TIME_LIMIT"] = None
    try:
        table = endpoints.load(app.config["ENDPOINTS_FILE"])
    except endpoints.EndpointsFileError as exc:
        raise config.ConfigError(f"DDSITE_ENDPOINTS_FILE: {exc}") from None

    # Imported here, not at the top: prometheus_client picks single- or multi-process mode on
    # import, and `ddsite serve` sets PROMETHEUS_MULTIPROC_DIR only once it starts.
    from . import metrics as metrics_module

    metrics = metrics_module.Metrics()
    store, close_store = make_store(app)
    sweeper = make_sweeper(app, store, on_swept=metrics.swept.inc)
    app.session_interface = ServerSessionInterface(
        store, claims_folder(app), lambda: error_pages.store_down_body(nothing_sent=False),
        app.config["ENDED_SESSION_KEPT"],
        # Static files and brand.css are the same for everyone: no session read, no cookie.
        sessionless_paths=(f"{app.static_url_path}/", "/brand.css"))
    # Pages only: flask-compress's streaming path leaves static files' handles open, and static
    # files are small and cached for a year anyway. Pages are no-store and carry no validators,
    # so there is no conditional request to evaluate.
    app.config.update(COMPRESS_STREAMS=False, COMPRESS_REGISTER=False,
                      COMPRESS_EVALUATE_CONDITIONAL_REQUEST=False, **_COMPRESS_LEVELS)
    compress.init_app(app)
    # First: its before-request step keeps anything (CSRF included) from reading a bad body.
    hooks.install(app, metrics=metrics, sweeper=sweeper, compress=compress, csrf=csrf)
    csrf.init_app(app)
    # flask-wtf's own before-request check runs on every request, GETs too, looking up the view's
    # exemption before it looks at the method; hooks.install's step makes the same check, at the
    # same point, only for the methods it checks.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    limiter, close_limiter = flood.make_limiter(app)
    app.extensions["ddsite"] = State(app, store=store, close_store=close_store, endpoints=table,
                                     csrf=csrf, limiter=limiter, close_limiter=close_limiter,
                                     metrics=metrics, sweeper=sweeper)
    if app.config["PROXY_FIX"]:
        hops = app.config["PROXY_FIX"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops,
                                x_port=hops, x_prefix=hops)

    security.install_log_filter(app)
    metrics_module.init_app(app, metrics)
    health.init_app(app)
    app.url_defaults(auth.add_url_handle)
    assets.install(app)
    error_pages.register(app)
    app.context_processor(_template_globals)
    navigation.init_app(app)
    app.jinja_env.filters.update(rendering.FILTERS)
    page_urls.init_app(app)

    pages.register_pages(app)
    _drop_repeated_default_context(app)
    app.add_url_rule("/", "index", _index)
    app.add_url_rule("/brand.css", "brand_css", _brand_css)
    return app


def _drop_repeated_default_context(app: Flask) -> None:
    """Run Flask's default context processor (`g`, `request`, `session`) once per page."""
    # Every blueprint brings its own copy of it, so a blueprint's page ran it twice; the app's
    # copy runs first and gives the same three names, which nothing in between replaces.
    for name, processors in list(app.template_context_processors.items()):
        if name is not None:
            processors[:] = [p for p in processors if p is not _default_template_ctx_processor]
            if not processors:
                del app.template_context_processors[name]


def _template_globals() -> dict[str, Any]:
    # The session read once, here, for the countdown and the top bar alike; the <head>'s URLs.
    current = session._get_current_object()
    live = bool(current.get("token")) and current.get("exp", 0) > time.time()
    # The countdown needs the token's end; pages outside a live session show none.
    return {"session_exp": current.get("exp") if live else None,
            "head_urls": page_urls.head_urls(), **navigation.template_context(current, live)}


def _index():
    raise auth.NoToken("This site opens inside DeskDirector, from a menu item in the client "
                       "portal or in TECH. Open DeskDirector and choose the menu item.")


def _brand_css() -> Response:
    # A stylesheet rather than an inline style, so the CSP can stay free of 'unsafe-inline'.
    color = current_app.config["BRAND_COLOR"]
    return Response(f":root {{ --brand: {color}; }}\n", mimetype="text/css")
