"""Altair chart builders for results (no Streamlit here: pages render what these return)."""

from __future__ import annotations

import hashlib

import altair as alt
import pandas as pd

from .model import Questionnaire

PALETTE = ["#c0392b", "#e67e22", "#f1c40f", "#27ae60", "#1f4e79"]


def dimension_scores(scores: pd.DataFrame, questionnaire: Questionnaire) -> alt.LayerChart:
    """Horizontal bars of team score per dimension, with the level thresholds as rules."""
    names = {d.id: d.name for d in questionnaire.dimensions}
    data = scores[scores["dimension"] != "overall"].assign(
        name=lambda f: f["dimension"].map(names), score=lambda f: f["score"].round(2))
    scale = alt.Scale(domain=[questionnaire.scale.min, questionnaire.scale.max])
    bars = alt.Chart(data).mark_bar(color="#1f4e79", cornerRadiusEnd=3, clip=True).encode(
        x=alt.X("score:Q", scale=scale, title="Team score"),
        x2=alt.datum(questionnaire.scale.min),
        y=alt.Y("name:N", sort=list(names.values()), title=None,
                axis=alt.Axis(labelLimit=260)),
        tooltip=["name", "score", "level", "respondents", "agreement"],
    )
    levels = pd.DataFrame({"threshold": [lv.threshold for lv in questionnaire.levels[1:]],
                           "level": [lv.name for lv in questionnaire.levels[1:]]})
    rules = alt.Chart(levels).mark_rule(strokeDash=[4, 4], color="#888").encode(
        x="threshold:Q", tooltip=["level", "threshold"])
    labels = alt.Chart(levels).mark_text(align="left", dx=3, dy=-6, color="#555", fontSize=10,
                                         baseline="bottom").encode(
        x="threshold:Q", y=alt.value(0), text="level:N")
    return (bars + rules + labels).properties(height=max(160, 42 * len(data)))


def respondent_heatmap(people: pd.DataFrame, questionnaire: Questionnaire,
                       show_names: bool) -> alt.LayerChart:
    """Respondents x dimensions, coloured by score; names replaced by numbers unless shown."""
    names = {d.id: d.name for d in questionnaire.dimensions}
    # Only respondents who count in a dimension show a score there, as in the table.
    data = people.assign(score=people["score"].where(people["counts"]))
    # Numbered in an order that follows neither joining nor names, so that "P6" cannot be
    # matched with the sixth row of the progress board.
    order = sorted(dict.fromkeys(data["respondent"]),
                   key=lambda r: hashlib.sha256(f"heatmap:{r}".encode()).hexdigest())
    anonymous = {r: f"P{i + 1}" for i, r in enumerate(order)}
    if show_names and "name" in data:
        data["who"] = data["name"].fillna(data["respondent"].map(anonymous))
    else:
        data["who"] = data["respondent"].map(anonymous)
    data["dimension_name"] = data["dimension"].map(names)
    data["score"] = data["score"].round(2)
    who_order = [anonymous[r] if not (show_names and "name" in data) else
                 data.loc[data["respondent"] == r, "who"].iloc[0] for r in order]
    base = alt.Chart(data).encode(
        x=alt.X("who:N", sort=who_order, title=None,
                axis=alt.Axis(labelAngle=0, orient="top", labelLimit=120)),
        y=alt.Y("dimension_name:N", sort=list(names.values()), title=None,
                axis=alt.Axis(labelLimit=260)),
    )
    cells = base.mark_rect().encode(
        color=alt.Color("score:Q", scale=alt.Scale(domain=[questionnaire.scale.min,
                                                           questionnaire.scale.max],
                                                   range=PALETTE), title="Score",
                        legend=alt.Legend(gradientLength=100, padding=8)),
        tooltip=["who", "dimension_name", "score", "answered"],
    )
    text = base.transform_filter("isValid(datum.score)").mark_text(fontSize=11).encode(
        text=alt.Text("score:Q", format=".1f"))
    return (cells + text).properties(height=max(120, 44 * len(names)))


def allocation_bars(allocations: pd.DataFrame, even_share: float | None = None) -> alt.Chart:
    """Mean points per option, with the even share marked."""
    data = allocations.assign(mean_points=lambda f: f["mean_points"].round(1))
    bars = alt.Chart(data).mark_bar(color="#1f4e79").encode(
        x=alt.X("mean_points:Q", title="Mean points"),
        y=alt.Y("label:N", sort="-x", title=None, axis=alt.Axis(labelLimit=300)),
        tooltip=["label", "mean_points", "respondents"],
    )
    if even_share is None:
        return bars
    rule = alt.Chart(pd.DataFrame({"even": [even_share]})).mark_rule(
        strokeDash=[4, 4], color="#c0392b").encode(x="even:Q")
    return bars + rule


