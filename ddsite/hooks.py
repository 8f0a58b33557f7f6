"""ddsite's own steps around every request, in one place and in the order they run.

They were a dozen hooks registered from as many modules, so their order followed the order of the
`init_app` calls, and Flask looked each one up per blueprint and checked it for a coroutine on every
request. Here they are one before-request and one after-request hook and one teardown, and the
order is the code's. The session guard of each page's blueprint (`auth.protect`) stays on it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask, Response, request
from flask_compress import Compress
from flask_wtf import CSRFProtect

from . import assets, auth, forms, health, security, sendonce
from .sessions import Sweeper

if TYPE_CHECKING:
    from .metrics import Metrics


def install(app: Flask, *, metrics: Metrics, sweeper: Sweeper | None, compress: Compress,
            csrf: CSRFProtect) -> None:
    """Register the steps; the first of them must run before anything reads a request's body.
    The last is flask-wtf's default CSRF check (see create_app), for the methods it checks."""
    headers = security.page_headers(list(app.config["DESKDIRECTOR_HOSTS"]))
    compress_page = security.compress_without_breach(compress, app.config["COMPRESS_MIN_SIZE"])

    def before_request() -> Response | None:
        # Only text form fields within the size limit, before anything (CSRF too) reads the body.
        forms.refuse_oversized_stream()
        forms.accept_only_text_fields()
        redirect = auth.intake_before_redirect()
        if redirect is not None:
            return redirect
        metrics.start_page()
        health.refuse_while_store_down()
        if sweeper is not None:
            sweeper.maybe_start()
        sendonce.count_in()
        config = app.config
        if request.method in config["WTF_CSRF_METHODS"] and config["WTF_CSRF_ENABLED"]:
            csrf.protect(apply_exemptions=True)
        return None

    def after_request(response: Response) -> Response:
        response = compress_page(response)
        assets.cache_headers(response)
        security.keep_redirects_on_this_host(response)
        security.set_security_headers(response, headers)
        metrics.observe_page(response)
        return response

    app.before_request(before_request)
    app.after_request(after_request)
    app.teardown_request(sendonce.count_out)
