"""A client's scores over time, clients side by side, and the portfolio at a glance.

Pure functions over the per-workshop score cache (store.portfolio.SCORE_FRAME columns); the
store decides who may see what. Rules (the README repeats them):

1. The score shown for a workshop and dimension is the team's agreed score where one was
   recorded, else the computed team score.
2. The change is the shown score minus the shown score of the client's previous completed
   workshop (closed or imported; by the date it was held) with a score for that dimension, on
   the same questionnaire version. Across versions no change is computed (the note says why).
3. Noise: the pooled standard deviation of the two workshops' per-person dimension scores,
   sqrt(((n1 - 1) s1^2 + (n2 - 1) s2^2) / (n1 + n2 - 2)), s being each workshop's spread
   (the sample SD of its respondents' dimension scores) and n its respondents. A change is
   "within noise" when |change| < that SD: a smaller move is within how much the team's own
   members differ from each other. Unknown (blank) when n1 + n2 - 2 < 1 or no spread is known.
4. The arrow: ↑ for a rise, ↓ for a fall, → for no change.
5. Clients side by side use each client's latest completed workshop with the questionnaire;
   all must have answered the same questionnaire version, else the comparison is refused. The
   demo client never counts in comparisons or the portfolio overview.
6. Portfolio overview: per dimension, how many clients' latest completed workshop stands at
   each level (by the shown score), and per dimension how many clients have it as their weakest
   (lowest shown score among the dimensions; a tie counts for each tied dimension).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .model import Questionnaire
from .scoring import OVERALL, level_names
from .text import name_key

MIN_COMPARED, MAX_COMPARED = 2, 10
UP, DOWN, SAME = "↑", "↓", "→"
HISTORY_COLUMNS = ["workshop_id", "held_on", "status", "title", "version", "dimension", "name",
                   "score", "computed", "agreed", "spread", "respondents", "level", "previous",
                   "change", "arrow", "noise", "within_noise", "note"]


class ComparisonRefused(ValueError):
    """Clients that cannot be put side by side; the message says why."""

    def __init__(self, reason: str, clients: tuple[str, ...] = ()):
        super().__init__(reason)
        self.reason, self.clients = reason, clients


@dataclass(frozen=True)
class ClientInfo:
    """What the views need of a client (store.Client fits)."""

    id: int
    name: str
    is_demo: bool = False


def client_labels(names: dict[int, str]) -> dict[int, str]:
    """Client id -> the name as pickers, tables and charts show it, every label different:
    clients whose names look the same (text.name_key: case, look-alike letters) get their id
    added, "Acme (#12)". Streamlit tells a selectbox's or multiselect's options apart by their
    label, so two clients called "Acme" would otherwise be one option (only one of them could be
    opened, compared or given to a colleague), and a chart would draw them as one."""
    labels = dict(names)
    for _ in range(3):  # a name typed as "Acme (#12)" may meet a label made here
        seen = Counter(name_key(label) for label in labels.values())
        alike = [i for i, label in labels.items() if seen[name_key(label)] > 1]
        if not alike:
            break
        for i in alike:
            labels[i] = f"{labels[i]} (#{i})"
    return labels


def shown_score(computed, agreed):
    """Rule 1: the agreed score where there is one, else the computed score."""
    computed = np.asarray(computed, dtype=float)
    agreed = np.asarray(agreed, dtype=float)
    return np.where(np.isnan(agreed), computed, agreed)


def pooled_sd(s1, n1, s2, n2) -> float | None:
    """Rule 3: the pooled SD of two workshops' per-person scores; None when unknown."""
    n1, n2 = int(n1 or 0), int(n2 or 0)
    if n1 + n2 - 2 < 1:
        return None
    terms = []
    for s, n in ((s1, n1), (s2, n2)):
        if n >= 2:
            if s is None or (isinstance(s, float) and math.isnan(s)):
                return None
            terms.append((n - 1) * float(s) ** 2)
    if not terms:
        return None
    return math.sqrt(sum(terms) / (n1 + n2 - 2))


def arrow(change: float | None) -> str:
    """Rule 4."""
    if change is None or (isinstance(change, float) and math.isnan(change)):
        return ""
    return UP if change > 0 else DOWN if change < 0 else SAME


def within_noise(change: float | None, noise: float | None) -> bool | None:
    """Rule 3: |change| < noise; None when either is unknown."""
    if change is None or noise is None or math.isnan(change):
        return None
    return abs(change) < noise


