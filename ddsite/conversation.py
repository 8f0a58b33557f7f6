"""Long conversations in pages: the newest notes first, older ones when the user asks."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, request, url_for

from .deskdirector.models import Note, Notes

NOTES_PARAM = "notes"


@dataclass(frozen=True)
class Window:
    """The newest notes of a conversation (oldest of them first) and what is left out."""

    notes: list[Note]
    hidden: int
    earlier_url: str | None  # shows one more page of older notes

    @property
    def more(self) -> int:
        """How many older notes the link adds."""
        return min(self.hidden, current_app.config["NOTES_PAGE_SIZE"])


def newest(notes: Notes, *, show_internal: bool) -> Window:
    """The window `?notes=N` asks for on this page (a page's worth by default).

    Only the notes in the window are parsed (see `Notes`); internal ones are left out for
    contacts before anything is counted.
    """
    visible = notes if show_internal else notes.public()
    size = current_app.config["NOTES_PAGE_SIZE"]
    raw = request.args.get(NOTES_PARAM, "")
    wanted = int(raw) if raw.isdigit() and int(raw) > 0 else size  # anything else: the default
    shown = visible[-wanted:]
    hidden = len(visible) - len(shown)
    earlier_url = None
    if hidden:
        earlier_url = url_for(request.endpoint, **(request.view_args or {}),
                              **{NOTES_PARAM: len(shown) + size}, _anchor="conversation")
    return Window(notes=shown, hidden=hidden, earlier_url=earlier_url)