def benchmark_bands(compared: pd.DataFrame, benchmark, questionnaire: Questionnaire
                    ) -> alt.LayerChart:
    """Per dimension: the benchmark's 25th-75th percentile band, its median, and our score."""
    names = {d.id: d.name for d in questionnaire.dimensions} | {"overall": "Overall"}
    rows = []
    for dim, score in zip(compared["dimension"], compared["score"], strict=True):
        stats = benchmark.stats(dim)
        if stats is None:
            continue
        rows.append({"name": names.get(dim, dim), "score": round(float(score), 2),
                     "p10": stats.p10, "p25": stats.p25, "median": stats.p50, "p75": stats.p75,
                     "p90": stats.p90})
    data = pd.DataFrame(rows)
    scale = alt.Scale(domain=[questionnaire.scale.min, questionnaire.scale.max])
    y = alt.Y("name:N", sort=list(data["name"]) if len(data) else None, title=None,
              axis=alt.Axis(labelLimit=260))
    base = alt.Chart(data).encode(y=y)
    whisker = base.mark_rule(color="#9aa7b4").encode(
        x=alt.X("p10:Q", scale=scale, title="Score (band: benchmark 25th-75th percentile)"),
        x2="p90:Q")
    band = base.mark_bar(color="#c9d6e3", height=16).encode(x="p25:Q", x2="p75:Q",
                                                             tooltip=["name", "p25", "median",
                                                                      "p75"])
    median = base.mark_tick(color="#1f4e79", thickness=2, size=20).encode(x="median:Q")
    ours = base.mark_point(filled=True, size=110, color="#c0392b").encode(
        x="score:Q", tooltip=["name", "score", "median", "p75"])
    return (whisker + band + median + ours).properties(height=max(120, 40 * len(data)))


def stage_distribution(stages) -> alt.Chart:
    """A published stage distribution (context only), stages in their own order."""
    data = pd.DataFrame([{"stage": s.name, "percent": s.percent,
                          "label": "not reported" if s.percent is None else f"{s.percent:g}%"}
                         for s in stages])
    bars = alt.Chart(data).mark_bar(color="#7f8c8d").encode(
        x=alt.X("stage:N", sort=list(data["stage"]), title=None, axis=alt.Axis(labelAngle=0)),
        y=alt.Y("percent:Q", title="% of sample", scale=alt.Scale(domain=[0, 100])),
        tooltip=["stage", "label"])
    text = alt.Chart(data).mark_text(dy=-8).encode(
        x=alt.X("stage:N", sort=list(data["stage"])),
        y=alt.Y("percent:Q", impute=alt.ImputeParams(value=0)), text="label:N")
    return (bars + text).properties(height=180)


def impact_effort(plan: pd.DataFrame) -> alt.LayerChart:
    """Each action by effort and impact, the quick-win corner shaded."""
    data = plan[["priority", "action", "dimension", "effort", "impact", "phase"]].copy()
    effort = data["effort"].map({"S": 1, "M": 2, "L": 3}).astype(float)
    # A small fixed spread, so that actions with equal effort and impact stay visible.
    data["x"] = effort + ((data["priority"] % 7) - 3) * 0.06
    data["y"] = data["impact"] + (((data["priority"] * 3) % 7) - 3) * 0.05
    corner = pd.DataFrame({"x": [0.5], "x2": [1.5], "y": [3.5], "y2": [5.5],
                           "t": ["Quick wins"]})
    shade = alt.Chart(corner).mark_rect(color="#d4edda", opacity=0.7).encode(
        x="x:Q", x2="x2:Q", y="y:Q", y2="y2:Q")
    label = alt.Chart(corner).mark_text(align="left", dx=6, dy=10, color="#2e7d32",
                                        fontWeight="bold").encode(x="x:Q", y="y2:Q", text="t:N")
    axis_x = alt.Axis(values=[1, 2, 3], labelExpr="['', 'S', 'M', 'L'][datum.value]")
    dots = alt.Chart(data).mark_circle(size=90, opacity=0.8).encode(
        x=alt.X("x:Q", scale=alt.Scale(domain=[0.5, 3.5]), title="Effort", axis=axis_x),
        y=alt.Y("y:Q", scale=alt.Scale(domain=[0.5, 5.5]), title="Impact",
                axis=alt.Axis(values=[1, 2, 3, 4, 5])),
        color=alt.Color("dimension:N", title="Dimension"),
        tooltip=["priority", "action", "dimension", "effort", "impact", "phase"])
    return (shade + label + dots).properties(height=320)


