"""Results: team scores and levels, where the team disagrees, agreed scores and trade-offs."""

from __future__ import annotations

import streamlit as st

from app_pages.common import (
    benchmarks,
    facilitator_page,
    offered,
    open_store,
    plain,
    questionnaires,
    sentence,
    workshop_results,
)
from app_pages.perception_view import perception_section
from app_pages.report_download import pdf_download
from assessment import charts
from assessment.benchmarks import SYNTHETIC_LABEL, compare
from assessment.responses import ResponsesError
from assessment.store import StoreError
from assessment.workshop import MIN_RESPONDENTS, level_of

store = open_store()
shipped = questionnaires()

workshop = facilitator_page(store, "Results", "Results are")
available = [i for i in workshop.questionnaire_ids if i in shipped]
if not available:
    st.warning("This workshop has no questionnaires that this installation knows.")
    st.stop()
qid = offered(st.radio("Questionnaire", available, horizontal=True, key="results_questionnaire",
                       format_func=lambda i: shipped[i].title), available, available[0])
q = shipped[qid]
people = store.participants(workshop.id)
names = {p.id: p.name for p in people}
try:
    outcome = workshop_results(store, workshop.id, qid, names)
except ResponsesError as e:
    st.error(f"Some stored answers no longer fit this questionnaire: {plain(e)}")
    st.stop()
for note in outcome.left_out:
    st.caption(f"Not yet scored: {plain(note)}.")

dim_names = {d.id: d.name for d in q.dimensions}


def benchmark_section(scores) -> None:
    """Compare with a benchmark for this questionnaire version; context from other models."""
    st.subheader("How we compare")
    every = benchmarks()
    fitting = [b for b in every.values() if b.kind == "scores" and b.questionnaire == q.id
               and b.questionnaire_version == q.version]
    chosen = st.selectbox("Benchmark", [None, *[b.id for b in fitting]], key="benchmark_choice",
                          format_func=lambda i: "No benchmark" if i is None else
                          every[i].provenance.title + (" (synthetic: illustration only)"
                                                       if every[i].provenance.synthetic else ""),
                          help="Only benchmarks made for this questionnaire and version are "
                               "offered: anything else would compare different things.")
    chosen = offered(chosen, [b.id for b in fitting])
    if not fitting:
        st.caption("No benchmark exists yet for this questionnaire and version.")
    if chosen:
        benchmark = every[chosen]
        if benchmark.provenance.synthetic:
            st.warning(f"{SYNTHETIC_LABEL.capitalize()}: these benchmark figures are invented "
                       f"to show the feature. Do not draw conclusions from them.")
        compared = compare(scores, benchmark, q).assign(
            name=lambda f: f["dimension"].map(dim_names).fillna("Overall"))
        st.dataframe(compared[["name", "score", "benchmark_percentile", "benchmark_band",
                               "benchmark_median", "gap_to_median", "benchmark_p75",
                               "gap_to_p75"]], hide_index=True, placeholder="—",
                     column_config={
                         "name": "Dimension",
                         "score": st.column_config.NumberColumn("Our score", format="%.2f"),
                         "benchmark_percentile": st.column_config.NumberColumn(
                             "Percentile", format="%.0f",
                             help="Share of benchmark organisations scoring lower"),
                         "benchmark_band": "Band",
                         "benchmark_median": st.column_config.NumberColumn("Median",
                                                                           format="%.1f"),
                         "gap_to_median": st.column_config.NumberColumn("Gap to median",
                                                                        format="%+.2f"),
                         "benchmark_p75": st.column_config.NumberColumn("Top quartile from",
                                                                        format="%.1f"),
                         "gap_to_p75": st.column_config.NumberColumn("Gap to top quartile",
                                                                     format="%+.2f")})
        st.caption(f"Benchmark: {benchmark.provenance.line()}")
        st.altair_chart(charts.benchmark_bands(compared, benchmark, q))
        st.caption(f"Benchmark: {benchmark.provenance.line()}")
    stages = [b for b in every.values() if b.kind == "stages"]
    if stages:
        with st.expander("Context: how other maturity models spread firms over their stages"):
            st.caption("Published figures from other instruments. Their stages are not our "
                       "levels, so they are never converted into or compared with our scores.")
            for b in stages:
                st.markdown(f"**{b.model}**")
                st.altair_chart(charts.stage_distribution(b.stages))
                st.caption(b.provenance.line())


overall_rows = outcome.scores[outcome.scores["dimension"] == "overall"]
if overall_rows.empty:  # nobody has answered this questionnaire yet: nothing to score
    st.info(f"Nobody has answered {plain(q.title)} yet. Scores appear here as answers come in; "
            "the Facilitator page shows who has joined and how far each person is.")
    st.stop()
overall = overall_rows.iloc[0]
m1, m2, m3 = st.columns(3)
m1.metric("Participants who answered", outcome.participants)
m2.metric("Overall score", "—" if overall["score"] != overall["score"] else
          f"{overall['score']:.2f} / {q.scale.max}")
