"""The attacker's (or the unlucky consultant's) view of client pickers: two clients whose names
look the same. Streamlit 1.67 tells a selectbox's or multiselect's options apart by their label,
so two "Twin"s were one option: the first client's workshops could not be opened, only one could
be compared, the admin's "give access" went to the other one, and the portfolio workbook kept
one history for both. Through the store (SQLite and PostgreSQL) and the pages (AppTest)."""

from __future__ import annotations

import io

import openpyxl
import pytest
from conftest import ROOT, add_consultant, sign_in_as
from streamlit.testing.v1 import AppTest

from assessment.history import client_labels
from assessment.portfolio_export import gather, workbook_bytes
from assessment.store import Store


@pytest.mark.parametrize(("names", "labels"), [
    ({1: "Acme", 2: "Bolt"}, {1: "Acme", 2: "Bolt"}),
    ({1: "Twin", 2: "Twin"}, {1: "Twin (#1)", 2: "Twin (#2)"}),
    ({1: "Acme", 2: "ACME", 3: "Bolt"}, {1: "Acme (#1)", 2: "ACME (#2)", 3: "Bolt"}),
    ({1: "Acme", 2: "\u0410cme"}, {1: "Acme (#1)", 2: "\u0410cme (#2)"}),  # Cyrillic А
    # a name typed to look like a label made here still ends up different
    ({1: "Twin", 2: "Twin", 3: "Twin (#1)"},
     {1: "Twin (#1) (#1)", 2: "Twin (#2)", 3: "Twin (#1) (#3)"}),
])
def test_clients_whose_names_look_the_same_get_their_ids_in_their_labels(names, labels):
    assert client_labels(names) == labels
    assert len(set(labels.values())) == len(labels)


pg = pytest.mark.postgres


@pg
def test_two_clients_of_one_name_are_two_rows_and_two_histories_in_the_workbook(
        database_url, mini):
    store = Store(database_url, questionnaires={"mini": mini})
    store.create_schema()
    try:
        ann = add_consultant(store, "ann")
        ids = []
        for value in (2, 4):
            client = store.create_client_for(ann, "Twin")
            workshop = store.create_workshop_for(ann, client.id, f"Score {value}", ["mini"])
            for n in range(3):
                person, _ = store.join(workshop.code, f"P{n}", "manager")
                store.save_answers(person.id, "mini", [(q, "", str(value))
                                                       for q in ("q1", "q3", "q4")])
            store.set_answering_open(workshop.id, False)
            ids.append(client.id)
        report = gather(store, ann, ids, mini)
        assert list(report.comparison.table["client"]) == [f"Twin (#{i})" for i in ids]
        assert list(report.histories) == [f"Twin (#{i})" for i in ids]
        wb = openpyxl.load_workbook(io.BytesIO(workbook_bytes(report)), read_only=True)
        shown = {row[0] for row in wb["History"].iter_rows(min_row=2, values_only=True)}
        assert shown == {f"Twin (#{i})" for i in ids}
    finally:
        store.close()


def twins(db, owner) -> list:
    """Two clients called Twin, each with a workshop titled after it."""
    made = []
    for n in ("first", "second"):
        client = db.create_client_for(owner, "Twin")
        db.create_workshop_for(owner, client.id, f"The {n} twin's workshop", ["commitment"])
        made.append(client)
    return made


def test_either_of_two_clients_of_one_name_opens_its_own_workshops(db):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    ann = sign_in_as(at, db, "ann")
    first, second = twins(db, ann)
    at.run()
    at.switch_page("app_pages/facilitator.py").run()
    picker = at.selectbox(key="open_client")
    assert len(set(picker.options)) == len(picker.options)
    for client, n in ((first, "first"), (second, "second")):
        at.selectbox(key="open_client").set_value(client.id).run()
        assert not at.exception, at.exception
        shown = " ".join(m.value for m in at.markdown)
        assert f"The {n} twin" in shown.replace("\\", ""), shown


