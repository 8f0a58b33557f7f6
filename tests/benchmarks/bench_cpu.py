"""Benchmark: where a page's CPU goes inside ddsite (template, DeskDirector client, the rest).

Run:  .venv/bin/python tests/benchmarks/bench_cpu.py [--pages 300] [--repeat 3]

The sandbox runs under gunicorn with no added latency, in its own process, so what is counted here
is ddsite's own work: the app runs in this process (Flask's test client, no HTTP server), signed in
as the shells' default contact and agent. Each page is loaded `--pages` times per run; the figures
are CPU milliseconds per page (`time.thread_time`, summed over every thread a page used, the pool's
too), medians of `--repeat` runs. Columns: "wire" is the DeskDirector client (HTTP and JSON);
"models" is the faces turning JSON into models; "template" is Jinja rendering; "other" is the rest
(hooks, session, compression, the view). Figures, never pass/fail.
"""

from __future__ import annotations

import argparse
import collections
import functools
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent.parent))

import bench_site  # noqa: E402  (after the path is set)

PAGES = {
    "tech": ["/tech/", "/tech/queue", "/tech/tickets/{agent_ticket}", "/tech/tickets/{long_ticket}"],
    "portal": ["/portal/", "/portal/tickets", "/portal/tickets/{portal_ticket}"],
}


class CpuMeter:
    """Thread CPU spent inside wrapped functions, by label, across threads; nested calls count once."""

    def __init__(self) -> None:
        self.spent: collections.Counter[str] = collections.Counter()
        self._lock = threading.Lock()
        self._inside = threading.local()

    def wrap(self, owner, name: str, label: str) -> None:
        """Count the CPU of `owner.name` under `label` (and under "elsewhere.<label>" when it ran
        on a thread other than a page's own, e.g. the fan-out pool)."""
        original = getattr(owner, name)
        meter = self

        @functools.wraps(original)
        def counted(*args, **kwargs):
            depth = getattr(meter._inside, label, 0)
            outermost = getattr(meter._inside, "any", 0) == 0  # nothing counted above, this thread
            setattr(meter._inside, label, depth + 1)
            meter._inside.any = getattr(meter._inside, "any", 0) + 1
            started = time.thread_time()
            try:
                return original(*args, **kwargs)
            finally:
                setattr(meter._inside, label, depth)
                meter._inside.any -= 1
                if depth == 0:
                    spent = time.thread_time() - started
                    with meter._lock:
                        meter.spent[label] += spent
                        if outermost and label != "whole":
                            meter.spent["elsewhere"] += spent

        setattr(owner, name, counted)


def main() -> None:
    """Sign in, load every page many times, print CPU per page split by where it went."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--pages", type=int, default=300, help="loads of each page per run")
    parser.add_argument("--repeat", type=int, default=3, help="runs; medians are printed")
    parser.add_argument("--notes", type=int, default=1000, help="notes in the long conversation")
    args = parser.parse_args()

    import flask.templating

    from ddsite import create_app
    from ddsite.deskdirector import client as client_module
    from ddsite.deskdirector import faces

    sandbox = bench_site.Sandbox(0.0)
    try:
        setup = bench_site.prepare(sandbox, args.notes)
        sandbox.set_latency(0)
        meter = CpuMeter()
        meter.wrap(flask.templating, "_render", "template")
        meter.wrap(client_module.Client, "call", "wire")
        for face in (faces.PortalFace, faces.TechFace):
            for name in [n for n in dir(face) if not n.startswith("_")]:
                if callable(getattr(face, name)) and name not in ("pages_lists",):
                    meter.wrap(face, name, "face")
        folder = tempfile.TemporaryDirectory(prefix="ddsite-cpu-", dir=bench_site.DATA_DIR)
        keys = Path(folder.name) / "keys.pem"
        keys.write_bytes(sandbox.public_keys())
        app = create_app({"DESKDIRECTOR_HOSTS": [sandbox.url], "SECRET_KEY": "bench-" + "x" * 40,
                          "JWT_PUBLIC_KEYS": str(keys), "SESSION_DIR": f"{folder.name}/sessions"})
        # As `ddsite serve` and app.py do once the app is built (a tree from before that has none).
        from ddsite import server
        getattr(server, "freeze_startup_objects", lambda: None)()
        meter.wrap(app, "wsgi_app", "whole")
        figures: dict[str, list[dict[str, float]]] = collections.defaultdict(list)
        ids = {"agent_ticket": setup.agent_ticket, "long_ticket": setup.long_ticket,
               "portal_ticket": setup.portal_ticket}
        for _ in range(args.repeat):
            for audience, pages in PAGES.items():
                browser = app.test_client()
                token = sandbox.token(audience)
                signed_in = browser.get(
                    f"/{audience}/?{urlencode({'access_token': token, 'host': sandbox.url})}",
                    headers={"Sec-Fetch-Dest": "iframe", "Accept-Encoding": "gzip"},
                    follow_redirects=True)
                if signed_in.status_code != 200:
                    raise RuntimeError(f"sign-in as {audience} answered {signed_in.status_code}")
                for page in pages:
                    path = page.format(**ids)
                    for _ in range(10):  # warm: imports, template cache, connections, look-ups
                        browser.get(path, headers={"Accept-Encoding": "gzip"})
                    meter.spent.clear()
                    for _ in range(args.pages):
                        reply = browser.get(path, headers={"Accept-Encoding": "gzip"})
                    if reply.status_code != 200:
                        raise RuntimeError(f"{path} answered {reply.status_code}")
                    spent = {k: v * 1000 / args.pages for k, v in meter.spent.items()}
                    whole = spent["whole"] + spent.get("elsewhere", 0)
                    wire, face = spent.get("wire", 0), spent.get("face", 0)
                    per_page = {"whole": whole, "template": spent.get("template", 0), "wire": wire,
                                "models": max(0.0, face - wire)}
                    per_page["other"] = whole - per_page["template"] - max(face, wire)
                    figures[page].append(per_page)
        print(f"CPU ms per page, ddsite only (sandbox in another process); median of "
              f"{args.repeat} x {args.pages} loads")
        columns = ("whole", "template", "wire", "models", "other")
        print(f"{'page':34}" + "".join(f"{c:>10}" for c in columns))
        for page, runs in figures.items():
            cells = [statistics.median(run[part] for run in runs) for part in columns]
            print(f"{page:34}" + "".join(f"{c:>10.2f}" for c in cells))
        folder.cleanup()
    finally:
        sandbox.server.stop()


if __name__ == "__main__":
    main()
