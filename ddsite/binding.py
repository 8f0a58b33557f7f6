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
"""

from __future__ import annotations

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
from wtforms.fields.core import Flags, Label

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
