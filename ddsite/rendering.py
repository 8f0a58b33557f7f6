"""Template filters and helpers: note text made safe to show, times shown relative with the exact
one on hover, status and priority badges."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from datetime import UTC, datetime

import nh3
from flask import get_flashed_messages
from markupsafe import Markup, escape

from . import form_html, page_parts
from .widgets import labelled_radios

# What a note from DeskDirector may keep; everything else (scripts, handlers, styles) is dropped.
_ALLOWED_TAGS = {"a", "b", "strong", "i", "em", "u", "s", "p", "br", "ul", "ol", "li", "code",
                 "pre", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead",
                 "tbody", "tr", "th", "td", "hr", "span", "div"}
_ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "td": {"colspan", "rowspan"},
                       "th": {"colspan", "rowspan"}}
_HTML_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(\s[^<>]*)?/?>")
_URL = re.compile(r"\bhttps?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")


def note_html(text: str | None) -> Markup:
    """A note as safe HTML: DeskDirector's HTML sanitized, plain text with line breaks and links."""
    if not text:
        return Markup("")
    if _HTML_TAG.search(text):
        cleaned = nh3.clean(text, tags=_ALLOWED_TAGS, attributes=_ALLOWED_ATTRIBUTES,
                            url_schemes={"http", "https", "mailto"},
                            link_rel="noopener noreferrer nofollow",
                            set_tag_attribute_values={"a": {"target": "_blank"}})
        return Markup(cleaned)
    if "http" not in text:
        # No link to make (every _URL match starts with "http"): escaping the whole text once
        # writes what escaping it line by line does, as escaping neither adds nor removes a
        # line break.
        return Markup("<br>\n".join(str(escape(text)).splitlines()))
    return _linked_lines(text)


def _linked_lines(text: str) -> Markup:
    return Markup("<br>\n").join(_linkify(line) for line in text.splitlines())


def _linkify(line: str) -> Markup:
    parts: list[Markup] = []
    position = 0
    for match in _URL.finditer(line):
        parts.append(escape(line[position:match.start()]))
        url = escape(match.group(0))
        parts.append(Markup(f'<a href="{url}" target="_blank" rel="noopener noreferrer nofollow">'
                            f"{url}</a>"))
        position = match.end()
    parts.append(escape(line[position:]))
    return Markup("").join(parts)


def relative_time(moment: datetime | None, now: datetime | None = None) -> str:
    """'just now', '5 minutes ago', '3 days ago', or a date for anything older than a month."""
    if moment is None:
        return "—"
    now = now or datetime.now(UTC)
    seconds = int((now - moment).total_seconds())
    if seconds < 0:
        return "just now" if seconds > -120 else exact_time(moment)
    for limit, unit, size in ((60, None, 1), (3600, "minute", 60), (86400, "hour", 3600),
                              (86400 * 31, "day", 86400)):
        if seconds < limit:
            if unit is None:
                return "just now"
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'} ago"
    return _local_date(moment, moment.utcoffset())


@functools.lru_cache(maxsize=4096)  # the same notes and tickets come back page after page
def _local_date(moment: datetime, _offset) -> str:
    # Keyed by the offset too: equal instants in two zones may fall on two dates.
    return moment.strftime("%-d %b %Y")


def exact_time(moment: datetime | None) -> str:
    """The full date and time, in UTC."""
    return moment.astimezone(UTC).strftime("%-d %b %Y, %H:%M UTC") if moment else ""


def iso_time(moment: datetime | None) -> str:
    """For a <time datetime> attribute."""
    return moment.astimezone(UTC).isoformat() if moment else ""


# Words in DeskDirector's (configurable) status and priority names → a colour family.
_STATUS_TONES = (("new", "new"), ("open", "new"), ("progress", "progress"), ("working", "progress"),
                 ("schedul", "progress"),
                 ("wait", "waiting"), ("hold", "waiting"), ("pending", "waiting"),
                 ("resolved", "done"), ("closed", "done"), ("complete", "done"), ("done", "done"))
_PRIORITY_TONES = (("critical", "critical"), ("urgent", "critical"), ("emergency", "critical"),
                   ("high", "high"), ("medium", "medium"), ("normal", "medium"), ("low", "low"))


@functools.lru_cache(maxsize=256)  # a few names, looked up on every row of every list
def status_tone(name: str | None) -> str:
    """The colour family of a status: new, progress, waiting, done (or plain when unknown)."""
    return _tone(name, _STATUS_TONES)


@functools.lru_cache(maxsize=256)
def priority_tone(name: str | None) -> str:
    """The colour family of a priority: low, medium, high, critical (or plain when unknown)."""
    return _tone(name, _PRIORITY_TONES)


def _tone(name: str | None, tones: tuple[tuple[str, str], ...]) -> str:
    lowered = (name or "").lower()
    return next((tone for word, tone in tones if word in lowered), "plain")


