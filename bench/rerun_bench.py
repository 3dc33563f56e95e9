"""Benchmark: how long a rerun of each facilitator page takes on the demo workshop.

Prints figures; asserts nothing. Run: .venv/bin/python bench/rerun_bench.py
Measures Streamlit's AppTest reruns (the script's own work, without the browser): the first
run of a page (cold caches) and the median of later reruns (what every click costs).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))



def sign_in(at, store, workshop_id: int) -> None:
    """A signed-in admin (who sees every client) with the workshop opened, as the Facilitator
    page leaves a session; the account is made once, with a cheap scrypt cost."""
    from app_pages.common import OPEN_KEY, SESSION_KEY
    from assessment.store import StoreError

    try:
        user = store.user("bench")
    except StoreError:
        store.scrypt_n = 2**4
        user = store.add_user("bench", "bench password", admin=True)
    at.session_state[SESSION_KEY] = store.start_session(user)
    at.session_state[OPEN_KEY] = workshop_id

def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.db"
        from streamlit.testing.v1 import AppTest

        from assessment.demo import ensure_demo
        from assessment.questionnaire import load_shipped
        from assessment.store import Store

        store = Store(os.environ["DATABASE_URL"])
        workshop = ensure_demo(store, load_shipped())
        for page in ("app_pages/facilitator.py", "app_pages/results.py", "app_pages/plan.py"):
            at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
            sign_in(at, store, workshop.id)
            at.run()
            started = time.perf_counter()
            at.switch_page(page).run()
            first = time.perf_counter() - started
            later = []
            for _ in range(5):
                started = time.perf_counter()
                at.run()
                later.append(time.perf_counter() - started)
            rerun = statistics.median(later)
            print(f"{page:28s} first run {first * 1000:6.0f} ms   rerun {rerun * 1000:6.0f} ms"
                  f"   ratio {first / rerun:4.1f}")
        store.close()


if __name__ == "__main__":
    main()
