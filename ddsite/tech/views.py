"""Agent pages: home, the queue, a ticket with internal notes, notes and updates."""

from __future__ import annotations

from flask import Blueprint, render_template

from .. import auth

bp = Blueprint("tech", __name__, url_prefix="/tech")
auth.protect(bp, "tech")


@bp.get("/")
def home():
    """Who is signed in."""
    return render_template("tech/home.html", user=auth.current_user())
