"""An embedded DeskDirector stand-in: API, portal shells, token minting, fault injection."""

from __future__ import annotations

from flask import Flask

from .data import HelpDesk
from .faults import Faults
from .tokens import TokenAuthority
from .wire import Wire


def create_sandbox(*, site_url: str | None = None, token_ttl: int = 3600, latency: float = 0.0,
                   error_rate: float = 0.0, seed: int = 7, dialect: str = "v2") -> Flask:
    """The sandbox app; `site_url` is ddsite's origin, framed by the portal shells; `dialect`
    is the API it speaks (v2, or v4: see wire.py)."""
    from .. import ROOT
    from ..deskdirector.endpoints import DIALECTS
    from .api import blueprint
    from .shell import bp as shell_bp

    wire = Wire(dialect)

    app = Flask(__name__, template_folder=str(ROOT / "templates"),
                static_folder=str(ROOT / "static"))
    app.config.update(SITE_URL=site_url.rstrip("/") if site_url else None)
    app.extensions["sandbox"] = {
        "desk": HelpDesk(seed=seed),
        "tokens": TokenAuthority(ttl=token_ttl),
        "faults": Faults(latency=latency, error_rate=error_rate, seed=seed),
        "wire": wire,
        "endpoints": DIALECTS[dialect],
    }
    app.register_blueprint(blueprint(DIALECTS[dialect]))
    app.register_blueprint(shell_bp)
    return app