def test_the_admin_gives_access_to_the_client_picked_not_to_its_namesake(db):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    root = sign_in_as(at, db, "root", admin=True)
    first, second = twins(db, root)
    add_consultant(db, "carl")
    at.run()
    at.switch_page("app_pages/users.py").run()
    at.selectbox(key="users_client").set_value(first.id).run()
    at.selectbox(key="users_grant_to").set_value("carl").run()
    at.button(key="users_grant").click().run()
    assert not at.exception, at.exception
    assert ("carl" in db.client_users(first.id), "carl" in db.client_users(second.id)) == (
        True, False)


def test_more_clients_picked_than_compared_is_cut_to_the_limit_not_an_error(db):
    """The browser stops at ten picks; a client that speaks the websocket can send more, and
    Streamlit then raises instead of drawing the page (the page showed an error for good)."""
    from assessment.history import MAX_COMPARED

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    ann = sign_in_as(at, db, "ann")
    ids = [db.create_client_for(ann, f"Client {n:02d}").id for n in range(MAX_COMPARED + 3)]
    at.run()
    at.switch_page("app_pages/compare.py").run()
    at.multiselect(key="compare_clients").set_value(ids).run()
    assert not at.exception, at.exception
    assert at.multiselect(key="compare_clients").value == ids[:MAX_COMPARED]


def test_a_past_assessment_file_at_the_upload_limit_is_checked_in_seconds_not_tens():
    """The preview runs on every rerun of My clients while the file is in the uploader: a 5 MB
    file of 5,000 respondents took 9.5 s of CPU (a mask over every row per respondent)."""
    import time

    from assessment.importing import preview
    from assessment.questionnaire import load_shipped
    from assessment.uploads import UPLOAD

    q = load_shipped()["commitment"]
    scored = [x.id for x in q.questions if x.type in ("likert", "level")]
    rows, people, size = ["respondent,role,question,option,value,comment"], 0, 0
    while size < UPLOAD.file_bytes - 150_000:
        role = "executive" if people % 7 == 0 else "manager"
        made = [f"Person {people},{role},{x},,{1 + (i + people) % 5}," for i, x in
                enumerate(scored)]
        rows += made
        size += sum(len(r) + 1 for r in made)
        people += 1
    started = time.perf_counter()
    checked = preview("\n".join(rows).encode(), "past.csv", q)
    seconds = time.perf_counter() - started
    assert checked.ok and len(checked.people) == people > 4000
    assert [p.role for p in checked.people[:8]] == ["executive"] + ["manager"] * 6 + [
        "executive"]
    assert seconds < 4, seconds


@pytest.mark.parametrize(("name", "data", "said"), [
    ("\u00e9" * 199 + ".csv", b"respondent,role,question,option,value,comment\nA,manager,pu01,,3,\n",
     None),  # 800 bytes of name: too long for the disk, fine as a label
    ("..", b"respondent\nA\n", "..: row 1, column 'question'"),
    ("bad.csv", b"respondent,role,question,option,value,comment\nA,manager,nope,,9,\n",
     "bad.csv: row 2, question 'nope'"),
    ("junk.csv", b"\xff\xfe\x00junk", "junk.csv: not UTF-8 text"),
])
def test_the_instrument_upload_names_the_file_sent_never_this_servers_disk(name, data, said):
    """The Instrument page's responses file: its name is the sender's text. It crashed the page
    as a file name on this disk (too long, "..") and the refusal quoted /tmp/tmpXXXX/ paths."""
    from assessment.questionnaire import load_shipped
    from assessment.reliability import uploaded_answers
    from assessment.responses import ResponsesError

    q = load_shipped()["commitment"]
    if said is None:
        assert len(uploaded_answers(data, name, q)) == 1
        return
    with pytest.raises(ResponsesError) as refused:
        uploaded_answers(data, name, q)
    assert str(refused.value).startswith(said), str(refused.value)
    assert "/tmp" not in str(refused.value) and "tmp" not in refused.value.source


def test_a_client_name_with_an_invisible_character_is_labelled_apart_from_its_look_alike():
    assert client_labels({1: "Acme", 2: "Acme\u200b"}) == {1: "Acme (#1)", 2: "Acme\u200b (#2)"}
