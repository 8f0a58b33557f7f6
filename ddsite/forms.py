"""Form pieces shared by the contact and agent pages."""

from __future__ import annotations

import io
import re
from collections.abc import Mapping

from flask import current_app, g, request, session
from flask_wtf import FlaskForm
from flask_wtf.csrf import _FlaskFormCSRF, generate_csrf
from flask_wtf.form import _Auto
from markupsafe import Markup
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import (
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput

from .auth import PageError
from .binding import FastBindMeta, copy_blank_form
from .deskdirector.errors import Invalid
from .deskdirector.models import Ref
from .widgets import CheckboxList, FastRenderMeta, attributes

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# Text is letters, digits, punctuation, spaces and line breaks; no other control characters.
_NOT_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# A search that is only a ticket number: "1042" or "#1042" (ASCII digits; "²" is a digit to \d).
_TICKET_NUMBER = re.compile(r"#?\s*([0-9]{1,9})")


class BadFormInput(PageError):
    """A POST body that is not a browser's text form: nothing of it is read or sent."""

    heading = "The form could not be read"


def refuse_oversized_stream() -> None:
    """Refuse a body of unstated length (chunked) over the size limit with 413, instead of reading
    only its first part as if it were all."""
    environ = request.environ
    # A request without Transfer-Encoding has a stated length or no body at all (RFC 9112
    # 6.3), as every GET does: nothing to read. Checked first, since this runs on every request.
    if "HTTP_TRANSFER_ENCODING" not in environ:
        return
    limit = request.max_content_length
    if limit is None or request.content_length is not None:
        return
    if "wsgi.input_terminated" not in environ:
        return  # the server cannot say where such a body ends, so Werkzeug reads none of it
    body = environ["wsgi.input"].read(limit + 1)
    if len(body) > limit:
        raise RequestEntityTooLarge(too_large_message(limit))
    environ["wsgi.input"] = io.BytesIO(body)


def too_large_message(limit: int) -> str:
    """What a 413 page says: the limit, and that nothing was sent."""
    return (f"What you sent is larger than this site accepts ({limit // 1024:,} KB). Nothing was "
            "sent; shorten it and try again.")


def accept_only_text_fields() -> None:
    """Before any form is read: a POST must be text form fields, as a browser sends a form.

    Files, JSON and other bodies, and control characters, get a 400 page that says which; so
    nothing but a string ever reaches a form field or a validator.
    """
    if request.method != "POST" or request.routing_exception is not None:
        return
    if request.mimetype not in FORM_TYPES and (request.mimetype or request.content_length):
        kind = "JSON" if request.is_json else f"a body of type “{request.mimetype[:60]}”"
        raise BadFormInput(f"This page takes a form as your browser sends it, and {kind} cannot "
                           "be read here. Nothing was sent.")
    if request.files:
        raise BadFormInput("Files cannot be attached here: the form takes text only. Nothing was "
                           "sent; take the file out and send the text again.")
    for name, value in request.form.items(multi=True):
        if _NOT_TEXT.search(name) or _NOT_TEXT.search(value):
            raise BadFormInput("The form held characters that are not text (control characters), "
                               "so it was not read. Nothing was sent; retype the text and send "
                               "it again.")


def strip(value):
    """Field filter: surrounding white space is not content."""
    return value.strip() if isinstance(value, str) else value


def choices(refs: list[Ref], empty_label: str) -> list[SelectChoice]:
    """Select choices from one of DeskDirector's look-up lists, led by an empty choice."""
    return [SelectChoice("", empty_label)] + [SelectChoice(r.id, r.name) for r in refs]


def text_or_none(value):
    """Coerce a select's value to text ('' means nothing chosen): ids compare by their text."""
    return None if value in (None, "") else str(value)


def _chosen(field, text):
    """The id DeskDirector gave for the choice whose text is `text` (None when not offered)."""
    return next((c.value for c in field.choices or () if c.value != "" and str(c.value) == text),
                None)


class RefField(SelectField):
    """A select over one of DeskDirector's look-up lists; `chosen` is the id as DeskDirector
    wrote it (a number or a string), so it goes back out unchanged."""

    copy_bound = True  # its __init__ only sets `coerce` (see ddsite.binding)

    def __init__(self, label=None, validators=None, **kwargs) -> None:
        super().__init__(label, validators, coerce=text_or_none, **kwargs)

    @property
    def chosen(self):
        """The chosen item's id, or None."""
        return _chosen(self, self.data)

    def id_for(self, text: str | None):
        """The id as DeskDirector wrote it for the choice `text` (None for none, or not offered)."""
        return None if text is None else _chosen(self, text)

    def offer(self, ref: Ref | None) -> None:
        """Add `ref` to the choices when the list left it out (a ticket's current value)."""
        if ref is not None and ref.id is not None and _chosen(self, str(ref.id)) is None:
            self.choices = [*self.choices, SelectChoice(ref.id, ref.name)]


class RefsField(SelectMultipleField):
    """Several items of a look-up list as checkboxes; `chosen` lists their ids as written."""

    widget = CheckboxList()
    option_widget = CheckboxInput()
    copy_bound = True  # its __init__ only sets `coerce` (see ddsite.binding)

    def __init__(self, label=None, validators=None, **kwargs) -> None:
        super().__init__(label, validators, coerce=str, **kwargs)

    @property
    def chosen(self) -> list:
        """The chosen items' ids."""
        return [_chosen(self, text) for text in self.data or () if _chosen(self, text) is not None]

    def id_for(self, text: str):
        """The id as DeskDirector wrote it for the choice `text` (None when not offered)."""
        return _chosen(self, text)

    def offer(self, refs: list[Ref]) -> None:
        """Add any of `refs` the list left out."""
        known = {str(c.value) for c in self.choices or ()}
        self.choices = [*self.choices, *(SelectChoice(r.id, r.name) for r in refs
                                         if r.id is not None and str(r.id) not in known)]


# The app's signed CSRF tokens, by (signing key, field name, a session's raw secret).
_SIGNED = "ddsite_signed_csrf"
_SIGNED_KEPT = 10_000


def csrf_token(secret_key: str | None = None, field_name: str | None = None) -> str:
    """This request's signed CSRF token: flask-wtf's `generate_csrf`, signed once per session.

    flask-wtf signs the session's secret afresh on every page (itsdangerous: a key derived, a
    JSON dump, an HMAC; tens of microseconds). Its signature carries the time it was made, which
    only matters under `WTF_CSRF_TIME_LIMIT`; ddsite has none (a token lasts as long as its
    session), so the first signature of a session's secret serves every later page. With a
    time limit set, every page signs afresh, as flask-wtf does.
    """
    config = current_app.config
    field_name = field_name or config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    secret_key = secret_key or config.get("WTF_CSRF_SECRET_KEY", current_app.secret_key)
    raw = session.get(field_name)
    if config.get("WTF_CSRF_TIME_LIMIT", 3600) is not None or not isinstance(raw, str):
        return generate_csrf(secret_key, field_name)  # also makes a session's first secret
    signed = g.get(field_name)
    if signed is None:
        key = (secret_key, field_name, raw)
        kept = current_app.extensions.setdefault(_SIGNED, {})
        signed = kept.get(key)
        if signed is None:
            signed = generate_csrf(secret_key, field_name)
            if len(kept) >= _SIGNED_KEPT:
                kept.clear()  # sessions end; their tokens need not stay
            kept[key] = signed
        setattr(g, field_name, signed)  # where flask-wtf keeps this request's token
    return signed


class _SignedOnceCSRF(_FlaskFormCSRF):
    """flask-wtf's form CSRF, its token from `csrf_token`."""

    def generate_csrf_token(self, csrf_token_field) -> str:
        """The token the form's hidden field carries."""
        return csrf_token(self.meta.csrf_secret, self.meta.csrf_field_name)


class Form(FlaskForm):
    """Base of ddsite's forms: fields are bound by copying, a blank form is a copy of the first
    (ddsite.binding), they render through ddsite.widgets (the same forms and HTML, less CPU),
    and their CSRF token is signed once per session."""

    class Meta(FastBindMeta, FastRenderMeta):
        csrf_class = _SignedOnceCSRF

    def __init__(self, formdata=_Auto, **kwargs) -> None:
        if kwargs or not copy_blank_form(self, formdata):
            super().__init__(formdata=formdata, **kwargs)


class ListFilterForm(Form):
    """GET filters of a ticket list: search and page, plus the list's own (no CSRF: reads only)."""

    class Meta:
        csrf = False

    q = StringField("Search", default="", filters=[strip], validators=[
        Optional(), Length(max=100, message="Keep the search under 100 characters.")])
    page = IntegerField("Page", default=1, validators=[
        Optional(), NumberRange(min=1, max=10000, message="Pages are numbered from 1.")])

    def values(self) -> dict:
        """Each filter's value, or every default when any is invalid (the page shows why)."""
        valid = self.validate()
        return {name: field.data if valid and field.data else field.default
                for name, field in self._fields.items()}


def ticket_number(search: str) -> int | None:
    """The ticket id when a search is just a number ("1042" or "#1042"), else None."""
    match = _TICKET_NUMBER.fullmatch(search or "")
    return int(match.group(1)) if match else None


def page_window(page_number: int) -> tuple[int, int]:
    """(skip, take) for a 1-based page number."""
    size = current_app.config["PAGE_SIZE"]
    return (page_number - 1) * size, size


def csrf_input() -> Markup:
    """This request's CSRF token as the hidden input a form's `csrf_token(id=False)` writes, for
    pages that show many small forms (the queue's quick actions) without building one."""
    name = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    return Markup(f"<input {attributes({'name': name, 'type': 'hidden', 'value': csrf_token()})}>")


class OnceForm(Form):
    """A form that may be sent to DeskDirector only once (see sendonce.py)."""

    form_key = HiddenField(validators=[DataRequired("The form was incomplete; reload the page.")])
    # Set when the same text was sent here minutes ago: the page asks before sending it again.
    repeat_of: str | None = None
    restored_draft = False


class NoteLength:
    """At most NOTE_MAX_LENGTH characters (read when validating, so tests can change it)."""

    def __call__(self, form, field) -> None:
        limit = current_app.config["NOTE_MAX_LENGTH"]
        if field.data and len(field.data) > limit:
            raise ValidationError(f"Keep it under {limit:,} characters "
                                  f"(this is {len(field.data):,}).")


def note_field(label: str) -> TextAreaField:
    """A note's text: required, not blank, not longer than the configured limit."""
    return TextAreaField(label, validators=[DataRequired("Write something before sending."),
                                            NoteLength()], filters=[strip])


def apply_field_errors(form: FlaskForm, error: Invalid, fields: Mapping[str, str]) -> None:
    """Put DeskDirector's field messages on the form's fields; the rest go to the form itself.

    The client names fields as its faces' arguments; `fields` maps those to the form's fields
    where the two differ.
    """
    placed = False
    for name, messages in error.field_errors.items():
        field = form._fields.get(fields.get(name, name))
        if field is not None and not isinstance(field, HiddenField):
            field.errors = [*field.errors, *messages]
            placed = True
        else:
            form.form_errors.extend(f"{name}: {m}" for m in messages)
    if not placed and not form.form_errors:
        form.form_errors.append(f"DeskDirector did not accept this: {error.message}")
