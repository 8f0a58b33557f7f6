"""Binding a form's fields: each field is bound once, and every later form gets a copy of it.

WTForms binds every field of a form afresh on every request (an UnboundField call, Field's
`__init__` with its validator checks, flags and label), which was most of the cost of making
an agent's ticket page's two forms. A field just bound depends only on its declaration, its
name and prefix, and its form's `meta` (with translations, a label may depend on the
request's language: such fields are bound the stock way); so the first binding is kept as a
template, and later ones copy it, give each copy fresh containers (what `__init__` makes
afresh: lists, dicts, flags, the label) and point it at its own form. The template itself is
never handed out, processed or rendered. Only field types whose `__init__` makes nothing
else are copied; any other field (and the CSRF field, which carries its form's own CSRF
object) is bound the stock way.

A whole form goes the same way when it is blank (shown for the first time: no submitted data,
no object, no values given), which halved the cost of the ticket page's two forms: its class's
first blank form is kept, and each later one gets its own meta, CSRF object, copies of the
kept fields, and this request's CSRF token. Such a form depends only on its class and the
app's CSRF settings, as long as every field is of a copied type, none takes a computed
default, and nothing of ddsite's runs while it is processed (`filter_` methods, `post_process`
hooks other than WTForms' own): forms with any of these are built the stock way.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from flask import current_app
from flask_wtf.form import FlaskForm, _Auto, _is_submitted
from wtforms import (
    HiddenField,
    IntegerField,
    RadioField,
    SearchField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.csrf.core import CSRFTokenField
from wtforms.fields.core import Field, Flags, Label
from wtforms.form import BaseForm

# Field types whose state after `__init__` is plain values plus the containers copied below.
# A subclass of them may opt in with `copy_bound = True` when its own __init__ adds nothing else.
COPIED_TYPES = frozenset({StringField, TextAreaField, HiddenField, IntegerField, SearchField,
                          SelectField, RadioField, SelectMultipleField})
_FRESH = (list, dict, set)


def copyable(field_class: type) -> bool:
    """Whether fields of this class are bound once and then copied."""
    return field_class in COPIED_TYPES or field_class.__dict__.get("copy_bound", False)


def _fresh_names(bound) -> tuple[str, ...]:
    """The attributes of a bound field that each binding makes afresh (containers, label, flags)."""
    return tuple(name for name, value in bound.__dict__.items()
                 if isinstance(value, (*_FRESH, Label, Flags)))


def copy_of(bound, fresh: tuple[str, ...], form):
    """A field like `bound` as its `__init__` would have made it for `form`; `fresh` names the
    attributes to copy rather than share."""
    field = object.__new__(type(bound))  # Field.__new__ would return an UnboundField
    state = field.__dict__
    state.update(bound.__dict__)
    for name in fresh:
        value = state[name]
        if isinstance(value, _FRESH):
            state[name] = type(value)(value)
        else:  # a Label or Flags: a plain object of attributes
            copied = state[name] = object.__new__(type(value))
            copied.__dict__.update(value.__dict__)
    state["meta"], state["_form"] = form.meta, form
    return field


class FastBindMeta:
    """A form `Meta` mix-in: fields of the copied types are bound once per declaration, name
    and prefix, then copied (see the module's docstring)."""

    def bind_field(self, form, unbound_field, options):
        """The field bound for `form`: a copy of the first binding, when its type allows."""
        if options.get("translations") is not None or not copyable(unbound_field.field_class):
            return super().bind_field(form, unbound_field, options)
        key = (options.get("name"), options.get("prefix"))
        bound = unbound_field.__dict__.setdefault("_ddsite_bound", {})
        kept = bound.get(key)
        if kept is None:
            template = super().bind_field(form, unbound_field, options)
            # Kept without its first form, which may hold what that request posted.
            template.meta = template._form = None
            kept = bound[key] = (template, _fresh_names(template))
        return copy_of(*kept, form)


# The app's kept blank forms, by form class and CSRF settings (see `copy_blank_form`).
_BLANKS = "ddsite_blank_forms"
_NOT_COPIED = object()  # a form class whose blank forms are built the stock way
# WTForms' own field hooks, which only mark the field's own state (stale choices, a datalist):
# a copy of that state is what running them again would give.
_STOCK_POST_PROCESS = frozenset({Field.post_process, SelectField.post_process})


def copy_blank_form(form: FlaskForm, formdata: Any) -> bool:
    """Make `form` (fresh from `__new__`, its `__init__` not yet run) a copy of its class's
    blank form, when `formdata` leaves it blank; False when it must be built the stock way."""
    if formdata is not None and (formdata is not _Auto or _is_submitted()):
        return False
    config = current_app.config
    # What a form's meta reads from the app (flask-wtf's Meta): a change makes another copy.
    key = (type(form), config.get("WTF_CSRF_ENABLED", True),
           config.get("WTF_CSRF_SECRET_KEY", current_app.secret_key),
           config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), config.get("WTF_CSRF_TIME_LIMIT", 3600),
           config.get("WTF_I18N_ENABLED", True))
    blanks = current_app.extensions.setdefault(_BLANKS, {})
    kept = blanks.get(key)
    if kept is None:
        kept = blanks[key] = _blank_of(type(form))
    if kept is _NOT_COPIED:
        return False
    _fill(form, *kept)
    return True


def _blank_of(form_class: type) -> tuple | object:
    """The class's blank form as WTForms builds it, with what each copy makes afresh; or
    _NOT_COPIED when its blank forms may differ from one another."""
    blank = object.__new__(form_class)
    FlaskForm.__init__(blank, formdata=None)
    fields = blank._fields.values()
    if (blank.meta.get_translations(blank) is not None
            or type(blank).post_process is not BaseForm.post_process
            or any(name.startswith("filter_") for name in dir(form_class))
            or any(not (copyable(type(f)) or type(f) is CSRFTokenField) or callable(f.default)
                   or type(f).post_process not in _STOCK_POST_PROCESS
                   or getattr(f, "_datalist", None) is not None for f in fields)):
        return _NOT_COPIED
    for field in fields:  # kept without its first form (nor that form's CSRF token)
        field.meta = field._form = None
        if type(field) is CSRFTokenField:
            field.current_token = field.csrf_impl = None
    return blank, {name: _fresh_names(field) for name, field in blank._fields.items()}


def _fill(form: FlaskForm, blank: FlaskForm, fresh: dict[str, tuple[str, ...]]) -> None:
    """Give `form` the state of `blank`: its own meta, CSRF object, errors list and field copies."""
    state = form.__dict__
    state.update(blank.__dict__)
    meta = state["meta"] = object.__new__(type(blank.meta))
    meta.__dict__.update(blank.meta.__dict__)
    state["form_errors"] = []
    csrf = None
    if "_csrf" in state:
        csrf = state["_csrf"] = object.__new__(type(blank._csrf))
        csrf.__dict__.update(blank._csrf.__dict__)
        csrf.meta = meta  # what flask-wtf's CSRF object holds (its setup_form)
    fields = state["_fields"] = OrderedDict()
    for name, field in blank._fields.items():
        copied = fields[name] = state[name] = copy_of(field, fresh[name], form)
        if csrf is not None and type(copied) is CSRFTokenField:
            copied.csrf_impl = csrf
            copied.current_token = csrf.generate_csrf_token(copied)
