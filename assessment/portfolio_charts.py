"""Altair charts of the consultant's views: a client over time, clients side by side, and the
clients x dimensions heatmap (no Streamlit here)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from .history import Comparison
from .model import Questionnaire
from .scoring import OVERALL


def _scale(questionnaire: Questionnaire) -> alt.Scale:
    return alt.Scale(domain=[questionnaire.scale.min, questionnaire.scale.max])


DATE = "%d %b %Y"


def over_time(table: pd.DataFrame, questionnaire: Questionnaire) -> alt.Chart:
    """The shown score of each dimension by the date each workshop was held."""
    data = table[table["dimension"] != OVERALL].assign(
        held=lambda f: pd.to_datetime(f["held_on"]), score=lambda f: f["score"].round(2),
        change=lambda f: f["change"].astype(float).round(2))
    return alt.Chart(data).mark_line(point=True).encode(
        # dates as dates ("30 Nov 2026"), not Vega's default "Mon 30" for a single workshop
        x=alt.X("held:T", title="Workshop held", axis=alt.Axis(format=DATE)),
        y=alt.Y("score:Q", scale=_scale(questionnaire), title="Score"),
        color=alt.Color("name:N", title="Dimension"),
        tooltip=["name", alt.Tooltip("held:T", title="held", format=DATE), "score", "change",
                 "arrow", "within_noise"],
    ).properties(height=320)


def side_by_side(comparison: Comparison, questionnaire: Questionnaire) -> alt.Chart:
    """Each client's scores over the dimensions, one line per client, overlaid."""
    data = comparison.heatmap().assign(score=lambda f: f["score"].round(2))
    data = data[data["dimension_id"] != OVERALL]
    order = [comparison.names[d] for d in comparison.dimensions if d != OVERALL]
    return alt.Chart(data).mark_line(point=True).encode(
        x=alt.X("dimension:N", sort=order, title=None, axis=alt.Axis(
            labelAngle=-30, labelLimit=200, labelOverlap=False)),
        y=alt.Y("score:Q", scale=_scale(questionnaire), title="Score"),
        color=alt.Color("client:N", title="Client"),
        tooltip=["client", "dimension", "score"],
    ).properties(height=340)


def heatmap(comparison: Comparison, questionnaire: Questionnaire) -> alt.LayerChart:
    """Clients x dimensions, coloured by score, the score written in each cell."""
    data = comparison.heatmap().assign(score=lambda f: f["score"].round(2))
    order = [comparison.names[d] for d in comparison.dimensions]
    base = alt.Chart(data).encode(
        x=alt.X("dimension:N", sort=order, title=None, axis=alt.Axis(
            labelAngle=-30, labelLimit=200, labelOverlap=False)),
        y=alt.Y("client:N", sort=list(comparison.table["client"]), title=None))
    cells = base.mark_rect().encode(
        color=alt.Color("score:Q", scale=alt.Scale(
            domain=[questionnaire.scale.min, questionnaire.scale.max], scheme="redyellowgreen"),
            title="Score"),
        tooltip=["client", "dimension", "score"])
    text = base.mark_text(fontSize=12).encode(text=alt.Text("score:Q", format=".2f"))
    # A step per client row: a fixed height squeezes the bands when Streamlit stretches it.
    return (cells + text).properties(height=alt.Step(40))
