"""A consultant's own data across clients: benchmarks built from completed workshops."""

from __future__ import annotations

from datetime import date

from .benchmarks import OWN_DATA_SOURCE, Provenance, ScoreBenchmark, distribution
from .model import Questionnaire
from .store import Store

# The size bands (employees) a client is put in: one list for every page that sets it, so the
# filters and benchmarks never split one band into spellings ("1000-5000", "1,000-5,000").
SIZE_BANDS = ("1-249", "250-999", "1,000-5,000", "5,000+")


def build_benchmark(store: Store, questionnaire: Questionnaire, sector: str = "",
                    size_band: str = "", region: str = "", title: str = "",
                    bid: str = "") -> ScoreBenchmark:
    """A score distribution over the latest completed workshop of each matching client.

    Read from the per-workshop score cache (store.benchmark_scores): computed team scores
    (agreed scores are a team's decision, not a measurement), only workshops of this
    questionnaire version, the latest by the date held (an imported past assessment counts at
    its own date, never as newer than a later live workshop); the demo client never counts.
    Raises BenchmarkError when fewer than five organisations match.
    """
    scores: dict[str, list[float]] = {d.id: [] for d in questionnaire.dimensions}
    scores["overall"] = []
    store.fill_missing_scores()
    frame = store.benchmark_scores(questionnaire.id, str(questionnaire.version), sector,
                                   size_band, region)
    frame = frame[frame["dimension_id"].isin(list(scores)) & frame["score"].notna()]
    organisations = int(frame["workshop_id"].nunique())
    for dim, value in zip(frame["dimension_id"], frame["score"], strict=True):
        scores[dim].append(float(value))
    filters = [f"{name} {value}" for name, value in (("sector", sector), ("size band", size_band),
                                                     ("region", region)) if value]
    population = ("clients of this installation" + (f" ({', '.join(filters)})" if filters else "")
                  + ": the latest completed workshop of each")
    provenance = Provenance(
        title=title or f"Own clients: {questionnaire.title}",
        source=OWN_DATA_SOURCE, year=date.today().year, sample=organisations,
        sample_unit="organisations", population=population,
        method=("team dimension scores by this tool's scoring rules, one per organisation; "
                "percentiles by linear interpolation; figures rounded to 0.1"))
    return distribution(scores, organisations, questionnaire, provenance,
                        bid or f"own-{questionnaire.id}-{date.today():%Y%m%d}")