def report_scores(scores: pd.DataFrame, questionnaire: Questionnaire) -> alt.LayerChart:
    """For the printed report: each dimension's score (the one the plan uses) as a bar over the
    maturity levels shaded as bands, the computed score marked where the team agreed another,
    and the benchmark median where one was chosen. `scores` is a report's scores frame (name,
    score, computed_score, and benchmark_median when a benchmark was chosen)."""
    low, high = questionnaire.scale.min, questionnaire.scale.max
    data = scores[scores["dimension"] != "overall"].reset_index(drop=True)
    data = pd.DataFrame({
        "name": data["name"].astype(str),
        "score": data["score"].astype(float).round(2),
        "computed": data["computed_score"].astype(float).round(2),
        "median": (data["benchmark_median"] if "benchmark_median" in data
                   else pd.Series(float("nan"), index=data.index)).astype(float),
    })
    agreed = (data["computed"] - data["score"]).abs() >= 0.005
    data["label"] = [("" if v != v else f"{v:g} agreed" if a else f"{v:.2f}")
                     for v, a in zip(data["score"], agreed, strict=True)]
    data["inside"] = (data["score"] - low) >= 0.9  # room for the value inside the bar
    data["computed_label"] = [f"computed {v:.2f}" if a else ""
                              for v, a in zip(data["computed"], agreed, strict=True)]
    data["label_at"] = data[["score", "computed"]].max(axis=1)
    scale = alt.Scale(domain=[low, high], nice=False)
    y = alt.Y("name:N", title=None, sort=list(dict.fromkeys(data["name"])),
              axis=alt.Axis(labelLimit=230, labelFontSize=11))
    edges = [lv.threshold for lv in questionnaire.levels] + [high]
    bands = pd.DataFrame({"start": edges[:-1], "end": edges[1:],
                          "level": [lv.name for lv in questionnaire.levels],
                          "shade": [i % 2 for i in range(len(questionnaire.levels))]})
    band = alt.Chart(bands).mark_rect(opacity=0.55).encode(
        x=alt.X("start:Q", scale=scale, title="Score (bands: maturity levels)",
                axis=alt.Axis(values=list(range(low, high + 1)), format="d", grid=False)),
        x2="end:Q",
        color=alt.Color("shade:N", scale=alt.Scale(domain=[0, 1], range=["#eef2f6", "#dde5ee"]),
                        legend=None))
    # Level names over their bands, on two staggered lines so that narrow bands stay legible.
    names = [alt.Chart(bands).transform_filter(f"datum.shade == {shade}").transform_calculate(
        middle="(datum.start + datum.end) / 2").mark_text(
        baseline="bottom", dy=-4 - 13 * shade, fontSize=10, color="#44546a").encode(
        x=alt.X("middle:Q", scale=scale), y=alt.value(0), text="level:N") for shade in (0, 1)]
    base = alt.Chart(data).encode(y=y)
    bars = base.mark_bar(color="#1f4e79", height=14, clip=True).encode(
        x=alt.X("score:Q", scale=scale), x2=alt.datum(low))
    # The value inside the end of the bar (after it, for a short bar); the computed score,
    # where the team agreed another, as a red diamond with its value beyond both.
    inside = base.transform_filter("datum.inside").mark_text(
        align="right", dx=-5, fontSize=10, color="white").encode(x="score:Q", text="label:N")
    outside = base.transform_filter("!datum.inside").mark_text(
        align="left", dx=4, fontSize=10, color="#1f2d3d").encode(x="score:Q", text="label:N")
    computed = base.transform_filter("abs(datum.computed - datum.score) >= 0.005").mark_point(
        shape="diamond", filled=True, size=70, color="#c0392b").encode(x="computed:Q")
    computed_label = base.mark_text(align="left", dx=8, fontSize=9, color="#c0392b").encode(
        x="label_at:Q", text="computed_label:N")
    median = base.transform_filter("isValid(datum.median)").mark_tick(
        color="#e67e22", thickness=3, size=20).encode(x="median:Q")
    return alt.layer(band, *names, bars, inside, outside, computed, computed_label,
                     median).properties(
        width=430, height=max(120, 24 * len(data)))
