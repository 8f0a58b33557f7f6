"""ddsite: custom pages for contacts and agents inside a DeskDirector External Site menu item."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, session
from flask_compress import Compress
from flask_wtf import CSRFProtect

from . import assets, auth, config, error_pages, flood, forms, navigation, rendering, security
from .deskdirector import endpoints
from .sessions import ServerSessionInterface, claims_folder, make_store
from .state import State

ROOT = Path(__file__).resolve().parent.parent

csrf = CSRFProtect()
compress = Compress()


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the app from defaults, DDSITE_* variables and `overrides`; no network, no sleeps."""
    app = Flask(__name__, template_folder=str(ROOT / "templates"),
                static_folder=str(ROOT / "static"), instance_path=str(ROOT / "instance"))
    app.config.update(config.load(overrides))
    # CSRF: the secret lives in the server-side session, which ends with the token; a shorter
    # time limit would only throw away what the user typed.
    app.config["WTF_CSRF_TIME_LIMIT"] = None
    try:
        table = endpoints.load(app.config["ENDPOINTS_FILE"])
    except endpoints.EndpointsFileError as exc:
        raise config.ConfigError(f"DDSITE_ENDPOINTS_FILE: {exc}") from None

    store, close_store = make_store(app)
    # Static files and brand.css are the same for everyone: no session read, no cookie.
    app.session_interface = ServerSessionInterface(
        store, claims_folder(app), sessionless_paths=(f"{app.static_url_path}/", "/brand.css"))
    # Before anything reads the body (CSRF included): only text form fields, within the size limit.
    app.before_request(forms.refuse_oversized_stream)
    app.before_request(forms.accept_only_text_fields)
    app.before_request(auth.intake_before_redirect)
    csrf.init_app(app)
    limiter, close_limiter = flood.make_limiter(app)
    app.extensions["ddsite"] = State(app, store=store, close_store=close_store, endpoints=table,
                                     csrf=csrf, limiter=limiter, close_limiter=close_limiter)

    security.install_log_filter(app)
    frame_ancestors = list(app.config["DESKDIRECTOR_HOSTS"])
    app.after_request(lambda response: security.set_security_headers(response, frame_ancestors))
    app.url_defaults(auth.add_url_handle)
    assets.install(app)
    # Pages only: flask-compress's streaming path leaves static files' handles open, and static
    # files are small and cached for a year anyway.
    app.config["COMPRESS_STREAMS"] = False
    compress.init_app(app)
    error_pages.register(app)
    app.context_processor(_template_globals)
    navigation.init_app(app)
    app.jinja_env.filters.update(rendering.FILTERS)

    from .portal.views import bp as portal_bp
    from .tech.views import bp as tech_bp

    for blueprint in (portal_bp, tech_bp):
        # Their CSRF check runs in auth.require_session, after the expiry check, so that a
        # POST that arrives too late can still be kept as a draft.
        csrf.exempt(blueprint)
        app.register_blueprint(blueprint)
    app.add_url_rule("/", "index", _index)
    app.add_url_rule("/brand.css", "brand_css", _brand_css)
    return app


def _template_globals() -> dict[str, Any]:
    # The countdown needs the token's end; pages outside a live session show none.
    live = bool(session.get("token")) and session.get("exp", 0) > time.time()
    return {"session_exp": session.get("exp") if live else None}


def _index():
    raise auth.NoToken("This site opens inside DeskDirector, from a menu item in the client "
                       "portal or in TECH. Open DeskDirector and choose the menu item.")


def _brand_css() -> Response:
    # A stylesheet rather than an inline style, so the CSP can stay free of 'unsafe-inline'.
    color = current_app.config["BRAND_COLOR"]
    return Response(f":root {{ --brand: {color}; }}\n", mimetype="text/css")
