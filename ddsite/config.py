"""Configuration: every default in one place, then DDSITE_* variables, then the caller's dict."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from limits import parse as parse_rate

DEFAULTS: dict[str, Any] = {
    "SECRET_KEY": None,
    "DEBUG": False,
    "DEMO": False,
    # Allowed DeskDirector instance origins; `host` from the query string must be one of them.
    "DESKDIRECTOR_HOSTS": [],
    # PEM file with DeskDirector's public keys; when unset, the JWT is decoded without verification
    # (the who-am-I call still proves the token).
    "JWT_PUBLIC_KEYS": None,
    # "auto": fetch the keys from each instance's key endpoint (cached, chosen by kid).
    "JWT_KEYS": None,
    "ENDPOINTS_FILE": None,
    "REDIS_URL": None,
    # Seconds to wait for Redis before a page says the store is down (instead of hanging).
    "REDIS_TIMEOUT": 2.0,
    # Folder for the filesystem session store; default: sessions/ in the instance folder.
    "SESSION_DIR": None,
    "CONNECT_TIMEOUT": 3.05,
    "READ_TIMEOUT": 15.0,
    "GET_RETRIES": 2,
    "RETRY_BACKOFF": 0.25,
    # The widest fan-out of one page (the TECH ticket reads four things at once) and the threads
    # of one server process: together they size the connection pool and the pool of readers.
    "MAX_PARALLEL_CALLS": 4,
    "SERVER_THREADS": 8,
    # Seconds look-up lists (statuses, priorities, agents, request types) are kept; 0: not kept.
    "LOOKUP_TTL": 300,
    # Seconds an agent's queue counts of the views they are not looking at are kept; 0: not kept.
    "QUEUE_COUNTS_TTL": 60,
    # Where the session-ended page sends the user; {host} is the validated instance origin.
    "PORTAL_RETURN_URL": "{host}/portal/",
    "TECH_RETURN_URL": "{host}/tech/",
    "PORTAL_TICKET_URL": "{host}/portal/deeplink?name=ticket&ticket_id={ticket_id}",
    "TECH_TICKET_URL": "{host}/tech/",
    "COUNTDOWN_SECONDS": 300,
    "SESSION_COOKIE_NAME": "ddsite_session",
    # CHIPS: without Partitioned, Chromium drops the cookie inside a cross-site iframe.
    "SESSION_COOKIE_PARTITIONED": True,
    "DRAFT_LIFETIME": 7 * 24 * 3600,
    # How long an ended session (token dropped) is kept: someone back from lunch who presses
    # Send still gets the session-ended page for their tenant, with the text kept as a draft.
    "ENDED_SESSION_KEPT": 12 * 3600,
    # How long a sent form's one-time key and outcome are remembered (covers any resubmit).
    "ONCE_LIFETIME": 24 * 3600,
    # The file store deletes expired entries this often (seconds); Redis expires them itself.
    "SWEEP_INTERVAL": 600,
    # Behind a reverse proxy: how many proxies' X-Forwarded-* headers to trust (0: none).
    "PROXY_FIX": 0,
    # Host names the site answers to; any other Host header gets a 400 (empty: any host).
    "TRUSTED_HOSTS": [],
    # /metrics answers only requests bearing this token; unset: /metrics does not exist.
    "METRICS_TOKEN": None,
    "BRAND_COLOR": "#1f6feb",
    # Modules of extra pages (see ddsite/pages/README.md), besides the `ddsite.pages` entry points.
    "PAGES": [],
    "STALE_DAYS": 7,
    "PAGE_SIZE": 20,
    # Notes of a conversation shown at first (the newest); older ones a page at a time on request.
    "NOTES_PAGE_SIZE": 20,
    "NOTE_MAX_LENGTH": 10000,
    # Forms carry text only; anything larger is refused with a 413 page before it is read.
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    # Pages smaller than this many bytes go out uncompressed: with their headers they fit in
    # TCP's first flight (10 segments of 1,460 bytes), so compressing them would save the user no
    # round trip and cost the server CPU on every request.
    "COMPRESS_MIN_SIZE": 13000,
    # Flood control (see flood.py): sign-ins, each of which costs DeskDirector a who-am-I call, and
    # sign-in links DeskDirector refused, per client address and per DeskDirector instance.
    "INTAKE_LIMIT_PER_CLIENT": "60/minute",
    "INTAKE_LIMIT_PER_INSTANCE": "1200/minute",
    "FAILED_SIGN_IN_LIMIT_PER_CLIENT": "10/minute",
    "FAILED_SIGN_IN_LIMIT_PER_INSTANCE": "100/minute",
}

# Variable name → (config key, parser, example of a good value).
_BOOL_WORDS = {"1": True, "true": True, "yes": True, "on": True,
               "0": False, "false": False, "no": False, "off": False, "": False}


class ConfigError(ValueError):
    """A configuration value that ddsite cannot start with."""


def _parse_bool(raw: str) -> bool:
    try:
        return _BOOL_WORDS[raw.strip().lower()]
    except KeyError:
        raise ValueError("expected true or false") from None


def _parse_list(raw: str) -> list[str]:
    return [item.strip() for item in raw.split(",") if item.strip()]


def _parse_positive_float(raw: str) -> float:
    value = float(raw)
    if value <= 0:
        raise ValueError("must be greater than zero")
    return value


def _parse_positive_int(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise ValueError("must be at least 1")
    return value


def _parse_count(raw: str) -> int:
    value = int(raw)
    if value < 0:
        raise ValueError("must not be negative")
    return value


_ENVIRONMENT: dict[str, tuple[str, Any, str]] = {
    "DDSITE_SECRET_KEY": ("SECRET_KEY", str, "a long random string, e.g. from "
                          "`python -c 'import secrets; print(secrets.token_hex(32))'`"),
    "DDSITE_DEBUG": ("DEBUG", _parse_bool, "false"),
    "DDSITE_DESKDIRECTOR_HOSTS": ("DESKDIRECTOR_HOSTS", _parse_list,
                                  "https://support.example.com,https://help.example.net"),
    "DDSITE_JWT_PUBLIC_KEYS": ("JWT_PUBLIC_KEYS", str, "/etc/ddsite/deskdirector-keys.pem"),
    "DDSITE_JWT_KEYS": ("JWT_KEYS", str, "auto"),
    "DDSITE_ENDPOINTS_FILE": ("ENDPOINTS_FILE", str, "/etc/ddsite/endpoints.json"),
    "DDSITE_REDIS_URL": ("REDIS_URL", str, "redis://localhost:6379/0"),
    "DDSITE_SESSION_DIR": ("SESSION_DIR", str, "/var/lib/ddsite/sessions"),
    "DDSITE_CONNECT_TIMEOUT": ("CONNECT_TIMEOUT", _parse_positive_float, "3.05"),
    "DDSITE_READ_TIMEOUT": ("READ_TIMEOUT", _parse_positive_float, "15"),
    "DDSITE_GET_RETRIES": ("GET_RETRIES", _parse_count, "2"),
    "DDSITE_MAX_PARALLEL_CALLS": ("MAX_PARALLEL_CALLS", _parse_positive_int, "4"),
    "DDSITE_SERVER_THREADS": ("SERVER_THREADS", _parse_positive_int, "8"),
    "DDSITE_LOOKUP_TTL": ("LOOKUP_TTL", _parse_count, "300"),
    "DDSITE_QUEUE_COUNTS_TTL": ("QUEUE_COUNTS_TTL", _parse_count, "60"),
    "DDSITE_PORTAL_RETURN_URL": ("PORTAL_RETURN_URL", str, "{host}/portal/"),
    "DDSITE_TECH_RETURN_URL": ("TECH_RETURN_URL", str, "{host}/tech/"),
    "DDSITE_PORTAL_TICKET_URL": ("PORTAL_TICKET_URL", str,
                                 "{host}/portal/deeplink?name=ticket&ticket_id={ticket_id}"),
    "DDSITE_TECH_TICKET_URL": ("TECH_TICKET_URL", str, "{host}/tech/"),
    "DDSITE_SESSION_COOKIE_PARTITIONED": ("SESSION_COOKIE_PARTITIONED", _parse_bool, "true"),
    "DDSITE_BRAND_COLOR": ("BRAND_COLOR", str, "#1f6feb"),
    "DDSITE_STALE_DAYS": ("STALE_DAYS", _parse_count, "7"),
    "DDSITE_PAGES": ("PAGES", _parse_list, "mycompany.billing_page,mycompany.assets_page"),
    "DDSITE_SWEEP_INTERVAL": ("SWEEP_INTERVAL", _parse_positive_float, "600"),
    "DDSITE_PROXY_FIX": ("PROXY_FIX", _parse_count, "1"),
    "DDSITE_TRUSTED_HOSTS": ("TRUSTED_HOSTS", _parse_list, "ddsite.example.com"),
    "DDSITE_METRICS_TOKEN": ("METRICS_TOKEN", str, "a long random string"),
    "DDSITE_COMPRESS_MIN_SIZE": ("COMPRESS_MIN_SIZE", _parse_count, "13000"),
    "DDSITE_INTAKE_LIMIT_PER_CLIENT": ("INTAKE_LIMIT_PER_CLIENT", str, "60/minute"),
    "DDSITE_INTAKE_LIMIT_PER_INSTANCE": ("INTAKE_LIMIT_PER_INSTANCE", str, "1200/minute"),
    "DDSITE_FAILED_SIGN_IN_LIMIT_PER_CLIENT": ("FAILED_SIGN_IN_LIMIT_PER_CLIENT", str, "10/minute"),
    "DDSITE_FAILED_SIGN_IN_LIMIT_PER_INSTANCE": ("FAILED_SIGN_IN_LIMIT_PER_INSTANCE", str,
                                                 "100/minute"),
}

SECRET_KEYS = {"SECRET_KEY", "REDIS_URL", "METRICS_TOKEN"}
_COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3}){1,2}$")


def normalise_origin(value: str) -> str | None:
    """Return `scheme://host[:port]` in lower case, or None when value is not such an origin."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        return None
    try:
        port = parts.port
    except ValueError:
        return None
    default_port = {"http": 80, "https": 443}[parts.scheme]
    netloc = parts.hostname.lower()
    if port and port != default_port:
        netloc = f"{netloc}:{port}"
    return f"{parts.scheme}://{netloc}"