def history(entries, scores: pd.DataFrame, questionnaire: Questionnaire) -> pd.DataFrame:
    """One row per completed workshop (oldest first) and dimension (then overall) of one
    questionnaire: the shown score, its level, the change since the previous workshop with its
    arrow, the noise and whether the change is within it (HISTORY_COLUMNS).

    `entries` are the client's workshops (store.portfolio.WorkshopEntry, any order); `scores`
    the cached rows of those workshops."""
    mine = scores[scores["questionnaire_id"] == questionnaire.id]
    done = sorted((e for e in entries if e.status != "open"
                   and e.id in set(mine["workshop_id"])), key=lambda e: (e.held_on, e.id))
    names = {d.id: d.name for d in questionnaire.dimensions} | {OVERALL: "Overall"}
    order = [d.id for d in questionnaire.dimensions] + [OVERALL]
    rows = []
    last: dict[str, dict] = {}  # per dimension: the previous workshop's row
    for entry in done:
        cached = mine[mine["workshop_id"] == entry.id].set_index("dimension_id")
        dims = [d for d in order if d in cached.index] + sorted(
            d for d in cached.index if d not in order)
        for dim in dims:
            row = cached.loc[dim]
            computed = _float(row["score"])
            agreed = _float(row["agreed_score"])
            value = agreed if agreed is not None else computed
            if value is None:
                continue
            version = str(row["questionnaire_version"])
            record = dict(workshop_id=entry.id, held_on=entry.held_on, status=entry.status,
                          title=entry.title, version=version, dimension=dim,
                          name=names.get(dim, dim), score=value, computed=computed,
                          agreed=agreed, spread=_float(row["spread"]),
                          respondents=int(row["respondents"]), previous=None, change=None,
                          arrow="", noise=None, within_noise=None, note="")
            before = last.get(dim)
            if before is not None and before["version"] != version:
                record["note"] = (f"questionnaire version {before['version']} then {version}: "
                                  f"not compared")
            elif before is not None:
                change = value - before["score"]
                noise = pooled_sd(before["spread"], before["respondents"], record["spread"],
                                  record["respondents"])
                record.update(previous=before["score"], change=change, arrow=arrow(change),
                              noise=noise, within_noise=within_noise(change, noise))
            last[dim] = record
            rows.append(record)
    out = pd.DataFrame(rows, columns=HISTORY_COLUMNS)
    same = out["version"] == str(questionnaire.version)
    levels = level_names(out["score"].to_numpy(dtype=float), questionnaire) if len(out) \
        else np.array([], dtype=object)
    out["level"] = np.where(same, levels, "")  # levels of another version are not known
    return out


def plan_share(done: dict[int, tuple[int, int]], workshop_ids) -> pd.DataFrame:
    """Share of plan actions done per workshop (done / counted; blank without a saved plan)."""
    rows = []
    for wid in workshop_ids:
        d, n = done.get(wid, (0, 0))
        rows.append(dict(workshop_id=wid, done=d, actions=n, share=d / n if n else None))
    return pd.DataFrame(rows, columns=["workshop_id", "done", "actions", "share"])


