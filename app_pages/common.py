"""What the pages share: the store, the questionnaires, and the facilitator's sign-in."""

from __future__ import annotations

import streamlit as st

from assessment.actions import load_actions
from assessment.benchmarks import load_shipped_benchmarks
from assessment.questionnaire import load_shipped
from assessment.store import Store, Workshop, database_url
from assessment.workshop import Results, results


@st.cache_resource(show_spinner=False)
def _store(url: str) -> Store:
    store = Store(url)
    store.create_schema()
    return store


def open_store() -> Store:
    """The one Store of this process (its engine is thread-safe), schema created once."""
    return _store(database_url())


@st.cache_resource(show_spinner=False)
def questionnaires() -> dict:
    """The shipped questionnaires, parsed once per process (they are immutable)."""
    return load_shipped()


@st.cache_resource(show_spinner=False)
def benchmarks() -> dict:
    """The benchmark files in benchmarks/, parsed once per process and cross-checked."""
    return load_shipped_benchmarks(questionnaires())


@st.cache_resource(show_spinner=False)
def action_library():
    """The action library, parsed once per process and checked against the dimensions."""
    return load_actions(dimensions={d.id for q in questionnaires().values()
                                    for d in q.dimensions})


def signed_in_workshop(store: Store) -> Workshop | None:
    """The workshop this browser session has opened with its facilitator key, if any."""
    wid = st.session_state.get("facilitator_workshop")
    if wid is None:
        return None
    return store.workshop(wid)


@st.cache_data(max_entries=128, show_spinner=False)
def _cached_results(url: str, workshop_id: int, questionnaire_id: str, version: tuple,
                    names: tuple) -> Results:
    store = _store(url)
    return results(store.answer_frame(workshop_id, questionnaire_id),
                   questionnaires()[questionnaire_id], dict(names))


def workshop_results(store: Store, workshop_id: int, questionnaire_id: str,
                     names: dict[int, str] | None = None) -> Results:
    """A questionnaire's results, recomputed only when an answer or participant has changed,
    so that reruns (every click on the page) stay instant."""
    return _cached_results(store.url, workshop_id, questionnaire_id,
                           store.answers_version(workshop_id),
                           tuple(sorted((names or {}).items())))


def facilitator_page(store: Store, title: str, what: str) -> Workshop:
    """Title, and the signed-in workshop's header; stops the page for anyone not signed in."""
    workshop = signed_in_workshop(store)
    st.title(title)
    if workshop is None:
        st.info(f"{what} for the facilitator. Open the workshop with its code and key first.")
        if st.button("Go to the facilitator area", key="to_facilitator"):
            st.switch_page("app_pages/facilitator.py")
        st.stop()
    st.caption(f"{workshop.client_name} · {workshop.title} · code {workshop.code}")
    if workshop.is_demo:
        st.warning("Demo workshop: the client and every answer are invented, to show the tool.")
    return workshop


def sign_in(store: Store, workshop: Workshop, key: str) -> bool:
    if store.check_facilitator_key(workshop.id, key):
        st.session_state["facilitator_workshop"] = workshop.id
        return True
    return False


def sign_out() -> None:
    st.session_state.pop("facilitator_workshop", None)


def sentence(message: str) -> str:
    """A message with its first letter capitalised and the rest (ids, codes) untouched."""
    message = str(message)
    return message[:1].upper() + message[1:]


def join_link(code: str) -> str:
    """The link participants open to join; the host is the one this page was opened on."""
    base = (st.context.url or "").split("?")[0].rstrip("/")
    for suffix in ("/facilitator", "/results", "/answer"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
    return f"{base or 'http://localhost:8501'}/?join={code}"


def personal_link(token: str) -> str:
    base = (st.context.url or "").split("?")[0].rstrip("/")
    if not base.endswith("/answer"):
        base = f"{base or 'http://localhost:8501'}/answer"
    return f"{base}?p={token}"