def load(overrides: Mapping[str, Any] | None = None,
         environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Merge defaults, DDSITE_* variables and overrides, and validate the result."""
    environ = os.environ if environ is None else environ
    config = dict(DEFAULTS)
    for variable, (key, parse, example) in _ENVIRONMENT.items():
        if variable not in environ:
            continue
        try:
            config[key] = parse(environ[variable])
        except ValueError as exc:
            raise ConfigError(f"{variable}={environ[variable]!r} is not valid ({exc}); "
                              f"example of a good value: {variable}={example}") from None
    config.update(overrides or {})
    _validate(config)
    return config


def _variable_for(key: str) -> tuple[str, str]:
    for variable, (config_key, _parse, example) in _ENVIRONMENT.items():
        if config_key == key:
            return variable, example
    raise KeyError(key)


def _fail(key: str, problem: str) -> None:
    variable, example = _variable_for(key)
    raise ConfigError(f"{variable}: {problem}; example of a good value: {variable}={example}")


def _validate(config: dict[str, Any]) -> None:
    hosts = config["DESKDIRECTOR_HOSTS"]
    if isinstance(hosts, str):
        hosts = _parse_list(hosts)
    if not hosts:
        _fail("DESKDIRECTOR_HOSTS", "no DeskDirector instance is allowed")
    normalised = []
    for host in hosts:
        origin = normalise_origin(host)
        if origin is None:
            _fail("DESKDIRECTOR_HOSTS", f"{host!r} is not an origin (scheme://host[:port], no path)")
        normalised.append(origin)
    config["DESKDIRECTOR_HOSTS"] = normalised
    if isinstance(config["PAGES"], str):
        config["PAGES"] = _parse_list(config["PAGES"])
    if not config["SECRET_KEY"] and not (config["DEBUG"] or config["DEMO"] or config.get("TESTING")):
        _fail("SECRET_KEY", "is required outside debug and demo mode")
    if not _COLOR.match(str(config["BRAND_COLOR"])):
        _fail("BRAND_COLOR", f"{config['BRAND_COLOR']!r} is not a hex colour")
    for key in ("PORTAL_RETURN_URL", "TECH_RETURN_URL", "PORTAL_TICKET_URL", "TECH_TICKET_URL"):
        template = str(config[key])
        if not template.startswith("{host}"):
            _fail(key, "must start with {host} so the user only ever goes back to their own instance")
        try:
            template.format(host="https://x", ticket_id=1)
        except (KeyError, IndexError, ValueError):
            _fail(key, "may use only the placeholders {host} and {ticket_id}")
    trusted = config["TRUSTED_HOSTS"]
    trusted = _parse_list(trusted) if isinstance(trusted, str) else list(trusted or [])
    # Flask reads TRUSTED_HOSTS itself; None (not []) is its "any host".
    config["TRUSTED_HOSTS"] = [host.lower() for host in trusted] or None
    if config["METRICS_TOKEN"] is not None and len(str(config["METRICS_TOKEN"])) < 16:
        _fail("METRICS_TOKEN", "is too short to keep /metrics private (16 characters at least)")
    for key in ("INTAKE_LIMIT_PER_CLIENT", "INTAKE_LIMIT_PER_INSTANCE",
                "FAILED_SIGN_IN_LIMIT_PER_CLIENT", "FAILED_SIGN_IN_LIMIT_PER_INSTANCE"):
        if not _is_rate(config[key]):
            _fail(key, f"{config[key]!r} is not a rate such as 10/minute or 100 per hour")
    if config["JWT_PUBLIC_KEYS"] and not os.path.isfile(config["JWT_PUBLIC_KEYS"]):
        _fail("JWT_PUBLIC_KEYS", f"{config['JWT_PUBLIC_KEYS']!r} is not a readable file")
    if config["JWT_KEYS"] not in (None, "", "auto"):
        _fail("JWT_KEYS", f"{config['JWT_KEYS']!r} is not a key source (only auto is known; "
                          "a PEM file goes in DDSITE_JWT_PUBLIC_KEYS)")
    if config["JWT_KEYS"] and config["JWT_PUBLIC_KEYS"]:
        _fail("JWT_KEYS", "auto and DDSITE_JWT_PUBLIC_KEYS both name where keys come from; "
                          "set one of them")


def _is_rate(value: Any) -> bool:
    try:
        return parse_rate(str(value)).amount > 0
    except ValueError:
        return False


def masked(config: Mapping[str, Any]) -> dict[str, Any]:
    """The effective configuration with secrets replaced by a mask, for `ddsite check`."""
    shown = {}
    for key in DEFAULTS:
        value = config.get(key)
        if key in SECRET_KEYS and value:
            value = "********"
        shown[key] = value
    return shown
