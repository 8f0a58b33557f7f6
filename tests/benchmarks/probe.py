"""Measurements that run inside the code under test (started with that tree on PYTHONPATH).

  probe.py client-cpu HOST TOKEN COUNT   CPU milliseconds per DeskDirector GET of ddsite's client
  probe.py demo-keepalive               does `ddsite demo`'s sandbox keep a connection open?
"""

from __future__ import annotations

import http.client
import json
import sys
import tempfile
import time


def client_cpu(host: str, token: str, count: int) -> dict:
    """CPU time of the client's side of `count` GETs (the sandbox runs in another process)."""
    from ddsite import create_app

    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"TESTING": True, "SECRET_KEY": "bench", "DESKDIRECTOR_HOSTS": [host],
                          "SESSION_DIR": folder})
        client = app.extensions["ddsite"].client(host, token)
        for _ in range(20):  # warm up: connection, imports
            client.call("portal.request_types")
        started = time.process_time()
        for _ in range(count):
            client.call("portal.request_types")
        cpu = time.process_time() - started
        app.extensions["ddsite"].close()
    return {"cpu_ms_per_get": cpu * 1000 / count}


def demo_keepalive() -> dict:
    """Two requests on one connection to the demo's sandbox: kept alive, or closed?"""
    from ddsite.demo import Demo

    demo = Demo().start()
    try:
        connection = http.client.HTTPConnection("localhost", int(demo.sandbox_url.rsplit(":", 1)[1]),
                                                timeout=5)
        answers = []
        for _ in range(2):
            try:
                connection.request("GET", "/sandbox/faults")
                response = connection.getresponse()
                response.read()
                answers.append({"version": response.version,
                                "connection": response.getheader("Connection", "")})
            except (http.client.HTTPException, OSError) as exc:
                answers.append({"error": type(exc).__name__})
            if connection.sock is None:
                break  # the server closed it: http.client dropped the socket
        kept = len(answers) == 2 and "error" not in answers[1] and connection.sock is not None
        connection.close()
    finally:
        demo.stop()
    return {"kept_alive": kept, "answers": answers}


def main() -> None:
    """Run one probe and print its result as JSON."""
    import ddsite

    command, args = sys.argv[1], sys.argv[2:]
    if command == "client-cpu":
        result = client_cpu(args[0], args[1], int(args[2]))
    elif command == "demo-keepalive":
        result = demo_keepalive()
    else:
        raise SystemExit(f"unknown probe {command!r}")
    result["ddsite"] = ddsite.__file__
    print(json.dumps(result))


if __name__ == "__main__":
    main()
