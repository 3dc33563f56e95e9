"""The load test at a small size: ten participants at once against the real app, on SQLite and
PostgreSQL, through Streamlit's own websocket protocol (bench/stclient.py). Every answer must be
acknowledged, stored with the acknowledged value, and no session may see an error."""

from __future__ import annotations

import asyncio
import sys

import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))

import load_test  # noqa: E402
from stclient import StreamlitClient  # noqa: E402

pytestmark = pytest.mark.load

PARTICIPANTS = 10


def test_ten_participants_answer_at_once_and_nothing_is_lost(database_url):
    """No think time (the saturation case): every session clicks as fast as the app answers.
    Two sections, so the Next button and the section that follows are exercised too."""
    config = load_test.Config(participants=PARTICIPANTS, think=0, sections=2, target="app",
                              database_url=database_url, quiet=True, time_limit=240,
                              run_timeout=60,
                              database="postgresql" if "postgresql" in database_url else "sqlite")
    [outcome] = load_test.run(config)
    expected = PARTICIPANTS * sum(len(questions) for _, questions in
                                  load_test.radio_sections("commitment", 2))
    summary = load_test.report([outcome], config)
    assert outcome.completed, summary
    assert outcome.error_count == 0, summary
    assert outcome.finished == PARTICIPANTS, summary
    assert outcome.answers_sent == expected, summary
    assert outcome.answers_acknowledged == expected, summary
    assert outcome.lost == 0, summary
    assert outcome.answers_stored == expected, summary
    assert outcome.peak_rss_mb > 0 and outcome.save_p50_ms > 0, summary


def test_the_floor_app_under_the_same_client_and_a_refused_join(tmp_path):
    """The floor app (bench/floor_app.py) driven by the same participants, and the client's
    view of a refused join: the error alert is seen and no personal link arrives."""
    url = f"sqlite:///{tmp_path / 'floor.db'}"
    target = load_test.FloorTarget(url, "commitment")
    server = load_test.Server(target.script, url, tmp_path / "floor.log")
    sections = load_test.radio_sections("commitment", 1)
    config = load_test.Config(participants=3, think=0, sections=1, target="floor")
    recorder = load_test.Recorder()

    async def scenario():
        async with StreamlitClient(load_test.HOST, server.port, timeout=60) as client:
            await client.open("", "join=NOCODE")
            assert client.widget("join_code").proto.default == "NOCODE"
            await client.set_value("join_name", "Somebody")
            refused = await client.click("Join")
            assert refused.ok and refused.errors == ["Unknown code"]
            assert "p=" not in client.query_string
        await asyncio.gather(*(load_test.participant(n, server.port, target.code, sections,
                                                     config, recorder) for n in range(1, 4)))

    server.start()
    try:
        asyncio.run(scenario())
    finally:
        server.stop()
    assert recorder.errors == {}, recorder.examples
    assert recorder.finished == 3 and len(recorder.acks) == 3 * len(sections[0][1])
    assert target.stored() == recorder.acks
