"""The pieces every page's forms repeat, written in Python: a field with its label, hint and
errors; the error summary and form-wide errors; the send-once hidden fields; the repeat
question; the "Discard draft" button.

They were Jinja macros (`_macros.html` keeps macros of the same names, calling these). On a
ticket page a dozen macro calls, each with its own context, filters and escapes, cost more than
the markup they wrote; these write the same markup, byte for byte (tests hold them equal to
the macros they replace).
"""

from __future__ import annotations

from markupsafe import Markup, escape

_NOT_SUMMARISED = ("form_key", "csrf_token")  # their problems are told in their own notices


def form_field(field, hint: str | None = None) -> Markup:
    """A field in its <div class="field">: label, hint, the field (tied to its errors or hint
    for assistive technology), then its errors."""
    errors = field.errors
    field_id = field.id
    described = f"{field_id}-errors" if errors else f"{field_id}-hint" if hint else False
    html = field(aria_invalid="true" if errors else False, aria_describedby=described)
    hint_html = (f'<span class="hint" id="{escape(field_id)}-hint">{escape(hint)}</span>'
                 if hint else "")
    error_html = (f'\n  <ul class="errors" id="{escape(field_id)}-errors">'
                  f"{_items(errors)}</ul>\n  " if errors else "")
    return Markup(f'<div class="field">\n  {escape(field.label)}\n  {hint_html}\n  \n  '
                  f"{escape(html)}\n  {error_html}\n</div>")


def form_errors(form) -> Markup:
    """What is wrong with a form: a summary linking each field with a problem, then the
    form's own errors and its key's."""
    wrong = [f for f in form if f.errors and f.name not in _NOT_SUMMARISED]
    html = ["\n\n"]
    if wrong:
        summary_id = f"{escape(form._prefix)}{escape(wrong[0].id)}-summary"
        links = "".join(f'<li><a href="#{escape(f.id)}">{escape(f.label.text)}: '
                        f"{escape(f.errors[0])}</a></li>" for f in wrong)
        html.append(f'\n<div class="error-summary" role="alert" aria-labelledby="{summary_id}">\n'
                    f'  <h2 class="error-summary-title" id="{summary_id}">Please check '
                    f'{"this field" if len(wrong) == 1 else "these fields"}</h2>\n'
                    f"  <ul>\n    {links}\n  </ul>\n</div>\n")
    html.append("\n")
    if form.form_errors:
        html.append(_notice(form.form_errors))
    html.append("\n")
    key = getattr(form, "form_key", None)
    if key is not None and key.errors:
        html.append(_notice(key.errors))
    return Markup("".join(html))


def once_fields(form, name: str = "") -> Markup:
    """A send-once form's hidden fields: CSRF token, one-time key, and which form it is."""
    html = f"{escape(form.csrf_token(id=False))}{escape(form.form_key(id=False))}\n"
    if name:
        html += f'<input type="hidden" name="form_name" value="{escape(name)}">'
    return Markup(html)


def repeat_confirmation(form) -> Markup:
    """The question asked before sending the same text again (when the form has one)."""
    if not form.repeat_of:
        return Markup("")
    return Markup(f'\n<div class="notice notice-warning" role="alert">\n'
                  f"  <p>You sent this same text here {escape(form.repeat_of)}. Send it again?</p>\n"
                  f'  <button type="submit" name="confirm_repeat" value="1">Yes, send it again'
                  f"</button>\n</div>\n")


def draft_actions(form) -> Markup:
    """"Discard draft", when the form was refilled from a kept draft."""
    if not form.restored_draft:
        return Markup("")
    return Markup('\n<button type="submit" name="discard" value="1" class="secondary" '
                  "formnovalidate>Discard draft</button>\n")


def _items(errors) -> str:
    return "".join(f"<li>{escape(error)}</li>" for error in errors)


def _notice(errors) -> str:
    paragraphs = "".join(f"<p>{escape(error)}</p>" for error in errors)
    return f'\n<div class="notice notice-error" role="alert">{paragraphs}</div>\n'


FILTERS = {"form_field": form_field, "form_errors": form_errors, "once_fields": once_fields,
           "repeat_confirmation": repeat_confirmation, "draft_actions": draft_actions}