m3.metric("Overall level", overall["level"] or "—")
if 0 < outcome.participants < MIN_RESPONDENTS:
    st.warning(f"Only {outcome.participants} participant(s) answered: with fewer than "
               f"{MIN_RESPONDENTS}, a 'team' score shows individuals' answers. Participants do "
               f"not see results until at least {MIN_RESPONDENTS} have answered.")
if overall["coverage"] == overall["coverage"] and overall["coverage"] < 0.5:
    st.warning(f"Only {overall['coverage']:.0%} of the questions have been answered: treat these "
               f"scores as provisional.")

if outcome.scores["score"].notna().any():
    st.subheader("Scores by dimension")
    agreed = store.agreed_scores(workshop.id)
    agreed = agreed[agreed["questionnaire_id"] == qid].set_index("dimension_id")
    table = outcome.scores.assign(
        name=lambda f: f["dimension"].map(dim_names).fillna("Overall"),
        agreed=lambda f: f["dimension"].map(agreed["agreed_score"] if len(agreed) else {}),
    )
    st.dataframe(
        table[["name", "score", "level", "agreed", "respondents", "sd", "agreement",
               "coverage"]],
        hide_index=True, placeholder="—",
        column_config={
            "name": "Dimension",
            "score": st.column_config.NumberColumn("Score", format="%.2f"),
            "level": "Level",
            "agreed": st.column_config.NumberColumn("Agreed score", format="%.1f"),
            "respondents": "Counted",
            "sd": st.column_config.NumberColumn("SD", format="%.2f",
                                                help="Spread of respondents' scores"),
            "agreement": st.column_config.NumberColumn(
                "Agreement", format="%.2f", help="rwg(j): 1 = full agreement, 0 = none"),
            "coverage": st.column_config.NumberColumn("Answered", format="percent"),
        })
    st.caption("**Score**: the mean of the participants who answered at least half of the "
               "dimension's questions (**Counted**). **SD**: how far apart their scores are. "
               "**Agreement** (rwg): 1 when everyone answers alike, 0 when answers are as "
               "scattered as chance; 0.70 or more is usually read as strong agreement, below "
               "0.50 as weak. **Answered**: the share of the dimension's questions answered by "
               "everyone who joined.")
    with st.expander("What the levels mean"):
        for level in q.levels:
            st.markdown(f"**{level.name}** (from {level.threshold:g}): {level.description}")
    st.altair_chart(charts.dimension_scores(outcome.scores, q))
    pdf_download(store, workshop, key="results_pdf")  # the PDF report, made on the click

    benchmark_section(outcome.scores)

    st.subheader("Who sees it how")
    show = st.toggle("Show names", value=False, key="show_names",
                     help="Off by default, so the discussion is about views, not people.")
    st.altair_chart(charts.respondent_heatmap(outcome.respondents, q, show))

    perception_section(outcome, q)

    st.subheader("Discussion agenda: where the team disagrees most")
    said = outcome.comments.groupby("question", sort=False)["comment"].agg(list) \
        if len(outcome.comments) else {}
    if outcome.agenda.empty:
        st.info("Needs at least two answers per question.")
    else:
        agenda = outcome.agenda.head(10).assign(comments=lambda f: [
            " | ".join(said.get(x, [])) if len(said) else "" for x in f["question"]])
        st.dataframe(agenda[["dimension", "text", "mean", "sd", "low", "high", "distribution",
                             "comments"]],
                     hide_index=True, column_config={
                         "comments": st.column_config.TextColumn(
                             "Comments", width="large",
                             help="What participants wrote beside their answer, without names"),
                         "dimension": st.column_config.TextColumn("Dimension", width="medium"),
                         "text": st.column_config.TextColumn("Question", width="large"),
                         "mean": st.column_config.NumberColumn("Mean", format="%.1f",
                                                               width="small"),
                         "sd": st.column_config.NumberColumn("SD", format="%.2f", width="small"),
                         "low": st.column_config.NumberColumn("Low", format="%d", width="small"),
                         "high": st.column_config.NumberColumn("High", format="%d",
                                                               width="small"),
                         "distribution": st.column_config.TextColumn(
                             "Answers per point", help="scale point: how many chose it")})

    if len(outcome.comments):
        with st.expander(f"Participants' comments, by question ({len(outcome.comments)}, "
                         f"without names)"):
            for text, group in outcome.comments.groupby("text", sort=False):
                st.markdown(f"**{plain(text)}**")
                for comment in group["comment"]:
                    st.text(f"• {comment}")

    st.subheader("Agreed scores")
    st.caption("After discussion, record the score the team agrees and why. The computed "
               "score and every answer stay as they were.")
    if st.session_state.pop("agree_empty", False):
        # An empty form after recording: the score and rationale just recorded are never
        # offered again for another dimension or questionnaire. Set before the widgets are
        # made, so the browser's copy is emptied too (deleting the keys empties only ours).
        st.session_state["agree_value"] = None
        st.session_state["agree_rationale"] = ""
    with st.form("agree"):
        dimension = st.selectbox("Dimension", [d.id for d in q.dimensions],
                                 format_func=lambda d: dim_names[d], key="agree_dimension")
        dimension = offered(dimension, dim_names, q.dimensions[0].id)
        value = st.number_input("Agreed score", min_value=float(q.scale.min),
                                max_value=float(q.scale.max), step=0.1, value=None,
                                placeholder="the score the team agrees", key="agree_value")
        rationale = st.text_area("Rationale", max_chars=2000, key="agree_rationale")
        if st.form_submit_button("Record agreed score", disabled=workshop.is_demo):
            computed = table.set_index("dimension")["score"].get(dimension)
            try:
                if value is None:
                    raise StoreError("enter the agreed score first")
                store.record_agreed_score(workshop.id, qid, dimension, value, rationale,
                                          computed)
                st.session_state["agreed_message"] = (
                    f"Recorded {value:.1f} ({level_of(value, q)}) for {dim_names[dimension]}.")
                st.session_state["agree_empty"] = True  # the form is emptied on the rerun
                st.rerun()
            except StoreError as e:
                st.error(sentence(e))
    if st.session_state.get("agreed_message"):
        st.success(st.session_state.pop("agreed_message"))
    if len(agreed):
        st.dataframe(agreed.reset_index().assign(
            dimension=lambda f: f["dimension_id"].map(dim_names))[
            ["dimension", "computed_score", "agreed_score", "rationale", "created_at"]],
            hide_index=True, placeholder="—", column_config={
                "dimension": "Dimension", "rationale": "Rationale",
                "computed_score": st.column_config.NumberColumn("Computed", format="%.2f"),
                "agreed_score": st.column_config.NumberColumn("Agreed", format="%.1f"),
                "created_at": st.column_config.DatetimeColumn("Recorded")})
