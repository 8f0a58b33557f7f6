"""An embedded DeskDirector stand-in: API, portal shells, token minting, fault injection."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from flask import Flask

from ..deskdirector.endpoints import DIALECTS, Endpoint
from .data import HelpDesk
from .faults import Faults
from .replies import OrjsonProvider
from .tokens import TokenAuthority
from .wire import Wire


def create_sandbox(*, site_url: str | None = None, token_ttl: int = 3600, latency: float = 0.0,
                   error_rate: float = 0.0, seed: int = 7, dialect: str = "v2",
                   endpoints: Mapping[str, Endpoint] | None = None,
                   without: Iterable[str] = ()) -> Flask:
    """The sandbox app; `site_url` is ddsite's origin, framed by the portal shells; `dialect`
    is the API it speaks (v2, or v4: see wire.py).

    `endpoints` serves the API at other paths and `without` leaves operations out, to stand in
    for an instance whose API differs from ddsite's endpoint table.
    """
    from .. import resource_folder
    from .api import blueprint
    from .shell import bp as shell_bp

    wire = Wire(dialect)
    table = {name: endpoint for name, endpoint in (endpoints or DIALECTS[dialect]).items()
             if name not in set(without)}
    app = Flask(__name__, template_folder=resource_folder("templates"),
                static_folder=resource_folder("static"))
    app.json = OrjsonProvider(app)
    app.config.update(SITE_URL=site_url.rstrip("/") if site_url else None)
    app.extensions["sandbox"] = {
        "desk": HelpDesk(seed=seed),
        "tokens": TokenAuthority(ttl=token_ttl),
        "faults": Faults(latency=latency, error_rate=error_rate, seed=seed),
        "wire": wire,
        "endpoints": table,
    }
    app.register_blueprint(blueprint(table))
    app.register_blueprint(shell_bp)
    return app
