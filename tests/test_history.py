"""History, comparison and portfolio figures against cases computed by hand (assessment.history)."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest

from assessment.history import (
    ClientInfo,
    ComparisonRefused,
    arrow,
    compare,
    history,
    pooled_sd,
    portfolio_overview,
    within_noise,
)
from assessment.store.portfolio import SCORE_FRAME, WorkshopEntry

NAN = float("nan")


def cached(*rows) -> pd.DataFrame:
    """Cache rows: (workshop, dimension, score, agreed, spread, respondents[, version])."""
    out = []
    for w, d, s, a, sd, n, *version in rows:
        out.append(dict(workshop_id=w, questionnaire_id="mini",
                        questionnaire_version=version[0] if version else "1.0", dimension_id=d,
                        score=s, agreed_score=a, spread=sd, respondents=n))
    return pd.DataFrame(out, columns=SCORE_FRAME)


@pytest.mark.parametrize("s1, n1, s2, n2, expected", [
    (1.0, 3, 1.0, 3, 1.0),                     # equal spreads: that spread
    (0.5, 5, 1.0, 3, math.sqrt(0.5)),          # (4*0.25 + 2*1) / 6 = 0.5
    (NAN, 1, 0.8, 4, 0.8),                     # one person adds nothing: (3*0.64) / 3
    (0.6, 2, NAN, 1, 0.6),                     # (1*0.36) / 1
    (NAN, 1, NAN, 1, None),                    # two single respondents: unknown
    (0.5, 0, 0.5, 0, None),                    # nobody counted
    (NAN, 3, 0.5, 3, None),                    # a spread missing where one is due: unknown
])
def test_the_noise_is_the_pooled_sd_of_the_two_workshops(s1, n1, s2, n2, expected):
    got = pooled_sd(s1, n1, s2, n2)
    assert got == pytest.approx(expected) if expected is not None else got is None


@pytest.mark.parametrize("change, noise, sign, within", [
    (0.3, 0.5, "↑", True),
    (-0.3, 0.5, "↓", True),
    (0.5, 0.5, "↑", False),    # as large as the noise: not within it (strictly smaller)
    (-1.2, 0.6, "↓", False),
    (0.0, 0.4, "→", True),
    (0.7, None, "↑", None),    # noise unknown: not said
    (None, 0.4, "", None),     # first workshop: no change
])
def test_arrows_and_noise_follow_the_stated_rule(change, noise, sign, within):
    assert arrow(change) == sign
    assert within_noise(change, noise) is within


ENTRIES = [  # given out of order on purpose
    WorkshopEntry(2, 1, "Second", ("mini",), date(2024, 3, 1), "closed"),
    WorkshopEntry(9, 1, "Running", ("mini",), date(2025, 6, 1), "open"),
    WorkshopEntry(1, 1, "First (imported)", ("mini",), date(2023, 3, 1), "imported"),
    WorkshopEntry(4, 1, "Third, new version", ("mini",), date(2025, 1, 10), "closed"),
]
SCORES = cached(
    (1, "d1", 2.0, None, 0.5, 4), (1, "d2", 3.0, None, 1.0, 4), (1, "overall", 2.6667, None, NAN, 4),
    (2, "d1", 2.9, 3.2, 0.7, 4), (2, "d2", 2.8, None, 1.0, 4), (2, "overall", 2.8333, None, NAN, 4),
    (9, "d1", 5.0, None, 0.0, 2),   # an open workshop's stale rows never show
    (4, "d1", 3.5, None, 0.4, 3, "2.0"),
)


@pytest.mark.parametrize("workshop, dimension, score, level, change, sign, noise, within, note", [
    (1, "d1", 2.0, "Low", None, "", None, None, ""),
    (1, "d2", 3.0, "Middle", None, "", None, None, ""),
    # the agreed 3.2 is shown and compared: 3.2 - 2.0; noise sqrt((3*0.25 + 3*0.49) / 6)
    (2, "d1", 3.2, "Middle", 1.2, "↑", math.sqrt(0.37), False, ""),
    # 2.8 - 3.0 against sqrt((3*1 + 3*1) / 6) = 1
    (2, "d2", 2.8, "Middle", -0.2, "↓", 1.0, True, ""),
    # the overall score has no spread under the dimensions rule: noise unknown
    (2, "overall", 2.8333, "Middle", 2.8333 - 2.6667, "↑", None, None, ""),
    # another questionnaire version: no change, and why; no level of an unknown version
    (4, "d1", 3.5, "", None, "", None, None, "questionnaire version 1.0 then 2.0: not compared"),
])
def test_history_rows_equal_the_hand_computed_ones(mini, workshop, dimension, score, level, change,
                                                   sign, noise, within, note):
    table = history(ENTRIES, SCORES, mini)
    row = table[(table["workshop_id"] == workshop) & (table["dimension"] == dimension)].iloc[0]
    assert row["score"] == pytest.approx(score)
    assert row["level"] == level
    assert pd.isna(row["change"]) if change is None else row["change"] == pytest.approx(change)
    assert row["arrow"] == sign
    assert pd.isna(row["noise"]) if noise is None else row["noise"] == pytest.approx(noise)
    assert row["within_noise"] is within
    assert row["note"] == note


def test_history_is_oldest_first_and_leaves_open_workshops_out(mini):
    table = history(ENTRIES, SCORES, mini)
    assert list(dict.fromkeys(table["workshop_id"])) == [1, 2, 4]
    assert list(table[table["workshop_id"] == 1]["dimension"]) == ["d1", "d2", "overall"]


# ---------------------------------------------------------------- side by side

CLIENTS = {10: ClientInfo(10, "Acme"), 11: ClientInfo(11, "Borealis"), 12: ClientInfo(12, "Cobalt")}
LATEST = {10: WorkshopEntry(100, 10, "A", ("mini",), date(2024, 1, 1), "closed"),
          11: WorkshopEntry(110, 11, "B", ("mini",), date(2023, 5, 2), "imported"),
          12: WorkshopEntry(120, 12, "C", ("mini",), date(2024, 9, 9), "closed")}
SIDE = cached((100, "d1", 2.0, None, 0.5, 3), (100, "d2", 3.0, 3.5, 0.5, 3),
              (110, "d1", 4.0, None, 0.5, 3), (110, "d2", 1.5, None, 0.5, 3),
              (120, "d1", 3.0, None, 0.5, 3), (120, "d2", NAN, None, NAN, 0))


@pytest.mark.parametrize("client, dimension, expected", [
    ("Acme", "d1", 2.0),
    ("Acme", "d2", 3.5),        # agreed beats computed
    ("Borealis", "d1", 4.0),
    ("Borealis", "d2", 1.5),
    ("Cobalt", "d1", 3.0),
    ("Cobalt", "d2", None),     # nobody counted: blank, not zero
])
def test_the_comparison_table_and_heatmap_hold_the_shown_scores(mini, client, dimension, expected):
    result = compare(CLIENTS, LATEST, SIDE, mini)
    value = result.table.set_index("client").at[client, dimension]
    heat = result.heatmap().set_index(["client", "dimension_id"]).at[(client, dimension), "score"]
    for got in (value, heat):
        assert np.isnan(got) if expected is None else got == pytest.approx(expected)
    assert list(result.table["client"]) == ["Acme", "Borealis", "Cobalt"]
    assert result.version == "1.0"


def test_clients_on_different_questionnaire_versions_are_refused_with_the_reason(mini):
    mixed = SIDE.copy()
    mixed.loc[mixed["workshop_id"] == 110, "questionnaire_version"] = "2.0"
    with pytest.raises(ComparisonRefused, match=r"different versions.*version 1\.0: Acme, Cobalt; "
                                                r"version 2\.0: Borealis.*not comparable"):
        compare(CLIENTS, LATEST, mixed, mini)


@pytest.mark.parametrize("clients, latest, message", [
    ({10: CLIENTS[10]}, LATEST, r"pick 2 to 10 clients to compare \(1 picked\)"),
    ({i: ClientInfo(i, f"C{i}") for i in range(11)}, LATEST, r"pick 2 to 10 clients to compare \(11 picked\)"),
    ({10: CLIENTS[10], 13: ClientInfo(13, "DEMO", is_demo=True)}, LATEST, "demo client never counts"),
    ({10: CLIENTS[10], 14: ClientInfo(14, "Delta")}, LATEST, "no completed workshop .* for: Delta"),
])
def test_a_comparison_that_cannot_be_made_is_refused_with_the_reason(mini, clients, latest, message):
    with pytest.raises(ComparisonRefused, match=message):
        compare(clients, latest, SIDE, mini)


# ---------------------------------------------------------------- portfolio overview

def latest_rows(*rows):
    frame = cached(*[r[1:] for r in rows])
    frame.insert(0, "client_id", [r[0] for r in rows])
    return frame


PORTFOLIO = latest_rows(
    (1, 1, "d1", 1.5, None, 0.5, 3), (1, 1, "d2", 3.0, None, 0.5, 3),   # Low, Middle: weakest d1
    (2, 2, "d1", 4.2, None, 0.5, 3), (2, 2, "d2", 2.0, None, 0.5, 3),   # High, Low: weakest d2
    (3, 3, "d1", 2.5, None, 0.5, 3), (3, 3, "d2", 2.5, None, 0.5, 3),   # a tie: both weakest
    (4, 4, "d1", 1.0, None, 0.5, 3, "2.0"), (4, 4, "d2", 1.0, None, 0.5, 3, "2.0"),  # left out
    (5, 5, "d1", 1.0, 4.0, 0.5, 3), (5, 5, "d2", 3.9, None, 0.5, 3),    # agreed High; weakest d2
    (5, 5, "overall", 2.0, None, NAN, 3),                                # overall never counts
)


@pytest.mark.parametrize("dimension, low, middle, high", [
    ("d1", 1, 1, 2),
    ("d2", 1, 3, 0),
])
def test_the_portfolio_counts_clients_at_each_level_per_dimension(mini, dimension, low, middle, high):
    overview = portfolio_overview(PORTFOLIO, mini)
    row = overview.levels.set_index("dimension").loc[dimension]
    assert (row["Low"], row["Middle"], row["High"]) == (low, middle, high)
    assert (overview.clients, overview.left_out) == (4, 1)


def test_the_weakest_dimension_most_often_comes_first_with_ties_counted_for_each(mini):
    overview = portfolio_overview(PORTFOLIO, mini)
    assert list(zip(overview.weakest["dimension"], overview.weakest["clients"], strict=True)) == [
        ("d2", 3), ("d1", 2)]


@pytest.mark.parametrize("done, expected", [
    ({1: (2, 4)}, (2, 4, 0.5)),
    ({1: (0, 3)}, (0, 3, 0.0)),
    ({}, (0, 0, None)),          # no plan saved: no share, not 0%
])
def test_the_share_of_plan_actions_done(done, expected):
    from assessment.history import plan_share

    row = plan_share(done, [1]).iloc[0]
    share = None if pd.isna(row["share"]) else row["share"]
    assert (row["done"], row["actions"], share) == expected