else:
    st.info("No scored answers yet.")

if not (outcome.allocations.empty and outcome.rankings.empty and outcome.texts.empty
        and outcome.choices.empty):
    st.subheader("Trade-offs" if not outcome.allocations.empty else "Priorities")
    if not outcome.allocations.empty:
        alloc = next(x for x in q.questions if x.type == "allocation")
        st.write(f"**{alloc.text.rstrip('.')}**: mean points per priority")
        st.altair_chart(charts.allocation_bars(outcome.allocations,
                                               alloc.total / len(alloc.options)))
    for question_id, ranks in outcome.rankings.groupby("question", sort=False):
        rank_question = q.question(question_id)
        st.write(f"**{plain(rank_question.text.rstrip('.'))}**: mean rank (1 = most vital)")
        st.dataframe(ranks.assign(ranked_by=lambda f: [
            f"{r} of {n}" for r, n in zip(f["ranked"], f["respondents"], strict=True)])[
            ["label", "mean_rank", "ranked_by"]], hide_index=True, placeholder="not ranked",
            column_config={
                "label": st.column_config.TextColumn("Priority", width="large"),
                "mean_rank": st.column_config.NumberColumn("Mean rank", format="%.1f"),
                "ranked_by": st.column_config.TextColumn(
                    "Ranked by", help="Participants who gave it a rank, of those who answered")})
        nobody = ranks.loc[ranks["ranked"] == 0, "label"]
        if len(nobody):
            st.caption(f"Nobody ranked {', '.join(plain(x) for x in nobody)}: no mean rank is "
                       f"shown for {'it' if len(nobody) == 1 else 'them'}.")
        if rank_question.rank_top:
            st.caption(f"Participants ranked at least their top {rank_question.rank_top}; an "
                       f"option someone left unranked counts, for them, as tied in the places "
                       f"left.")
    if not outcome.say_do.empty:
        st.warning("Say–do gap: the team ranks these clearly among its most vital priorities, "
                   "yet gives them at most 80% of an even share of the points.")
        st.dataframe(outcome.say_do, hide_index=True, column_config={
            "option": None, "label": "Priority",
            "mean_rank": st.column_config.NumberColumn("Mean rank", format="%.1f"),
            "mean_points": st.column_config.NumberColumn("Mean points", format="%.1f"),
            "even_share": st.column_config.NumberColumn("Even share", format="%.1f")})
    for question, group in outcome.choices.groupby("question", sort=False):
        st.write(f"**{question}**")
        st.dataframe(group[["option", "count"]], hide_index=True, column_config={
            "option": st.column_config.TextColumn("Answer", width="large"),
            "count": st.column_config.NumberColumn("Chosen by", width="small")})
    if not outcome.texts.empty:
        st.write("**In their own words** (without names)")
        for question, group in outcome.texts.groupby("question", sort=False):
            st.markdown(f"*{question}*")
            for answer in group["answer"]:
                st.text(f"• {answer}")

st.subheader("Discussion notes")
with st.form("note", clear_on_submit=True):
    text = st.text_area("Note", max_chars=2000, key="note_text")
    if st.form_submit_button("Add note", disabled=workshop.is_demo):
        try:
            store.add_note(workshop.id, text, qid)
            st.rerun()
        except StoreError as e:
            st.error(sentence(e))
for note in store.notes(workshop.id).itertuples():
    if note.questionnaire_id == qid:
        st.text(f"{note.created_at:%d %b %H:%M} · {note.text}")
