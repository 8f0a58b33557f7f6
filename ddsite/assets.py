"""Static files and brand.css: fingerprinted URLs, cached for a year, served without a session."""

from __future__ import annotations

import hashlib
import os
import threading

from flask import Flask, Response, current_app, request

# Endpoints whose replies depend on nothing but the app: no session, no handle in their URLs.
SESSIONLESS_ENDPOINTS = frozenset({"static", "brand_css"})
FINGERPRINT = "v"
A_YEAR = 365 * 24 * 3600


class Fingerprints:
    """Content hashes of static files (read once; again on change in debug mode) and of the brand
    colour."""

    def __init__(self, app: Flask) -> None:
        self._folder = app.static_folder or ""
        # Installed files do not change under a running server; while developing they do.
        self._watch = app.debug
        self._brand = _digest(str(app.config["BRAND_COLOR"]).encode())
        self._files: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()

    def of(self, endpoint: str, values: dict) -> str | None:
        """The fingerprint of what `url_for(endpoint, **values)` names, None for other endpoints."""
        if endpoint == "brand_css":
            return self._brand
        if endpoint == "static" and "filename" in values:
            return self._file(str(values["filename"]))
        return None

    def _file(self, filename: str) -> str | None:
        known = self._files.get(filename)
        if known and not self._watch:
            return known[1]
        path = os.path.join(self._folder, filename)
        try:
            changed = os.stat(path).st_mtime
            if known and known[0] == changed:
                return known[1]
            with open(path, "rb") as handle:
                fingerprint = _digest(handle.read())
        except OSError:
            return None  # url_for of a missing file: the link 404s as it would without us
        with self._lock:
            self._files[filename] = (changed, fingerprint)
        return fingerprint


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:12]


def install(app: Flask) -> None:
    """Add fingerprints to static and brand.css URLs (hooks.py adds their cache headers)."""
    app.extensions["ddsite_assets"] = Fingerprints(app)
    app.url_defaults(add_fingerprint)


def add_fingerprint(endpoint: str, values: dict) -> None:
    """URL processor: `?v=<content hash>`, so a changed file gets a new URL."""
    if endpoint in SESSIONLESS_ENDPOINTS:
        fingerprint = current_app.extensions["ddsite_assets"].of(endpoint, values)
        if fingerprint:
            values.setdefault(FINGERPRINT, fingerprint)


def cache_headers(response: Response) -> Response:
    """A year and `immutable` for the current fingerprint. Anything else: a static file is
    revalidated (Flask's own `no-cache`), brand.css is not stored (as every page)."""
    if request.endpoint not in SESSIONLESS_ENDPOINTS or response.status_code != 200:
        return response
    current = current_app.extensions["ddsite_assets"].of(request.endpoint, request.view_args or {})
    if current and request.args.get(FINGERPRINT) == current:
        response.headers["Cache-Control"] = f"public, max-age={A_YEAR}, immutable"
    elif request.endpoint == "brand_css":
        response.headers["Cache-Control"] = "no-store"
    return response
