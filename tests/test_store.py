"""The store keeps every answer, on SQLite and on PostgreSQL, under concurrent writers."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from assessment.store import Store, StoreError


@pytest.fixture
def workshop(store):
    client = store.create_client("Acme", sector="Retail")
    return store.create_workshop(client.id, "Board offsite", ["commitment", "tradeoffs"])


def test_creating_the_schema_twice_keeps_the_data(store, workshop):
    store.create_schema()
    again = Store(store.url)
    again.create_schema()
    assert [c.name for c in again.clients()] == ["Acme"]
    again.close()


def test_a_workshop_gets_a_six_character_join_code_and_no_facilitator_key(store, workshop):
    w = workshop
    assert len(w.code) == 6 and w.code.isalnum()
    assert store.workshop_by_code(w.code.lower()) == w
    # Accounts open workshops now; the old NOT NULL column holds a random value per workshop.
    with store.engine.connect() as db:
        stored = db.execute(sa.text("SELECT facilitator_key_hash FROM workshops")).scalar()
    assert len(stored) == 64 and not hasattr(store, "sign_in")


def test_joining_gives_a_token_that_finds_the_participant_again(store, workshop):
    w = workshop
    person, token = store.join(w.code, "  Ann  ", "executive")
    assert person.name == "Ann"
    assert len(token) >= 32
    assert store.participant_by_token(token) == person
    assert store.participant_by_token(token + "x") is None
    with store.engine.connect() as db:
        assert token not in str(db.execute(sa.text("SELECT * FROM participants")).all())


@pytest.mark.parametrize(("code", "name", "role", "message"), [
    ("NOPE99", "Ann", "executive", "no workshop has the join code"),
    (None, "", "executive", "name must not be empty"),
    (None, "Ann", "janitor", "role must be one of"),
    (None, "x" * 81, "executive", "limited to 80 characters"),
])
def test_a_bad_join_is_refused_with_a_reason(store, workshop, code, name, role, message):
    w = workshop
    with pytest.raises(StoreError, match=message):
        store.join(code or w.code, name, role)


def test_the_same_name_cannot_join_twice(store, workshop):
    w = workshop
    store.join(w.code, "Ann Lee", "executive")
    with pytest.raises(StoreError, match="already joined"):
        store.join(w.code, " ann lee ", "manager")
    assert [p.name for p in store.participants(w.id)] == ["Ann Lee"]


def test_an_answer_is_stored_once_and_replaced_when_changed(store, workshop):
    w = workshop
    person, _ = store.join(w.code, "Ann", "executive")
    store.save_answer(person.id, "commitment", "pu01", 3)
    store.save_answer(person.id, "commitment", "pu01", "4")
    store.save_answer(person.id, "tradeoffs", "tr_alloc", 60, option_id="cost_reduction")
    assert store.answers_of(person.id, "commitment") == {("pu01", ""): "4"}
    assert store.answers_of(person.id, "tradeoffs") == {("tr_alloc", "cost_reduction"): "60"}
    frame = store.answer_frame(w.id)
    assert len(frame) == 2
    assert (frame["updated_at"].notna()).all()


def test_participants_never_see_each_others_answers(store, workshop):
    w = workshop
    ann, _ = store.join(w.code, "Ann", "executive")
    bob, _ = store.join(w.code, "Bob", "manager")
    store.save_answer(ann.id, "commitment", "pu01", 5)
    assert store.answers_of(bob.id, "commitment") == {}


def test_closed_workshops_refuse_new_answers_and_joins(store, workshop):
    w = workshop
    ann, _ = store.join(w.code, "Ann", "executive")
    store.set_answering_open(w.id, False)
    with pytest.raises(StoreError, match="closed"):
        store.save_answer(ann.id, "commitment", "pu01", 5)
    with pytest.raises(StoreError, match="closed"):
        store.join(w.code, "Bob", "manager")
    assert store.answers_of(ann.id, "commitment") == {}


def test_agreed_scores_keep_history_and_show_the_latest(store, workshop):
    w = workshop
    store.record_agreed_score(w.id, "commitment", "purpose", 3.0, "First view", 2.8)
    store.record_agreed_score(w.id, "commitment", "purpose", 3.5, "After discussion", 2.8)
    latest = store.agreed_scores(w.id)
    assert latest["agreed_score"].tolist() == [3.5]
    assert latest["rationale"].tolist() == ["After discussion"]
    assert latest["computed_score"].tolist() == [2.8]
    with store.engine.connect() as db:
        assert db.execute(sa.text("SELECT count(*) FROM agreed_scores")).scalar() == 2


def test_a_rationale_is_required(store, workshop):
    with pytest.raises(StoreError, match="rationale must not be empty"):
        store.record_agreed_score(workshop.id, "commitment", "purpose", 3, "  ", None)


def test_twenty_threads_saving_at_once_lose_nothing(store, workshop):
    w = workshop
    people = [store.join(w.code, f"P{i}", "executive")[0] for i in range(20)]
    questions = [q.id for q in store.questionnaires["commitment"].questions
                 if q.type == "level"][:15]
    errors = []
    start = threading.Barrier(len(people))

    def answer(person):
        try:
            start.wait()
            for round_ in range(2):  # every answer is written, then changed once
                for q in questions:
                    store.save_answer(person.id, "commitment", q, str(round_ + 3))
        except Exception as e:  # noqa: BLE001 - collected and asserted on below
            errors.append(repr(e))

    threads = [threading.Thread(target=answer, args=(p,)) for p in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    frame = store.answer_frame(w.id)
    assert len(frame) == 20 * 15
    assert not frame.duplicated(["participant_id", "question_id", "option_id"]).any()
    assert set(frame["value"]) == {"4"}


def test_a_read_does_not_wait_for_a_writer_on_sqlite(tmp_path):
    """Under WAL a reader sees the last committed state while a writer holds the lock."""
    store = Store(f"sqlite:///{tmp_path / 'wal.db'}")
    store.create_schema()
    client = store.create_client("Acme")
    workshop = store.create_workshop(client.id, "Offsite", ["commitment"])
    found = []
    with store.writer.begin() as db:  # a writing transaction, left open
        db.execute(sa.text("UPDATE workshops SET title = 'Renamed'"))
        reader = threading.Thread(target=lambda: found.append(store.workshop(workshop.id).title))
        reader.start()
        reader.join(timeout=10)  # the busy timeout is 30 s: a waiting read would still hang
        assert found == ["Offsite"]
    assert store.workshop(workshop.id).title == "Renamed"
    store.close()


def test_fifty_writers_and_readers_at_once_never_see_a_locked_database(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'busy.db'}")
    store.create_schema()
    client = store.create_client("Acme")
    workshop = store.create_workshop(client.id, "Offsite", ["commitment"])
    people = [store.join(workshop.code, f"P{i}", "executive")[0] for i in range(50)]
    questions = [q.id for q in store.questionnaires["commitment"].questions
                 if q.type == "level"][:10]
    errors, done = [], threading.Event()
    start = threading.Barrier(len(people) + 10)

    def write(person):
        try:
            start.wait()
            for q in questions:
                store.save_answer(person.id, "commitment", q, "3")
        except Exception as e:  # noqa: BLE001 - collected and asserted on below
            errors.append(repr(e))

    def read():
        try:
            start.wait()
            while not done.is_set():
                store.answer_frame(workshop.id)
                store.answers_version(workshop.id)
                store.participants(workshop.id)
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))

    writers = [threading.Thread(target=write, args=(p,)) for p in people]
    readers = [threading.Thread(target=read) for _ in range(10)]
    for t in writers + readers:
        t.start()
    for t in writers:
        t.join(timeout=300)
    done.set()
    for t in readers:
        t.join(timeout=60)
    assert errors == []
    assert len(store.answer_frame(workshop.id)) == 50 * len(questions)
    store.close()


def test_the_demo_workshop_is_found_among_others_and_none_without_a_demo(store, workshop):
    assert store.demo_workshop() is None
    demo_client = store.create_client("DEMO · Sample")
    store.mark_demo(demo_client.id)
    demo = store.create_workshop(demo_client.id, "Demo", ["commitment"])
    store.create_workshop(store.create_client("Later Co").id, "Later", ["commitment"])
    assert store.demo_workshop() == store.workshop(demo.id)