def _float(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


@dataclass(frozen=True)
class Comparison:
    """Clients side by side: one row per client, one column per dimension (and overall)."""

    questionnaire_id: str
    version: str
    table: pd.DataFrame      # client, held_on, workshop_id, then one column per dimension id
    dimensions: tuple[str, ...]
    names: dict[str, str]

    def heatmap(self) -> pd.DataFrame:
        """The heatmap's values: client, dimension (name), score, in table order."""
        long = self.table.melt(id_vars=["client"], value_vars=list(self.dimensions),
                               var_name="dimension_id", value_name="score")
        long["dimension"] = long["dimension_id"].map(self.names)
        return long[["client", "dimension_id", "dimension", "score"]]


def compare(clients: dict, latest: dict, scores: pd.DataFrame,
            questionnaire: Questionnaire) -> Comparison:
    """Rule 5. `clients` id -> client (ClientInfo or store.Client), `latest` id -> the latest
    completed workshop entry with this questionnaire, `scores` those workshops' cached rows.
    ComparisonRefused, with the reason, when fewer than 2 or more than 10 clients, a demo
    client, a client without a completed workshop, or more than one questionnaire version."""
    if not MIN_COMPARED <= len(clients) <= MAX_COMPARED:
        raise ComparisonRefused(f"pick {MIN_COMPARED} to {MAX_COMPARED} clients to compare "
                                f"({len(clients)} picked)")
    demo = tuple(c.name for c in clients.values() if c.is_demo)
    if demo:
        raise ComparisonRefused("the demo client never counts in comparisons (invented data)",
                                demo)
    missing = tuple(c.name for cid, c in clients.items() if cid not in latest)
    if missing:
        raise ComparisonRefused(f"no completed workshop with the questionnaire "
                                f"{questionnaire.title!r} for: {', '.join(missing)}", missing)
    mine = scores[scores["questionnaire_id"] == questionnaire.id]
    version_of = {int(w): str(v) for w, v in zip(mine["workshop_id"],
                                                  mine["questionnaire_version"], strict=True)}
    versions: dict[str, list[str]] = {}
    for cid, client in clients.items():
        versions.setdefault(version_of.get(latest[cid].id, "?"), []).append(client.name)
    if len(versions) > 1:
        said = "; ".join(f"version {v}: {', '.join(names)}" for v, names in sorted(
            versions.items()))
        raise ComparisonRefused(
            f"the clients' latest workshops answered different versions of "
            f"{questionnaire.title!r} ({said}); scores of different versions are not "
            f"comparable", tuple(n for names in versions.values() for n in names))
    version = next(iter(versions))
    known = [d.id for d in questionnaire.dimensions]
    present = set(mine["dimension_id"])
    dims = tuple([d for d in known if d in present] + sorted(present - set(known) - {OVERALL})
                 + ([OVERALL] if OVERALL in present else []))
    names = {d.id: d.name for d in questionnaire.dimensions} | {OVERALL: "Overall"}
    names = {d: names.get(d, d) for d in dims}
    values = mine.assign(shown=shown_score(mine["score"], mine["agreed_score"]))
    grid = values.pivot_table(index="workshop_id", columns="dimension_id", values="shown",
                              aggfunc="first", dropna=False)
    rows = []
    labels = client_labels({cid: client.name for cid, client in clients.items()})
    for cid in clients:
        entry = latest[cid]
        row = {"client": labels[cid], "client_id": cid, "held_on": entry.held_on,
               "workshop_id": entry.id}
        for d in dims:
            value = grid.at[entry.id, d] if entry.id in grid.index and d in grid.columns \
                else np.nan
            row[d] = float(value) if pd.notna(value) else np.nan
        rows.append(row)
    table = pd.DataFrame(rows, columns=["client", "client_id", "held_on", "workshop_id",
                                        *dims])
    return Comparison(questionnaire.id, version, table, dims, names)


@dataclass(frozen=True)
class Overview:
    """Rule 6 over a consultant's clients."""

    clients: int                 # clients counted
    left_out: int                # clients whose latest workshop answered another version
    levels: pd.DataFrame         # dimension, name, then one column per level name: counts
    weakest: pd.DataFrame        # dimension, name, clients (weakest there), most often first


def portfolio_overview(frame: pd.DataFrame, questionnaire: Questionnaire) -> Overview:
    """Rule 6. `frame`: client_id plus the cached rows of each client's latest completed
    workshop with this questionnaire (store.portfolio_latest); rows of another version are
    left out (counted in `left_out`)."""
    level_list = [lv.name for lv in questionnaire.levels]
    dims = [d.id for d in questionnaire.dimensions]
    names = {d.id: d.name for d in questionnaire.dimensions}
    frame = frame[frame["dimension_id"].isin(dims)]
    same = frame["questionnaire_version"].astype(str) == str(questionnaire.version)
    left_out = frame.loc[~same, "client_id"].nunique()
    frame = frame[same]
    shown = shown_score(frame["score"], frame["agreed_score"])
    frame = frame.assign(shown=shown, level=level_names(shown, questionnaire))
    frame = frame[~np.isnan(shown)]
    counts = pd.crosstab(frame["dimension_id"], frame["level"]).reindex(
        index=dims, columns=level_list, fill_value=0)
    levels = counts.reset_index().rename(columns={"dimension_id": "dimension"})
    levels.insert(1, "name", levels["dimension"].map(names))
    lowest = frame.groupby("client_id")["shown"].transform("min")
    weak = frame[frame["shown"] <= lowest + 1e-9]["dimension_id"].value_counts()
    weakest = pd.DataFrame({"dimension": dims, "name": [names[d] for d in dims],
                            "clients": [int(weak.get(d, 0)) for d in dims]})
    weakest = weakest.sort_values("clients", ascending=False, kind="stable").reset_index(
        drop=True)
    return Overview(int(frame["client_id"].nunique()), int(left_out), levels, weakest)
