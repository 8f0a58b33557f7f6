"""Contact pages: home (who is signed in), tickets, a ticket with its conversation, new request."""

from __future__ import annotations

from flask import Blueprint, render_template

from .. import auth

bp = Blueprint("portal", __name__, url_prefix="/portal")
auth.protect(bp, "portal")


@bp.get("/")
def home():
    """Who is signed in."""
    return render_template("portal/home.html", user=auth.current_user())
