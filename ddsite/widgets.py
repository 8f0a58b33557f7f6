"""Form fields as HTML: the markup WTForms' own widgets write, byte for byte, written faster.

WTForms builds every attribute through `html_params`, which formats each one with
`Markup.format` (Python's string.Formatter plus an escape per piece) and looks the field's flags
up with `dir()`; on an agent's ticket page that was most of the template's CPU. Here each value
is escaped once with markupsafe's C `escape` and joined as plain text. Only the stock widgets
whose behaviour is copied here take the fast path (matched by exact type); anything else, and
any case this module does not copy (option groups, a `name` passed in), goes to WTForms itself.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping

from markupsafe import Markup, escape
from wtforms import widgets as stock
from wtforms.fields import SelectField
from wtforms.fields.core import Label
from wtforms.widgets.core import clean_key

# clean_key + escape per attribute name; names come from code (templates, render_kw), so few.
_NAMES: dict[str, str] = {}
_NAMES_KEPT = 512


def _name(key: str) -> str:
    name = _NAMES.get(key)
    if name is None:
        name = str(escape(clean_key(key)))
        if len(_NAMES) < _NAMES_KEPT:
            _NAMES[key] = name
    return name


# Text with none of the characters escaping changes: most values (ids, names, types, choices).
_NOTHING_TO_ESCAPE = re.compile(r"[^&<>\"']*").fullmatch


def _value(value) -> str:
    if type(value) is str and _NOTHING_TO_ESCAPE(value):
        return value  # what escaping would give, found without building Markup twice
    # escape() turns '"' into &#34;, but leaves Markup as it is: WTForms then writes &quot;.
    return str(escape(value)).replace('"', "&quot;")


def attributes(values: Mapping) -> str:
    """HTML attributes as WTForms' `html_params` writes them: sorted by name, `class_` → `class`,
    `data_`/`aria_` names with hyphens, True as a bare attribute, False left out, values
    escaped."""
    parts = []
    for key in sorted(values):
        value = values[key]
        if value is True:
            parts.append(_NAMES.get(key) or _name(key))
        elif value is not False:
            parts.append(f'{_NAMES.get(key) or _name(key)}="{_value(value)}"')
    return " ".join(parts)


def _add_flags(widget, field, kwargs: dict, call: bool) -> None:
    """The field's flags the widget turns into attributes (required, maxlength…), unless given."""
    flags = vars(field.flags)
    for name in widget.validation_attrs:
        if name in flags and name not in kwargs:
            value = flags[name]
            kwargs[name] = value() if call and callable(value) else value


def _input(widget, field, kwargs: dict) -> Markup:
    kwargs.setdefault("id", field.id)
    kwargs.setdefault("type", widget.input_type)
    if "value" not in kwargs:
        kwargs["value"] = field._value()
    datalist = getattr(field, "_datalist", None)
    if datalist is not None and "list" not in kwargs:
        kwargs["list"] = datalist if isinstance(datalist, str) else datalist.id
    _add_flags(widget, field, kwargs, call=True)
    kwargs["name"] = field.name
    return Markup(f"<input {attributes(kwargs)}>")


def _checkbox(widget, field, kwargs: dict) -> Markup:
    if getattr(field, "checked", field.data):
        kwargs.setdefault("checked", True)
    return _input(widget, field, kwargs)


def _radio(widget, field, kwargs: dict) -> Markup:
    if field.checked:
        kwargs.setdefault("checked", True)
    return _input(widget, field, kwargs)


def _textarea(widget, field, kwargs: dict) -> Markup:
    kwargs.setdefault("id", field.id)
    _add_flags(widget, field, kwargs, call=False)
    kwargs["name"] = field.name
    return Markup(f"<textarea {attributes(kwargs)}>\r\n{escape(field._value())}</textarea>")


def _select(widget, field, kwargs: dict) -> Markup | None:
    options = _plain_select_options(field)
    if options is None:
        if field.has_groups():
            return None  # <optgroup>s: rare, left to WTForms
        options = [option(choice) for choice in field._iter_choices_normalized()]
    kwargs.setdefault("id", field.id)
    if widget.multiple:
        kwargs["multiple"] = True
    _add_flags(widget, field, kwargs, call=False)
    kwargs["name"] = field.name
    return Markup(f"<select {attributes(kwargs)}>{''.join(options)}</select>")


def _plain_select_options(field) -> list[str] | None:
    """The options of a SelectField whose choice methods are WTForms' own, from one walk of its
    choices; None for any other field, or one with <optgroup>s.

    WTForms walks the choices twice (`has_groups`, then `iter_choices`), building an object per
    choice each time; this is what its `iter_choices` yields, written as it goes (the pinned
    WTForms 3.3's `SelectField`; a test compares the two).
    """
    kind = type(field)
    if kind.iter_choices is not _STOCK_ITER_CHOICES or kind.has_groups is not _STOCK_HAS_GROUPS:
        return None
    choices = field._choices_from_input(field.choices) or []
    if any(choice.optgroup is not None for choice in choices):
        return None
    coerce, data = field.coerce, field.data
    return [_option(c.value, c.label, coerce(c.value) == data, c.render_kw) for c in choices]


_STOCK_ITER_CHOICES, _STOCK_HAS_GROUPS = SelectField.iter_choices, SelectField.has_groups


def option(choice) -> str:
    """One <option> of a select, as WTForms' `Select.render_option` writes it."""
    return _option(choice.value, choice.label, choice.selected, choice.render_kw)


