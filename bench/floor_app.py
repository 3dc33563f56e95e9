"""The floor: the thinnest Streamlit app that does what a participant does in the real one.

A join form (code, name), then the radio questions of one questionnaire a section at a time
(the same sections, questions, texts and option labels as the real app), every answer written
to the database the moment it is given and read back on the next run. Plain SQLAlchemy Core on
a SQLite file or PostgreSQL (DATABASE_URL), its own three tables (bench/floor_db.py). No
navigation, titles, progress or checks beyond what the job needs: what a click costs here is
Streamlit plus one write and two small reads, the floor the real app is compared against.

The widget keys are the real app's (``join_code``, ``join_name``, the "Join" button,
``<questionnaire>.<question>``, ``next``), so the same protocol client drives both.

Run: DATABASE_URL=... streamlit run bench/floor_app.py  (FLOOR_QUESTIONNAIRE, default commitment)
The load test (bench/load_test.py) creates the schema and the join code itself.
"""

import os
import secrets
import sys
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parents[1]
for folder in (str(ROOT), str(ROOT / "bench")):
    if folder not in sys.path:
        sys.path.insert(0, folder)

import floor_db  # noqa: E402  (imported once per process, like the app's own modules)

from assessment.questionnaire import load_shipped  # noqa: E402


@st.cache_resource
def engine():
    db = floor_db.make_engine(os.environ["DATABASE_URL"])
    floor_db.create_schema(db)
    return db


@st.cache_resource
def questionnaire():
    return load_shipped()[os.environ.get("FLOOR_QUESTIONNAIRE", "commitment")]


def save(pid: int, qid: str, key: str) -> None:
    floor_db.save_answer(engine(), pid, qid, str(st.session_state[key]))


def go(section: int) -> None:
    st.query_params["s"] = str(section)


db, q = engine(), questionnaire()
token = st.query_params.get("p", "")
pid = floor_db.participant(db, token) if token else None
if pid is None:
    with st.form("join"):
        code = st.text_input("Join code", value=st.query_params.get("join", ""), key="join_code")
        name = st.text_input("Your name", key="join_name")
        if st.form_submit_button("Join"):
            token = secrets.token_urlsafe(24)
            if floor_db.join(db, code.strip().upper(), name, token):
                st.query_params.clear()
                st.query_params["p"] = token
                st.rerun()
            st.error("Unknown code")
    st.stop()

pages = q.pages()
section = min(max(int(st.query_params.get("s", "0") or 0), 0), len(pages) - 1)
given = floor_db.answers_of(db, pid)
for qid in pages[section].question_ids:
    question = q.question(qid)
    if question.type not in ("level", "likert"):
        continue  # the floor has radio questions only
    options = [*range(q.scale.min, q.scale.max + 1), *(["n/a"] if question.allow_na else [])]
    names = question.anchors if question.type == "level" else (question.labels or q.scale.labels)
    labels = dict(zip(options, names, strict=False)) | {"n/a": "Not applicable to us"}
    saved = [i for i, o in enumerate(options) if str(o) == given.get(qid)]
    key = f"{q.id}.{qid}"
    st.radio(question.text, options, format_func=labels.get, key=key,
             index=saved[0] if saved else None, on_change=save, args=(pid, qid, key))
if section < len(pages) - 1:
    st.button("Next", key="next", on_click=go, args=(section + 1,))
