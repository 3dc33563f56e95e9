"""A clearly labelled demo client with a finished workshop, so a newcomer sees real results."""

from __future__ import annotations

import numpy as np

from .model import Questionnaire
from .store import Store, Workshop

DEMO_CLIENT = "DEMO · Northwind Utilities (sample data)"
DEMO_TEAM = [
    ("Alex Morgan", "executive"), ("Priya Shah", "executive"), ("Tom Becker", "executive"),
    ("Sara Lind", "manager"), ("Jon Okafor", "manager"), ("Mia Torres", "frontline"),
]
# A believable team: a leadership that rates its own commitment higher than the rest of the
# organisation sees it, weak measurement, and real disagreement about trade-offs.
DEMO_CENTRES = {"purpose": 3.2, "leadership": 3.0, "people": 2.6, "measures": 2.0,
                "culture": 2.5, "insight": 2.3, "proposition": 3.1, "ease": 2.2,
                "tradeoffs": 2.4}
DEMO_GIVE_UP = [
    "Some short-term margin on the premium tariff.",
    "The annual product-launch calendar as the centre of planning.",
    "Internal convenience: opening hours that suit us, not customers.",
    "Pet projects in IT that no customer would notice.",
    "Volume targets for the sales team in the first half.",
    "Our habit of approving everything and finishing little.",
]
DEMO_STOP = [
    "Stop launching product bundles nobody asked for.",
    "Stop the quarterly cost-cutting sprints in the contact centre.",
    "Fewer internal reporting packs; one customer dashboard instead.",
    "Stop approving projects without a named customer outcome.",
    "Stop sending customers to three departments for one problem.",
    "Stop measuring call handling time as the main target.",
]


def create_demo(store: Store, questionnaires: dict[str, Questionnaire],
                read_only: bool = True) -> Workshop:
    """Create the demo client and its finished, revealed workshop; returns the workshop.

    The demo is read-only, so that no visitor can deface it; tests make a writable copy."""
    rng = np.random.default_rng(2024)
    client = store.create_client(DEMO_CLIENT, sector="Utilities", size_band="1,000-5,000",
                                 region="UK")
    workshop = store.create_workshop(client.id, "Leadership workshop (demo)",
                                     list(questionnaires))
    for i, (name, role) in enumerate(DEMO_TEAM):
        person, _ = store.join(workshop.code, name, role)
        # Executives see the organisation more kindly than those closer to customers.
        lean = {"executive": 0.5, "manager": 0.0, "frontline": -0.7}.get(role, 0.0)
        for q in questionnaires.values():
            rows = []
            for question in q.questions:
                if question.scored:
                    centre = DEMO_CENTRES.get(question.dimension, 3.0) + lean
                    value = int(np.clip(round(centre + rng.normal(0, 0.8)), q.scale.min,
                                        q.scale.max))
                    if question.reverse:
                        value = q.scale.min + q.scale.max - value
                    rows.append((question.id, "", str(value)))
                elif question.type == "allocation":
                    weights = rng.dirichlet(np.ones(len(question.options)) * 2)
                    points = np.floor(weights * question.total).astype(int)
                    points[int(np.argmax(points))] += question.total - int(points.sum())
                    rows.extend((question.id, o.id, str(p))
                                for o, p in zip(question.options, points, strict=True))
                elif question.type == "ranking":
                    order = rng.permutation(len(question.options))
                    rows.extend((question.id, o.id, str(int(r) + 1))
                                for o, r in zip(question.options, order, strict=True))
                elif question.type == "choice":
                    rows.append((question.id, "", question.options[
                        int(rng.integers(len(question.options)))].id))
                elif question.type == "text":
                    texts = DEMO_STOP if "stop" in question.id else DEMO_GIVE_UP
                    rows.append((question.id, "", texts[i % len(texts)]))
            store.save_answers(person.id, q.id, rows)
    store.set_answering_open(workshop.id, False)
    store.set_results_revealed(workshop.id, True)
    if read_only:
        store.mark_demo(client.id)  # last: from here on the demo is read-only
    return store.workshop(workshop.id)


def ensure_demo(store: Store, questionnaires: dict[str, Questionnaire]) -> Workshop | None:
    """Create the demo on an empty database only; returns it when created."""
    store.create_schema()
    if not store.is_empty():
        return None
    return create_demo(store, questionnaires)
