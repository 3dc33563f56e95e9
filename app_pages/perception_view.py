"""The results page's perception gap: what each group sees, against leadership (chart and table)."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from assessment.model import Questionnaire
from assessment.perception import (
    GROUP_NAMES,
    LEADERSHIP,
    MIN_GROUP,
    TEST_SENTENCE,
    threshold_sentence,
)


def gap_chart(table: pd.DataFrame, questionnaire: Questionnaire) -> alt.LayerChart:
    """Each group's gap to leadership per dimension, with its 95% interval; 0 = the same view."""
    data = table[table["group"] != LEADERSHIP].assign(
        verdict=lambda f: f["beyond_chance"].map({True: "larger than chance",
                                                  False: "within chance"}).fillna("not tested"))
    order = [d.name for d in questionnaire.dimensions]
    groups = [GROUP_NAMES[g] for g in GROUP_NAMES if g in set(data["group"])]
    y = alt.Y("name:N", title=None, sort=order, axis=alt.Axis(labelLimit=260))
    colour = alt.Color("group_name:N", title="Group", sort=groups)
    base = alt.Chart(data).encode(y=y, yOffset=alt.YOffset("group_name:N", sort=groups),
                                  color=colour)
    interval = base.mark_rule(strokeWidth=2).encode(
        x=alt.X("low:Q", title=f"Gap to {GROUP_NAMES[LEADERSHIP].lower()} (score points, "
                               f"with the 95% interval)"), x2="high:Q")
    tooltip = [alt.Tooltip("name:N", title="Dimension"), alt.Tooltip("group_name:N", title="Group"),
               alt.Tooltip("n:Q", title="People"), alt.Tooltip("score:Q", format=".2f"),
               alt.Tooltip("gap:Q", format="+.2f"), alt.Tooltip("low:Q", format="+.2f"),
               alt.Tooltip("high:Q", format="+.2f"), alt.Tooltip("verdict:N", title="Gap")]
    shapes = {"larger than chance": "circle", "within chance": "triangle-up",
              "not tested": "diamond"}
    present = [v for v in shapes if v in set(data["verdict"])]
    points = base.mark_point(filled=True, size=90).encode(
        x="gap:Q", shape=alt.Shape("verdict:N", title="Gap", scale=alt.Scale(
            domain=present, range=[shapes[v] for v in present])), tooltip=tooltip)
    zero = alt.Chart(pd.DataFrame({"zero": [0.0]})).mark_rule(
        strokeDash=[4, 4], color="gray").encode(x="zero:Q")
    rows = data["name"].nunique()
    return alt.layer(zero, interval, points).properties(height=max(220, 60 * rows))


def perception_section(outcome, questionnaire: Questionnaire) -> None:
    """The perception gap of a workshop's results (assessment.workshop.Results)."""
    st.subheader("What each group sees: the perception gap")
    st.caption(f"Each group's score per dimension beside the executives'. {TEST_SENTENCE} "
               f"{threshold_sentence()}")
    gap = outcome.perception  # computed with the results, once per change of the answers
    table = gap.table
    if table.empty:
        present = ", ".join(f"{GROUP_NAMES[g].lower()} {n}" for g, n in gap.groups.items() if n)
        st.info(f"No group can be compared with the executives yet: that needs at least "
                f"{MIN_GROUP} executives and {MIN_GROUP} people in another group"
                + (f" (this workshop: {present})." if present else "."))
        return
    st.altair_chart(gap_chart(table, questionnaire))
    st.dataframe(
        table.assign(larger=table["beyond_chance"].map({True: "yes", False: "no"}))[
            ["name", "group_name", "n", "score", "gap", "low", "high", "larger"]],
        hide_index=True, placeholder="—", column_config={
            "name": "Dimension", "group_name": "Group",
            "n": st.column_config.NumberColumn("People", help="Members who count in the "
                                                              "dimension"),
            "score": st.column_config.NumberColumn("Score", format="%.2f"),
            "gap": st.column_config.NumberColumn("Gap to executives", format="%+.2f"),
            "low": st.column_config.NumberColumn("95% interval from", format="%+.2f"),
            "high": st.column_config.NumberColumn("to", format="%+.2f"),
            "larger": st.column_config.TextColumn(
                "Larger than chance", help="Welch's t test: the 95% interval leaves out 0")})
    if gap.held_back:
        st.caption(f"Not shown on their own in some or all dimensions: "
                   f"{', '.join(gap.held_back)} (fewer than {MIN_GROUP} people, or a score "
                   f"that could be worked out from the others).")
