"""`ddsite demo`: the sandbox on localhost and the site on 127.0.0.1, two sites as in production."""

from __future__ import annotations

import json
import secrets
import signal
import tempfile
import threading
from pathlib import Path

from cheroot import wsgi
from flask import Flask


class ServerThread:
    """A threaded HTTP/1.1 server (keep-alive, as DeskDirector) in a background thread."""

    def __init__(self, host: str, port: int = 0, app: Flask | None = None) -> None:
        # "localhost" binds IPv4 loopback, where browsers and clients try it too.
        bind_host = "127.0.0.1" if host == "localhost" else host
        self._server = wsgi.Server((bind_host, port), app or Flask(__name__), numthreads=32,
                                   server_name=host)
        self._server.prepare()  # binds now, so the port is known before the app is built
        self.port = self._server.bind_addr[1]
        self._thread = threading.Thread(target=self._server.serve, daemon=True,
                                        name=f"server-{host}:{self.port}")

    def attach(self, app: Flask) -> None:
        """Serve `app` (the port is bound first, so apps can be told each other's address)."""
        self._server.wsgi_app = app

    def start(self) -> ServerThread:
        """Start serving."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread."""
        self._server.stop()
        self._thread.join(timeout=10)


class Demo:
    """The sandbox and the site, wired to each other, each on its own server."""

    def __init__(self, *, sandbox_port: int = 0, site_port: int = 0, token_ttl: int = 3600,
                 latency: float = 0.0, error_rate: float = 0.0, dialect: str = "v2",
                 site_overrides: dict | None = None, sandbox_options: dict | None = None) -> None:
        from . import create_app
        from .sandbox import create_sandbox

        self._folder = tempfile.TemporaryDirectory(prefix="ddsite-demo-")
        folder = Path(self._folder.name)
        # Bind first so each side knows the other's port before its app is built.
        self.sandbox = ServerThread("localhost", sandbox_port)
        self.site = ServerThread("127.0.0.1", site_port)
        self.sandbox_url = f"http://localhost:{self.sandbox.port}"
        self.site_url = f"http://127.0.0.1:{self.site.port}"
        self.sandbox_app = create_sandbox(site_url=self.site_url, token_ttl=token_ttl,
                                          latency=latency, error_rate=error_rate, dialect=dialect,
                                          **(sandbox_options or {}))
        # The site learns the dialect as an operator tells it: with an endpoints file.
        endpoints_file = folder / "endpoints.json"
        endpoints_file.write_text(json.dumps({"dialect": dialect}), encoding="utf-8")
        self.site_app = create_app({
            "DEMO": True,
            "SECRET_KEY": secrets.token_hex(32),
            "DESKDIRECTOR_HOSTS": [self.sandbox_url],
            "JWT_KEYS": "auto",  # fetched from the sandbox's key endpoint, as from an instance
            "ENDPOINTS_FILE": str(endpoints_file),
            "SESSION_DIR": str(folder / "sessions"),
            "TECH_TICKET_URL": "{host}/tech/deeplink?name=ticket&ticket_id={ticket_id}",
            **(site_overrides or {}),
        })
        self.sandbox.attach(self.sandbox_app)
        self.site.attach(self.site_app)

    def start(self) -> Demo:
        """Serve both."""
        self.sandbox.start()
        self.site.start()
        return self

    def stop(self) -> None:
        """Stop both servers and remove the demo's temporary files."""
        self.site.stop()
        self.sandbox.stop()
        self.site_app.extensions["ddsite"].close()
        self._folder.cleanup()


def run_demo(*, sandbox_port: int, site_port: int, token_ttl: int, latency: float,
             error_rate: float, dialect: str = "v2") -> int:
    """Run the demo until Ctrl-C (or SIGTERM)."""
    demo = Demo(sandbox_port=sandbox_port, site_port=site_port, token_ttl=token_ttl,
                latency=latency, error_rate=error_rate, dialect=dialect).start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(f"ddsite demo is running (DeskDirector API dialect {dialect}).\n"
          f"  Open {demo.sandbox_url}/ in a browser (client portal and TECH shells).\n"
          f"  The sandbox API is at {demo.sandbox_url}, the site at {demo.site_url}.\n"
          f"  Press Ctrl-C to stop.", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        print("Stopping…", flush=True)
        demo.stop()
    return 0
