"""`ddsite probe HOST`: the operator's first contact with a real DeskDirector instance."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import TextIO

from .config import DEFAULTS, normalise_origin
from .deskdirector import endpoints as endpoint_table
from .deskdirector.client import Transport
from .deskdirector.probe import AUDIENCE_WORDS, probe
from .security import redact

TOKEN_VARIABLE = "DDSITE_PROBE_TOKEN"


def add_parser(commands) -> None:
    """Register `probe` on the `ddsite` command."""
    parser = commands.add_parser(
        "probe", help="call every read operation of an instance and say what ddsite makes of it",
        description="Reads the access token from DDSITE_PROBE_TOKEN or standard input (never an "
                    "argument, so it stays out of shell history and process lists). Endpoint "
                    "overrides come from DDSITE_ENDPOINTS_FILE, as for the site.")
    parser.add_argument("host", help="the instance's origin, e.g. https://support.example.com")


def run(args: argparse.Namespace, *, stdin: TextIO | None = None, out: TextIO | None = None,
        err: TextIO | None = None) -> int:
    """Probe the instance; 0 when every page should work, 1 when one would fail, 2 on bad input."""
    stdin, out, err = stdin or sys.stdin, out or sys.stdout, err or sys.stderr
    host = normalise_origin(args.host.rstrip("/"))
    if host is None:
        print(f"ddsite probe: {redact(args.host)!r} is not an instance origin; give it as "
              "scheme://host[:port], e.g. https://support.example.com", file=err)
        return 2
    token, source = _token(stdin, err)
    if not token:
        print(f"ddsite probe: no access token; put it in {TOKEN_VARIABLE} or pipe it in on "
              "standard input", file=err)
        return 2
    try:
        table = endpoint_table.load(os.environ.get("DDSITE_ENDPOINTS_FILE"))
    except endpoint_table.EndpointsFileError as exc:
        print(f"ddsite probe: DDSITE_ENDPOINTS_FILE: {exc}", file=err)
        return 2
    transport = Transport(connect_timeout=DEFAULTS["CONNECT_TIMEOUT"],
                          read_timeout=DEFAULTS["READ_TIMEOUT"], get_retries=0, retry_backoff=0,
                          max_parallel_calls=1)
    try:
        report = probe(host, token, table, transport=transport)
    finally:
        transport.close()
    _print(out, f"Probing {host} with the token from {source} (read operations only).")
    allowed = [normalise_origin(h) for h in os.environ.get("DDSITE_DESKDIRECTOR_HOSTS", "")
               .split(",") if h.strip()]
    if host not in allowed:
        _print(out, f"Note: {host} is not in DDSITE_DESKDIRECTOR_HOSTS; the site refuses its "
                    "tokens until it is.")
    if report.audience:
        who = report.user.name or report.user.user_name
        _print(out, f"The token belongs to {AUDIENCE_WORDS[report.audience]}: {who}.")
    for line in report.lines:
        _print(out, line.render())
    if report.failed:
        names = ", ".join(line.name for line in report.failed)
        _print(out, f"Some pages of ddsite would fail on this instance ({names}).")
        return 1
    _print(out, "Every page ddsite shows to this kind of user should work on this instance.")
    return 0


def _token(stdin: TextIO, err: TextIO) -> tuple[str, str]:
    if os.environ.get(TOKEN_VARIABLE, "").strip():
        return os.environ[TOKEN_VARIABLE].strip(), TOKEN_VARIABLE
    if stdin.isatty():
        return getpass.getpass("DeskDirector access token (not shown): ", stream=err).strip(), \
            "the prompt"
    return stdin.readline().strip(), "standard input"


def _print(out: TextIO, text: str) -> None:
    # The token is never put into a line; redacting is the second lock on the same door.
    print(redact(text), file=out)
