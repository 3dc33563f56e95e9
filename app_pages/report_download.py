"""The PDF report's download button, on the plan and results pages.

The PDF is made only when the button is clicked (Streamlit runs the callable then, on its own
thread), never on a rerun: a page shows the button at the cost of nothing.
"""

from __future__ import annotations

import logging
from datetime import date

import streamlit as st

from app_pages.common import action_library, benchmarks, questionnaires
from assessment.export import PlanReport, deliverable_name
from assessment.pdf_report import error_pdf, pdf_bytes
from assessment.report import Scored, build_report
from assessment.store import Store, Workshop
from assessment.workshop import results

log = logging.getLogger(__name__)


def workshop_report(store: Store, workshop: Workshop, shipped: dict, library,
                    chosen_benchmarks: dict | None = None) -> PlanReport:
    """The report of a workshop as the plan page builds it: every questionnaire's results, the
    team's targets, agreed scores, plan edits and decisions, and the benchmarks chosen.
    Plain domain calls, no Streamlit: it runs on the download's own thread."""
    scored = []
    for qid in workshop.questionnaire_ids:
        if qid in shipped:
            outcome = results(store.answer_frame(workshop.id, qid), shipped[qid])
            scored.append(Scored(shipped[qid], outcome.answers, outcome.scores))
    report, _ = build_report(
        scored, library, reference=f"workshop {workshop.id} ({workshop.code})",
        client=workshop.client_name, title=workshop.title,
        benchmarks=chosen_benchmarks or {}, targets=store.targets(workshop.id),
        edits=store.plan_edits(workshop.id), agreed=store.agreed_scores(workshop.id),
        notes=store.notes(workshop.id), decisions=store.decisions(workshop.id))
    return report


def results_benchmarks(workshop: Workshop) -> dict:
    """The benchmark chosen on the results page, if it fits one of the workshop's
    questionnaires (the choice is the widget's value: checked, never trusted)."""
    chosen = st.session_state.get("benchmark_choice")
    every = benchmarks()
    shipped = questionnaires()
    b = every.get(chosen) if isinstance(chosen, str) else None
    if b is None or b.kind != "scores" or b.questionnaire not in workshop.questionnaire_ids:
        return {}
    q = shipped.get(b.questionnaire)
    return {b.questionnaire: b} if q is not None and q.version == b.questionnaire_version else {}


def pdf_download(store: Store, workshop: Workshop, report: PlanReport | None = None,
                 key: str = "download_pdf") -> None:
    """A "Download the report (PDF)" button. With `report` (the plan page's, benchmarks and
    edits as shown there), that report; without, the workshop's report built on the click
    (the results page, with the benchmark chosen there)."""
    chosen = results_benchmarks(workshop) if report is None else None
    shipped, library = questionnaires(), action_library()  # cached: taken here, on the page

    def make() -> bytes:
        try:
            built = report if report is not None else \
                workshop_report(store, workshop, shipped, library, chosen)
            return pdf_bytes(built, shipped)
        except Exception as e:  # the browser shows no error for a failed download: say it
            log.exception("the PDF report of workshop %s could not be made", workshop.id)
            return error_pdf(f"The report could not be made ({type(e).__name__}). Please try "
                             f"again, or write it from the command line.")

    name = deliverable_name(workshop.client_name, report.made if report else date.today(),
                            "report", "pdf")
    st.download_button("Download the report (PDF)", make, file_name=name,
                       mime="application/pdf", key=key, on_click="ignore",
                       help="One to three A4 pages for the client: scores against the levels, "
                            "agreed scores with their rationale, the priorities with owners and "
                            "dates, and what the team will stop doing.")

