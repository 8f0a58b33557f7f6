"""Insights pages for agents (every ticket, by company) and contacts (their company's tickets)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from flask import Response, render_template, request
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from .. import auth
from ..forms import Form
from ..pages import PageBlueprint, PageError
from . import charts, figures, source

tech_bp = PageBlueprint("tech_insights", __name__, audience="tech", url_prefix="/tech/insights",
                        nav=[("Insights", "insights")])
portal_bp = PageBlueprint("portal_insights", __name__, audience="portal",
                          url_prefix="/portal/insights", nav=[("Insights", "insights")],
                          visible=lambda user: user.sees_company_tickets)

ALL_COMPANIES = ""


class CompanyTicketsNotAllowed(PageError):
    """A contact who may see only their own tickets asked for the company's figures."""

    status_code = 403
    heading = "Insights are for company managers"


class InsightsFilterForm(Form):
    """The period, and for agents the company (GET, no CSRF: reads only)."""

    class Meta:
        csrf = False

    period = SelectField("Period", coerce=int, default=figures.DEFAULT_PERIOD,
                         choices=[SelectChoice(weeks, f"Last {weeks} weeks")
                                  for weeks in figures.PERIODS],
                         validators=[Optional()])
    company = SelectField("Company", default=ALL_COMPANIES, validators=[Optional()])

    def chosen(self) -> tuple[int, str]:
        """(period in weeks, company id or ALL_COMPANIES); the defaults when anything is invalid."""
        if not self.validate():
            return figures.DEFAULT_PERIOD, ALL_COMPANIES
        return self.period.data or figures.DEFAULT_PERIOD, self.company.data or ALL_COMPANIES


@tech_bp.get("/")
def insights():
    """Charts of every ticket an agent may see, for one company or all."""
    return _page("tech", "tech_insights")


@tech_bp.get("/insights.csv")
def insights_csv():
    """The numbers of the agent's charts, as CSV."""
    return _csv("tech")


@portal_bp.get("/", endpoint="insights")
def company_insights():
    """Charts of the contact's company's tickets (for contacts allowed to see them)."""
    _require_company_permission()
    return _page("portal", "portal_insights")


@portal_bp.get("/insights.csv", endpoint="insights_csv")
def company_insights_csv():
    """The numbers of the contact's company charts, as CSV."""
    _require_company_permission()
    return _csv("portal")


def _page(audience: str, blueprint: str):
    view = _compute(audience)
    geometry = {chart.key: (charts.column_geometry(chart) if len(chart.series) > 1
                            else charts.bar_geometry(chart)) for chart in view["insights"].charts}
    return render_template("insights/insights.html", geometry=geometry, blueprint=blueprint,
                           audience=audience, **view)


def _csv(audience: str) -> Response:
    view = _compute(audience)
    stamp = view["now"].strftime("%Y-%m-%d")
    return Response(as_csv(view["insights"]), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="insights-{stamp}.csv"'})


def _compute(audience: str) -> dict:
    filters = InsightsFilterForm(request.args)
    ticket_set, priorities = source.read(auth.api(), audience)
    companies = companies_of(ticket_set.tickets)
    filters.company.choices = [SelectChoice(ALL_COMPANIES, "All companies"),
                               *(SelectChoice(key, name) for key, name in companies)]
    period, company = filters.chosen()
    tickets = [t for t in ticket_set.tickets
               if company == ALL_COMPANIES or (t.account and str(t.account.id) == company)]
    now = current_time()
    return {"insights": figures.compute(tickets, now=now, period_weeks=period,
                                        priority_order=priorities),
            "ticket_set": ticket_set, "filters": filters, "now": now, "period": period,
            "company": company, "company_name": dict(companies).get(company),
            "user": auth.current_user(), "duration_text": figures.duration_text}


def current_time() -> datetime:
    """Now, in UTC (one place, so tests can fix the week boundaries)."""
    return datetime.now(UTC)


def companies_of(tickets) -> list[tuple[str, str]]:
    """(id, name) of every company among the tickets, by name."""
    seen = {str(t.account.id): t.account.name for t in tickets if t.account and t.account.id is not None}
    return sorted(seen.items(), key=lambda item: (item[1].lower(), item[0]))


def _require_company_permission() -> None:
    if not auth.current_user().sees_company_tickets:
        raise CompanyTicketsNotAllowed(
            "Insights show the figures of your company's tickets, and your DeskDirector account "
            "may see only the tickets you raised yourself. If you need these figures, ask your "
            "administrator to let you see your company's tickets.")


# Spreadsheets run a cell that starts with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def as_csv(insights: figures.Insights) -> str:
    """Every number of the page: one row per chart, category and series, then the summary."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["chart", "category", "series", "value"])
    for chart in insights.charts:
        for label, values in chart.rows:
            for series, value in zip(chart.series, values, strict=True):
                writer.writerow([chart.title, _cell(label), series.name, value])
    median = insights.median_time_to_close
    writer.writerow(["Summary", "Tickets counted", "", insights.counted])
    writer.writerow(["Summary", f"Closed in the last {insights.period_weeks} weeks", "",
                     insights.closed_in_period])
    writer.writerow(["Summary", "Median time to close (hours)", "",
                     "" if median is None else round(median.total_seconds() / 3600, 1)])
    return out.getvalue()


def _cell(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text
