"""`ddsite serve`: the production server, gunicorn with gthread workers.

The app is built once in the master before any worker starts, so a configuration error stops
the command with its message; the workers are forked from that master and share nothing else.
"""

from __future__ import annotations

import atexit
import gc
import glob
import math
import os
import shutil
import tempfile
from typing import Any

from flask import Flask

from .security import REDACTING_FILTER


def default_workers() -> int:
    """gunicorn's rule of thumb: two workers per core, plus one."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return 2 * (cores or 1) + 1


def worker_timeout(config: dict[str, Any]) -> int:
    """Seconds a request may take before gunicorn restarts its worker: longer than the slowest
    DeskDirector read a page can make (every GET attempt timing out), plus a margin."""
    one_call = config["CONNECT_TIMEOUT"] + config["READ_TIMEOUT"]
    return math.ceil(one_call * (1 + config["GET_RETRIES"])) + 10


def freeze_startup_objects() -> None:
    """Put everything built so far (modules, the app, its settings) out of the garbage
    collector's reach: it all lives as long as the process.

    The collector's full passes, every few pages once a page reads a ticket, walked all of it
    each time: about a millisecond of CPU per agent ticket page, a sixth of its whole cost.
    Frozen before gunicorn forks, those objects' memory also stays shared between workers.
    """
    gc.freeze()


def prepare_metrics_folder() -> None:
    """Point prometheus_client at a clean folder shared by the workers (before it is imported)."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        os.makedirs(folder, exist_ok=True)
        for stale in glob.glob(os.path.join(folder, "*.db")):
            os.remove(stale)  # figures of a previous run would be added to this one's
        return
    folder = tempfile.mkdtemp(prefix="ddsite-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
    master = os.getpid()

    def remove_folder() -> None:
        if os.getpid() == master:  # workers inherit atexit handlers; only the master cleans up
            shutil.rmtree(folder, ignore_errors=True)

    atexit.register(remove_folder)


def serve(bind: str, workers: int | None, threads: int | None) -> int:
    """Build the app, then run it under gunicorn until SIGTERM or Ctrl-C (`threads` per worker:
    by default the app's SERVER_THREADS, so the two can never disagree)."""
    try:
        from gunicorn.app.base import BaseApplication
        from gunicorn.glogging import Logger
    except ImportError:
        raise SystemExit("ddsite serve needs gunicorn: pip install 'ddsite[server]'") from None

    prepare_metrics_folder()
    from . import create_app

    # Raises ConfigError with its message before anything is forked. The pools for DeskDirector
    # calls are sized from the threads that will really run.
    app = create_app({"SERVER_THREADS": threads} if threads else None)
    threads = app.config["SERVER_THREADS"]
    freeze_startup_objects()

    class RedactingLogger(Logger):
        """gunicorn's logger with the token-redacting filter on its access and error logs."""

        def setup(self, cfg) -> None:
            super().setup(cfg)
            for log in (self.access_log, self.error_log):
                log.addFilter(REDACTING_FILTER)

    class Server(BaseApplication):
        def __init__(self, flask_app: Flask, options: dict[str, Any]) -> None:
            self.flask_app = flask_app
            self.options = options
            super().__init__()

        def load_config(self) -> None:
            for key, value in self.options.items():
                self.cfg.set(key, value)
            # gunicorn ≥ 24 opens a control socket in the home folder; two servers on one
            # machine would fight over it, and ddsite needs no runtime control.
            if "control_socket_disable" in self.cfg.settings:
                self.cfg.set("control_socket_disable", True)

        def load(self) -> Flask:
            return self.flask_app

    timeout = worker_timeout(app.config)
    options = {
        "bind": [bind],
        "workers": workers or default_workers(),
        "worker_class": "gthread",
        "threads": threads,
        "timeout": timeout,
        # On SIGTERM, requests in flight may finish their DeskDirector call first.
        "graceful_timeout": timeout,
        "preload_app": True,
        "accesslog": "-",
        "errorlog": "-",
        "logger_class": RedactingLogger,
        "child_exit": _forget_worker_metrics,
        "proc_name": "ddsite",
    }
    Server(app, options).run()
    return 0


def _forget_worker_metrics(server, worker) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