# The filters below write what small macros wrote (_macros.html keeps those macros for pages'
# templates, calling these): on a list's every row, a macro call and its filters cost several
# times the Python. What depends only on the value (a badge, a moment's exact time) is kept.

def time_tag(moment: datetime | None) -> Markup:
    """<time> showing how long ago, with the exact time on hover; "—" when there is no time."""
    if not moment:
        return Markup("—")
    iso, exact = _moment_texts(moment)
    return Markup(f'<time datetime="{iso}" title="{exact}">{escape(relative_time(moment))}</time>')


@functools.lru_cache(maxsize=4096)  # a list's tickets come back page after page
def _moment_texts(moment: datetime) -> tuple[Markup, Markup]:
    # Equal datetimes are the same instant, and both texts are of the instant in UTC.
    return escape(iso_time(moment)), escape(exact_time(moment))


@functools.lru_cache(maxsize=1024)
def _badge(name: str | None, kind: str) -> Markup:
    tone = status_tone(name) if kind == "status" else priority_tone(name)
    return Markup(f'<span class="badge badge-{escape(kind)} tone-{escape(tone)}">'
                  f"{escape(name)}</span>")


def badge(ref, kind: str) -> Markup:
    """A status or priority (`kind`) as a badge in its colour family; "—" when there is none."""
    return _badge(ref.name, kind) if ref else Markup("—")


def agent_names(refs: Iterable | None) -> Markup:
    """The agents' names, comma separated, or "Unassigned"."""
    return Markup(", ").join(ref.name for ref in refs) if refs else Markup("Unassigned")


def ids(refs: Iterable) -> list:
    """The ids of these references (what `map(attribute="id")|list` gives, for less)."""
    return [ref.id for ref in refs]


def joined_names(refs: Iterable, separator: str) -> str:
    """The names of the references that are there and named, joined by `separator`."""
    return separator.join(ref.name for ref in refs if ref and ref.name)



# A conversation is the longest loop of a ticket page: written here, it costs a fraction of the
# macro it replaces (_macros.html's `conversation` calls this; a test holds the two equal).

def conversation(window) -> Markup:
    """A conversation window (see conversation.Window): its notes, oldest first, a link to earlier
    ones, and the "sent" confirmation after the latest note."""
    html = []
    if window.hidden:
        more = window.more
        html.append(f'\n<p class="earlier"><a href="{escape(window.earlier_url)}">Show '
                    f'{escape(more)} earlier note{"s" if more != 1 else ""}</a>\n'
                    f'  <span class="muted">({escape(window.hidden)} not shown)</span></p>\n')
    html.append("\n")
    notes = window.notes
    if not notes:
        html.append('\n<p class="muted">No messages yet.</p>\n')
        return Markup("".join(html))
    html.append('\n<ol class="conversation">\n  ')
    last = len(notes) - 1
    for index, note in enumerate(notes):
        author = note.created_by
        from_agent = bool(author) and author.user_type == "Member"
        kind = "from-agent" if from_agent else "from-contact"
        internal = " internal" if note.is_internal else ""
        latest = ' id="latest"' if index == last else ""
        anchor = "" if note.id is None else f' id="note-{escape(note.id)}"'
        name = escape(author.name) if author else "Unknown"
        role = "Support team" if from_agent else "Contact"
        badge_ = '<span class="badge internal">Internal note</span>' if internal else ""
        sent = _sent_confirmation() if index == last else ""
        html.append(
            f'\n  \n  <li class="note {kind}{internal}"{latest}>\n'
            f"    <header{anchor}>\n"
            f'      <span class="author">{name}\n'
            f'        <span class="role">{role}</span>\n'
            f"        {badge_}</span>\n"
            f"      {time_tag(note.created_on)}\n"
            f"    </header>\n"
            f'    <div class="note-body">{note_html(note.text)}</div>\n'
            f"    {sent}\n"
            f"  </li>\n  ")
    html.append("\n</ol>\n")
    return Markup("".join(html))


def _sent_confirmation() -> str:
    # A "sent" confirmation stands beside what was sent (the latest note), not at the top.
    messages = get_flashed_messages(category_filter=["sent"])
    return "\n" + "".join(f'\n<p class="notice notice-success sent-confirmation" role="status">'
                          f"{escape(message)}</p>\n" for message in messages)


FILTERS = {"note_html": note_html, "relative_time": relative_time, "exact_time": exact_time,
           "iso_time": iso_time, "status_tone": status_tone, "priority_tone": priority_tone,
           "time_tag": time_tag, "badge": badge, "agent_names": agent_names, "ids": ids,
           "joined_names": joined_names, "conversation": conversation,
           "labelled_radios": labelled_radios, **form_html.FILTERS,
           **page_parts.FILTERS}
