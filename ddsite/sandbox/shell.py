"""Portal shells that frame ddsite as DeskDirector does, a user switcher, deep links, faults."""

from __future__ import annotations

import time
from urllib.parse import urlencode

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)

from .faults import FAULT_KINDS

bp = Blueprint("shell", __name__)

# The flags DeskDirector's "I know this site" template gives an External Site iframe (its help:
# "allows the majority", all but top navigation); Insights' CSV download needs allow-downloads.
IFRAME_SANDBOX = ("allow-same-origin allow-scripts allow-forms allow-popups allow-downloads "
                  "allow-top-navigation-by-user-activation")
_SHELLS = {
    "portal": {"kind": "c", "cookie": "sandbox_contact", "title": "Support portal",
               "menu_item": "My support pages"},
    "tech": {"kind": "m", "cookie": "sandbox_agent", "title": "TECH", "menu_item": "Agent pages"},
}
MIN_TTL = 1


def _sandbox() -> dict:
    return current_app.extensions["sandbox"]


@bp.get("/")
def index():
    """Where the demo starts: links into both shells."""
    return render_template("sandbox/index.html", site_url=current_app.config["SITE_URL"])


@bp.get("/portal/")
def portal_shell():
    """The client portal, signed in as one seeded contact."""
    return _shell("portal", inner_path="/portal/")


@bp.get("/tech/")
def tech_shell():
    """TECH, signed in as one seeded agent."""
    return _shell("tech", inner_path="/tech/")


@bp.get("/portal/insights")
def portal_insights_shell():
    """A second menu item of the client portal: the Insights page."""
    return _shell("portal", inner_path="/portal/insights/")


@bp.get("/tech/insights")
def tech_insights_shell():
    """A second menu item of TECH: the Insights page."""
    return _shell("tech", inner_path="/tech/insights/")


@bp.get("/portal/deeplink")
def portal_deeplink():
    """DeskDirector's web deep link: `name=ticket&ticket_id=N` opens that ticket."""
    return _shell("portal", inner_path=_deeplink_path("portal"))


@bp.get("/tech/deeplink")
def tech_deeplink():
    """The same for TECH."""
    return _shell("tech", inner_path=_deeplink_path("tech"))


def _deeplink_path(app_name: str) -> str:
    if request.args.get("name") != "ticket":
        return f"/{app_name}/"
    ticket_id = request.args.get("ticket_id", "")
    return f"/{app_name}/tickets/{ticket_id}" if ticket_id.isdigit() else f"/{app_name}/"


def _users(app_name: str) -> list[dict]:
    desk = _sandbox()["desk"]
    if app_name == "tech":
        return [{"id": a["id"], "label": a["name"]} for a in desk.agents.values()]
    return [{"id": c["id"], "label": f"{c['firstName']} {c['lastName']} "
             f"({desk.companies[c['companyId']]['name']})"} for c in desk.contacts.values()]


def _shell(app_name: str, inner_path: str):
    shell = _SHELLS[app_name]
    users = _users(app_name)
    valid_ids = {u["id"] for u in users}
    chosen = request.args.get("as", "")
    if chosen:
        if not chosen.isdigit() or int(chosen) not in valid_ids:
            abort(400, f"No seeded user with id {chosen!r}.")
        query = {k: v for k, v in request.args.items() if k != "as"}
        response = redirect(request.path + (f"?{urlencode(query)}" if query else ""))
        response.set_cookie(shell["cookie"], chosen, samesite="Lax", httponly=True)
        return response
    cookie = request.cookies.get(shell["cookie"], "")
    user_id = int(cookie) if cookie.isdigit() and int(cookie) in valid_ids else users[0]["id"]
    ttl_raw = request.args.get("ttl", "")
    ttl = int(ttl_raw) if ttl_raw.isdigit() and int(ttl_raw) >= MIN_TTL else None
    tokens = _sandbox()["tokens"]
    token = tokens.mint(shell["kind"], user_id, ttl)
    expires_at = int(time.time()) + (ttl or tokens.ttl)
    site_url = current_app.config["SITE_URL"]
    frame_src = None
    if site_url:
        host = request.host_url.rstrip("/")
        frame_src = f"{site_url}{inner_path}?{urlencode({'access_token': token, 'host': host})}"
    menu = [(shell["menu_item"], url_for(f"shell.{app_name}_shell")),
            ("Insights", url_for(f"shell.{app_name}_insights_shell"))]
    return render_template("sandbox/shell.html", app_name=app_name, shell=shell, users=users,
                           menu=menu, current_menu=request.path,
                           user_id=user_id, frame_src=frame_src, expires_at=expires_at,
                           iframe_sandbox=IFRAME_SANDBOX, faults=_sandbox()["faults"].describe(),
                           fault_kinds=FAULT_KINDS)


@bp.post("/sandbox/keys/rotate")
def rotate_keys():
    """Sign new tokens with a new key (the old ones still verify), as DeskDirector rotates."""
    kid = _sandbox()["tokens"].rotate()
    if request.is_json or not request.form:
        return jsonify({"kid": kid})
    return redirect(request.referrer or url_for("shell.index"))


@bp.get("/sandbox/faults")
def faults():
    """The current fault settings, as JSON."""
    return jsonify(_sandbox()["faults"].describe())


@bp.post("/sandbox/faults")
def set_faults():
    """Change latency, error rate and fault kinds at run time (form or JSON)."""
    data = request.get_json(silent=True) or request.form
    try:
        latency = float(data["latency"]) if data.get("latency") not in (None, "") else None
        rate = float(data["errorRate"]) if data.get("errorRate") not in (None, "") else None
        kinds = data.get("kinds")
        if isinstance(kinds, str):
            kinds = tuple(k.strip() for k in kinds.split(",") if k.strip())
        _sandbox()["faults"].set(latency=latency, error_rate=rate,
                                 kinds=tuple(kinds) if kinds else None)
    except (TypeError, ValueError) as exc:
        return jsonify({"errorCode": "BadRequest", "message": str(exc)}), 400
    if request.is_json:
        return jsonify(_sandbox()["faults"].describe())
    return redirect(request.referrer or url_for("shell.index"))
