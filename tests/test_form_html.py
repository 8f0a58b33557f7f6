"""ddsite.form_html: the form pieces write exactly what the Jinja macros they replace wrote."""

from __future__ import annotations

import pytest
from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from ddsite.deskdirector.models import Ref
from ddsite.portal.forms import NewRequestForm, ReplyForm
from ddsite.tech.forms import NoteForm, UpdateForm

# The macros as they were written in Jinja (the reference).
STOCK_MACROS = """\
{% macro field(f, hint=None) -%}
<div class="field">
  {{ f.label }}
  {% if hint %}<span class="hint" id="{{ f.id }}-hint">{{ hint }}</span>{% endif %}
  {% set described = (f.id ~ "-errors") if f.errors else (f.id ~ "-hint" if hint else False) %}
  {{ f(aria_invalid="true" if f.errors else False, aria_describedby=described) }}
  {% if f.errors %}
  <ul class="errors" id="{{ f.id }}-errors">{% for e in f.errors %}<li>{{ e }}</li>{% endfor %}</ul>
  {% endif %}
</div>
{%- endmacro %}

{% macro error_summary(form) -%}
{# Every field's problem, linked to the field; ddsite.js moves focus to the first invalid field. #}
{% set wrong = form|selectattr("errors")|rejectattr("name", "in", ["form_key", "csrf_token"])|list %}
{% if wrong %}
<div class="error-summary" role="alert" aria-labelledby="{{ form._prefix }}{{ wrong[0].id }}-summary">
  <h2 class="error-summary-title" id="{{ form._prefix }}{{ wrong[0].id }}-summary">Please check {{ "this field" if wrong|length == 1 else "these fields" }}</h2>
  <ul>
    {% for f in wrong %}<li><a href="#{{ f.id }}">{{ f.label.text }}: {{ f.errors[0] }}</a></li>{% endfor %}
  </ul>
</div>
{% endif %}
{%- endmacro %}

{% macro form_errors(form) -%}
{{ error_summary(form) }}
{% if form.form_errors %}
<div class="notice notice-error" role="alert">{% for e in form.form_errors %}<p>{{ e }}</p>{% endfor %}</div>
{% endif %}
{% if form.form_key.errors %}
<div class="notice notice-error" role="alert">{% for e in form.form_key.errors %}<p>{{ e }}</p>{% endfor %}</div>
{% endif %}
{%- endmacro %}

{% macro once_fields(form, name="") -%}
{{ form.csrf_token(id=False) }}{{ form.form_key(id=False) }}
{% if name %}<input type="hidden" name="form_name" value="{{ name }}">{% endif %}
{%- endmacro %}

{% macro repeat_confirmation(form) -%}
{% if form.repeat_of %}
<div class="notice notice-warning" role="alert">
  <p>You sent this same text here {{ form.repeat_of }}. Send it again?</p>
  <button type="submit" name="confirm_repeat" value="1">Yes, send it again</button>
</div>
{% endif %}
{%- endmacro %}

{% macro draft_actions(form) -%}
{% if form.restored_draft %}
<button type="submit" name="discard" value="1" class="secondary" formnovalidate>Discard draft</button>
{% endif %}
{%- endmacro %}
"""
HOSTILE = '"><script>alert(1)</script>&\'x'
PIECES = ["field", "form_errors", "once_fields", "repeat_confirmation", "draft_actions"]


def _forms(state: str) -> list:
    """ddsite's send-once forms, clean or with every kind of problem shown."""
    posted = MultiDict([("note", ""), ("status", ""), ("summary", HOSTILE)]) if state != "clean" else None
    forms = [NoteForm(formdata=posted).with_statuses([Ref(1, "New")]),
             UpdateForm(formdata=posted, prefix="upd" if state == "prefixed" else "").with_choices(
                 [Ref(1, "New")], [Ref(2, HOSTILE)], [Ref(201, "Sam")]),
             ReplyForm(formdata=posted),
             NewRequestForm(formdata=posted).with_choices([Ref(3, "Hardware")], [Ref(1, "Low")])]
    for form in forms:
        if state != "clean":
            form.validate()
            form.form_errors.append(f"DeskDirector said: {HOSTILE}")
            form.form_key.errors = ["The form was incomplete; reload the page."]
            form.repeat_of = f"3 minutes ago {HOSTILE}"
            form.restored_draft = True
        form.form_key.data = "key-" + HOSTILE
    return forms


@pytest.mark.parametrize("state", ["clean", "with problems", "prefixed"])
def test_the_form_pieces_write_what_the_jinja_macros_wrote(app, state):
    env = app.jinja_env
    with app.test_request_context("/", method="POST"):
        stock = env.from_string(STOCK_MACROS).make_module()
        imported = env.get_template("_macros.html").make_module()  # what pages may still import
        filters = {name: env.filters["form_field" if name == "field" else name] for name in PIECES}
        checked, written = 0, []
        for form in _forms(state):
            for name in ("form_errors", "repeat_confirmation", "draft_actions"):
                expected = str(getattr(stock, name)(form))
                written.append(expected)
                assert str(filters[name](form)) == expected == str(getattr(imported, name)(form))
            for form_name in ("", "note", HOSTILE):
                expected = str(stock.once_fields(form, form_name))
                assert str(filters["once_fields"](form, form_name)) == expected
                assert str(imported.once_fields(form, form_name)) == expected
            for field in form:
                for hint in (None, "", "Say what happened.", Markup("<b>bold</b>"), HOSTILE):
                    expected = str(stock.field(field, hint=hint))
                    written.append(expected)
                    assert str(filters["field"](field, hint)) == expected, field.name
                    assert str(imported.field(field, hint=hint)) == expected
                    checked += 1
        assert checked > 50
        shown = "".join(written)
        for part in ("Please check", '<ul class="errors"', "notice-error", "Discard draft",
                     "Send it again?"):
            assert (part in shown) == (state != "clean"), part