def _option(value, label, selected, render_kw) -> str:
    if isinstance(value, bool):
        value = str(value)
    if not render_kw and type(value) in _KEPT_TYPES and type(label) in _KEPT_TYPES:
        return _plain_option(value, label, bool(selected))
    label = escape(label or value)
    if render_kw:
        params = {"value": value, **render_kw}
        if selected:
            params["selected"] = True
        return f"<option {attributes(params)}>{label}</option>"
    selected = "selected " if selected else ""
    return f'<option {selected}value="{_value(value)}">{label}</option>'


# A select's options are DeskDirector's look-up lists, the same on every page: each option is
# written once (typed: 1 and "1", or Markup and text, are kept apart).
_KEPT_TYPES = (str, int)


@functools.lru_cache(maxsize=4096, typed=True)
def _plain_option(value, label, selected: bool) -> str:
    label = escape(label or value)
    return f'<option {"selected " if selected else ""}value="{_value(value)}">{label}</option>'


# Stock widgets whose output is copied here (exact types: a subclass may render differently).
_FAST = {stock.TextInput: _input, stock.HiddenInput: _input, stock.SearchInput: _input,
         stock.CheckboxInput: _checkbox, stock.RadioInput: _radio, stock.TextArea: _textarea,
         stock.Select: _select}


def render(field, render_kw: Mapping) -> Markup:
    """A field as HTML with these extra attributes: WTForms' `DefaultMeta.render_field`, with the
    stock widgets' output written here."""
    kwargs = {clean_key(k): v for k, v in render_kw.items()}
    field_kw = getattr(field, "render_kw", None)
    if field_kw is not None:
        kwargs = {**{clean_key(k): v for k, v in field_kw.items()}, **kwargs}
    widget = field.widget
    fast = _FAST.get(type(widget))
    if fast is not None and "name" not in kwargs:  # a `name` here is WTForms' TypeError to raise
        html = fast(widget, field, kwargs)
        if html is not None:
            return html
    return widget(field, **kwargs)


class CheckboxList:
    """A <ul> of checkboxes, each followed by its label: what WTForms' `ListWidget(prefix_label=
    False)` writes over `CheckboxInput` options, without building a subfield for each choice."""

    def __call__(self, field, **kwargs) -> Markup:
        """The list for `field` (a SelectMultipleField); `kwargs` are the <ul>'s attributes."""
        kwargs.setdefault("id", field.id)
        # Each box gets what a WTForms subfield would: the field's render_kw, then its flags.
        shared = {clean_key(k): v for k, v in (field.render_kw or {}).items()}
        flags = vars(field.flags)
        # Usually nothing is shared and no flag applies: then each box's attributes are known
        # (checked, id, name, type, value: already in html_params' order) and written directly.
        plain = not shared and not any(f in flags for f in stock.CheckboxInput.validation_attrs)
        name = _value(field.name)
        html = [f"<ul {attributes(kwargs)}>"]
        for index, choice in enumerate(field._iter_choices_normalized()):
            label = escape(choice.label or choice.value)
            if plain:
                box_id = _value(f"{field.id}-{index}")
                checked = "checked " if choice.selected else ""
                html.append(f'<li><input {checked}id="{box_id}" name="{name}" type="checkbox" '
                            f'value="{_value(str(choice.value))}"> '
                            f'<label for="{box_id}">{label}</label></li>')
                continue
            box = dict(shared)
            if choice.selected:
                box.setdefault("checked", True)
            box_id = f"{field.id}-{index}"  # the label's `for`, even if render_kw sets an id
            box.setdefault("id", box_id)
            box.setdefault("type", "checkbox")
            box.setdefault("value", str(choice.value))
            _add_flags(stock.CheckboxInput, field, box, call=True)
            box["name"] = field.name
            html.append(f"<li><input {attributes(box)}> "
                        f"<label {attributes({'for': box_id})}>{label}</label></li>")
        html.append("</ul>")
        return Markup("".join(html))


class _RadioOption:
    """What a RadioField's option subfield shows its widget, without binding a field for it."""

    __slots__ = ("id", "name", "checked", "flags", "value")

    def __init__(self, field, index: int, choice) -> None:
        self.id, self.name, self.flags = f"{field.id}-{index}", field.name, field.flags
        self.checked, self.value = choice.selected, str(choice.value)

    def _value(self) -> str:
        return self.value


def labelled_radios(field) -> Markup:
    """Each radio button of a RadioField inside its own <label>, followed by its text: what
    `{% for o in field %}<label>{{ o() }} {{ o.label.text }}</label>{% endfor %}` writes, without
    WTForms binding a subfield for each choice."""
    shared = {clean_key(k): v for k, v in (field.render_kw or {}).items()}
    html = []
    for index, choice in enumerate(field._iter_choices_normalized()):
        option = _RadioOption(field, index, choice)
        html.append(f"<label>{_radio(stock.RadioInput, option, dict(shared))} "
                    f"{escape(choice.label or choice.value)}</label>")
    return Markup("".join(html))


class FastLabel(Label):
    """A field's <label>, as WTForms writes it, without `html_params` for the usual `for`."""

    def __call__(self, text=None, **kwargs) -> Markup:
        """The label; other attributes (or `for_`) go the stock way."""
        if kwargs:
            return super().__call__(text, **kwargs)
        params = attributes({"for": self.field_id})
        return Markup(f"<label{' ' if params else ''}{params}>{escape(text or self.text)}</label>")


class FastRenderMeta:
    """A form `Meta` mix-in: fields render through `render`, labels are `FastLabel`s."""

    def bind_field(self, form, unbound_field, options):
        """Bind as WTForms does, then give the field the faster label."""
        field = super().bind_field(form, unbound_field, options)
        if type(field.label) is Label:
            field.label = FastLabel(field.label.field_id, field.label.text)
        return field

    def render_field(self, field, render_kw):
        """Render `field` with `render_kw` (see `render`)."""
        return render(field, render_kw)
