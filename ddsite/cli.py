"""The `ddsite` command: demo, run, serve, check, probe, endpoints from-har."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import requests

from . import config as config_module
from . import endpoints_command, probe_command


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `ddsite` console script."""
    parser = argparse.ArgumentParser(prog="ddsite", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="run the DeskDirector sandbox and the site together")
    demo.add_argument("--sandbox-port", type=int, default=0,
                      help="port of the sandbox on localhost (default: a free one)")
    demo.add_argument("--site-port", type=int, default=0,
                      help="port of the site on 127.0.0.1 (default: a free one)")
    demo.add_argument("--token-ttl", type=_positive_int, default=3600,
                      help="lifetime of sandbox tokens in seconds (default 3600)")
    demo.add_argument("--latency", type=_non_negative_float, default=0.0,
                      help="seconds added to every sandbox API call")
    demo.add_argument("--error-rate", type=_rate, default=0.0,
                      help="share of sandbox API calls that fail, 0 to 1")
    demo.add_argument("--dialect", choices=("v2", "v4"), default="v2",
                      help="the API dialect the sandbox speaks: v2 (default) or v4 (comments, "
                           "service types, string ids, statuses per queue, no server paging)")

    run = commands.add_parser("run", help="the development server (for production: serve)")
    run.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    run.add_argument("--port", type=int, default=5000, help="port to listen on (default 5000)")

    serve = commands.add_parser("serve", help="the production server (gunicorn, gthread workers)")
    serve.add_argument("--bind", default="127.0.0.1:8000", type=_host_port,
                       help="HOST:PORT to listen on (default 127.0.0.1:8000)")
    serve.add_argument("--workers", type=_positive_int, default=None,
                       help="worker processes (default: 2 per CPU core, plus 1)")
    serve.add_argument("--threads", type=_positive_int, default=None,
                       help="threads per worker (default: DDSITE_SERVER_THREADS, else 8)")

    commands.add_parser("check", help="print the configuration and whether each instance answers")
    probe_command.add_parser(commands)
    endpoints_command.add_parser(commands)

    args = parser.parse_args(argv)
    try:
        if args.command == "demo":
            from .demo import run_demo

            return run_demo(sandbox_port=args.sandbox_port, site_port=args.site_port,
                            token_ttl=args.token_ttl, latency=args.latency,
                            error_rate=args.error_rate, dialect=args.dialect)
        if args.command == "run":
            return _run(args.host, args.port)
        if args.command == "serve":
            from .server import serve as run_server

            return run_server(args.bind, args.workers, args.threads)
        if args.command == "probe":
            return probe_command.run(args)
        if args.command == "endpoints":
            return endpoints_command.run(args)
        return check()
    except config_module.ConfigError as exc:
        print(f"ddsite: configuration error: {exc}", file=sys.stderr)
        return 2


def _run(host: str, port: int) -> int:
    from . import create_app

    app = create_app()
    print("ddsite run: this is Flask's development server, for trying ddsite out; in production "
          "use `ddsite serve` (pip install 'ddsite[server]').", file=sys.stderr, flush=True)
    app.run(host=host, port=port)
    return 0


def check(out=None) -> int:
    """Print the effective configuration (secrets masked) and probe each DeskDirector host."""
    from . import create_app

    out = out or sys.stdout
    config = create_app().config  # validates the variables and the endpoints file
    print("Effective configuration:", file=out)
    for key, value in config_module.masked(config).items():
        print(f"  {key} = {value}", file=out)
    print("DeskDirector instances:", file=out)
    failures = 0
    for host in config["DESKDIRECTOR_HOSTS"]:
        try:
            response = requests.get(host + "/", timeout=(config["CONNECT_TIMEOUT"], 10),
                                    allow_redirects=False)
            print(f"  {host}: answers (HTTP {response.status_code})", file=out)
        except requests.RequestException as exc:
            failures += 1
            print(f"  {host}: does not answer ({type(exc).__name__})", file=out)
    return 1 if failures else 0


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _host_port(raw: str) -> str:
    host, _, port = raw.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError("expected HOST:PORT, e.g. 127.0.0.1:8000")
    return raw


def _non_negative_float(raw: str) -> float:
    value = float(raw)
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def _rate(raw: str) -> float:
    value = float(raw)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return value


if __name__ == "__main__":
    sys.exit(main())
