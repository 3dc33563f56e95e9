"""The consultant's views at a consultancy's scale: 10,000 clients and 30,000 workshops on
PostgreSQL, seeded straight into the tables (COPY: clients, workshops, dimension_scores,
client_access, users), then timed through the store calls the pages make:

- the clients page: one page of clients (50), their workshops, the filter values;
- one client's history: history_frame (with its staleness check) + history() + plan_done;
- a comparison of 10 clients: latest_completed + compare();
- the portfolio overview over every client an admin sees (beyond the issue's three figures).

Each figure is the median of --runs runs, for a consultant with 500 clients and for an admin
who sees all 10,000; the issue asks each of the first three to stay under 1 s.

    .venv/bin/python bench/portfolio_bench.py                 # a throwaway local PostgreSQL
    .venv/bin/python bench/portfolio_bench.py --url postgresql+psycopg://...  # an empty database
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from assessment.history import compare, history, portfolio_overview  # noqa: E402
from assessment.questionnaire import load_shipped  # noqa: E402
from assessment.store import Store  # noqa: E402
from assessment.store.accounts import hash_password  # noqa: E402

SECTORS = ["Banking", "Utilities", "Retail", "Transport", "Public sector", "Health", "Telecoms"]
SIZES = ["1-50", "50-250", "250-1,000", "1,000-5,000", "5,000+"]
REGIONS = ["UK", "Nordics", "DACH", "Benelux", "Iberia", "North America"]


def seed(store: Store, n_clients: int, n_workshops: int, consultants: int) -> None:
    """Bulk rows through PostgreSQL's COPY; a fixed seed, so every run sees the same data."""
    rng = np.random.default_rng(12)
    q = store.questionnaires["commitment"]
    dims = [d.id for d in q.dimensions]
    stamp = datetime(2025, 11, 1, tzinfo=UTC)
    raw = store.engine.raw_connection()
    try:
        cur = raw.cursor()
        password = hash_password("bench password 1", n=2**10)
        with cur.copy("COPY users (id, username, username_key, password_hash, is_admin, "
                      "disabled, created_at, password_changed_at) FROM STDIN") as copy:
            copy.write_row((1, "admin", "admin", password, True, False, stamp, stamp))
            for u in range(consultants):
                copy.write_row((u + 2, f"c{u}", f"c{u}", password, False, False, stamp, stamp))
        with cur.copy("COPY clients (id, name, sector, size_band, region, is_demo, created_at) "
                      "FROM STDIN") as copy:
            for c in range(1, n_clients + 1):
                copy.write_row((c, f"Client {c:05d} {SECTORS[c % 7]} {REGIONS[c % 6]}",
                                SECTORS[c % 7], SIZES[c % 5], REGIONS[c % 6], False, stamp))
        with cur.copy("COPY client_access (client_id, user_id, created_at) FROM STDIN") as copy:
            for c in range(1, n_clients + 1):
                copy.write_row((c, 2 + (c - 1) % consultants, stamp))
        owner = rng.integers(1, n_clients + 1, n_workshops)
        owner[:n_clients] = np.arange(1, n_clients + 1)  # every client has at least one
        days = rng.integers(0, 4 * 365, n_workshops)
        imported = rng.random(n_workshops) < 0.3
        with cur.copy("COPY workshops (id, client_id, title, code, questionnaires, "
                      "facilitator_key_hash, answering_open, results_revealed, created_at, "
                      "closed_at, imported_on) FROM STDIN") as copy:
            for w in range(n_workshops):
                held = datetime(2022, 1, 1, tzinfo=UTC) + timedelta(days=int(days[w]))
                copy.write_row((w + 1, int(owner[w]), f"Workshop {w + 1}", f"b{w + 1:015d}",
                                "commitment", "x", False, True,
                                stamp if imported[w] else held, stamp if imported[w] else held,
                                held.date() if imported[w] else None))
        scores = np.clip(rng.normal(3.0, 0.7, (n_workshops, len(dims))), 1, 5)
        spread = rng.uniform(0.3, 1.2, (n_workshops, len(dims)))
        with cur.copy("COPY dimension_scores (workshop_id, questionnaire_id, "
                      "questionnaire_version, dimension_id, score, agreed_score, spread, "
                      "respondents, updated_at) FROM STDIN") as copy:
            for w in range(n_workshops):
                for j, d in enumerate(dims):
                    copy.write_row((w + 1, "commitment", q.version, d, float(scores[w, j]),
                                    None, float(spread[w, j]), 6, stamp))
                copy.write_row((w + 1, "commitment", q.version, "overall",
                                float(scores[w].mean()), None, None, 6, stamp))
        for table in ("users", "clients", "client_access", "workshops", "dimension_scores"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))")
            cur.execute(f"ANALYZE {table}")
        raw.commit()
    finally:
        raw.close()


def timed(fn, runs: int) -> tuple[float, object]:
    fn()  # warm: connection pool, compiled statements
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="an empty PostgreSQL database (default: a throwaway one)")
    parser.add_argument("--clients", type=int, default=10_000)
    parser.add_argument("--workshops", type=int, default=30_000)
    parser.add_argument("--consultants", type=int, default=20)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    server = None
    url = args.url
    if url is None:
        from pg import TempPostgres

        server = TempPostgres()
        url = server.start()
    try:
        shipped = load_shipped()
        store = Store(url, questionnaires=shipped)
        store.create_schema()
        start = time.perf_counter()
        seed(store, args.clients, args.workshops, args.consultants)
        print(f"seeded {args.clients:,} clients, {args.workshops:,} workshops, "
              f"{args.workshops * 6:,} cached scores in {time.perf_counter() - start:.1f} s")
        q = shipped["commitment"]
        admin = store.user("admin")
        consultant = store.user("c0")
        for who, user in (("consultant", consultant),
                          ("admin (all clients)", admin)):
            mine, total = store.client_page(user, limit=50)
            busiest = mine[0].id

            def clients_page(user=user):
                shown, _ = store.client_page(user, limit=50)
                store.workshops_by_client(user, [c.id for c in shown])
                store.client_facets(user)
                shown, _ = store.client_page(user, search="0042", sector="Banking", limit=50)

            def one_history(user=user, cid=busiest):
                client, entries, cached = store.history_frame(user, cid)
                history(entries, cached, q)
                store.plan_done(user, cid)

            ten = [c.id for c in mine[:10]]

            def ten_compared(user=user, ten=ten):
                found, latest, scores = store.latest_completed(user, ten, "commitment")
                return compare(found, latest, scores, q)

            def overview(user=user):
                return portfolio_overview(store.portfolio_latest(user, "commitment"), q)

            print(f"\n{who}: sees {total:,} clients")
            for name, fn in (("clients page (list, workshops, filters, a search)", clients_page),
                             ("one client's history", one_history),
                             ("10 clients side by side", ten_compared),
                             ("portfolio overview", overview)):
                seconds, result = timed(fn, args.runs)
                extra = f"  ({result.clients:,} clients counted)" if name.startswith(
                    "portfolio") else ""
                print(f"  {name:<52} {seconds * 1000:8.1f} ms median of {args.runs}{extra}")
        store.close()
    finally:
        if server is not None:
            server.stop()
    print(f"\n{date.today()}  load average {Path('/proc/loadavg').read_text().split()[:3]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
