"""Benchmarks that state their source, and honest comparison of team scores against them.

Two kinds of benchmark file live in `benchmarks/*.yaml`:

- `scores`: a distribution of scores on one of our questionnaires (id and version), per
  dimension: n, mean, sd and the 10th, 25th, 50th, 75th and 90th percentiles;
- `stages`: how another maturity model's published survey spread firms over its own stages.
  These are context only: never converted into our scores, never compared with them.

Every file carries its provenance: title, source, year, sample size and unit, population and
method. A score distribution behind fewer than MIN_ORGANISATIONS organisations is refused.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from .model import Questionnaire
from .questionnaire import PROJECT_ROOT, Checker
from .yamlsafe import DataFileError, LineDict, Problem, read_yaml

BENCHMARK_DIR = PROJECT_ROOT / "benchmarks"
MIN_ORGANISATIONS = 5
PERCENTILES = (10, 25, 50, 75, 90)
STAT_FIELDS = ("n", "mean", "sd", "p10", "p25", "p50", "p75", "p90")
SYNTHETIC_LABEL = "synthetic: illustration only"
OWN_DATA_SOURCE = "built from this installation's own assessments"

COMMON_FIELDS = {"id", "kind", "title", "source", "year", "sample", "sample_unit", "population",
                 "method", "synthetic", "notes"}
SCORE_FIELDS = COMMON_FIELDS | {"questionnaire", "questionnaire_version", "dimensions"}
STAGE_FIELDS = COMMON_FIELDS | {"model", "stages"}
DIMENSION_STAT_FIELDS = {"dimension", *STAT_FIELDS}
STAGE_ITEM_FIELDS = {"name", "percent", "note"}


class BenchmarkError(Exception):
    """A comparison that would mislead, refused with the reason."""


@dataclass(frozen=True)
class Provenance:
    """Where a benchmark comes from, stated wherever its figures appear."""

    title: str
    source: str
    year: int
    sample: int
    sample_unit: str
    population: str
    method: str
    synthetic: bool = False
    notes: str = ""

    def line(self) -> str:
        """One line to print under every benchmark figure."""
        text = (f"{self.title}. Source: {self.source} ({self.year}); n = {self.sample:,} "
                f"{self.sample_unit}; population: {self.population}; method: {self.method}")
        if self.notes:
            text += f"; {self.notes}"
        return f"[{SYNTHETIC_LABEL.upper()}] {text}" if self.synthetic else text


@dataclass(frozen=True)
class DimensionStats:
    dimension: str
    n: int
    mean: float
    sd: float
    p10: float
    p25: float
    p50: float
    p75: float
    p90: float

    @property
    def percentiles(self) -> tuple[float, ...]:
        return (self.p10, self.p25, self.p50, self.p75, self.p90)


@dataclass(frozen=True)
class ScoreBenchmark:
    """A distribution of scores on one questionnaire version, per dimension."""

    id: str
    provenance: Provenance
    questionnaire: str
    questionnaire_version: str
    dimensions: tuple[DimensionStats, ...]
    path: Path | None = None
    kind: str = "scores"

    def stats(self, dimension: str) -> DimensionStats | None:
        return next((d for d in self.dimensions if d.dimension == dimension), None)


@dataclass(frozen=True)
class Stage:
    name: str
    percent: float | None
    note: str = ""


@dataclass(frozen=True)
class StageBenchmark:
    """Another maturity model's published distribution of firms over its stages: context only."""

    id: str
    provenance: Provenance
    model: str
    stages: tuple[Stage, ...]
    path: Path | None = None
    kind: str = "stages"


Benchmark = ScoreBenchmark | StageBenchmark


def is_benchmark_file(raw) -> bool:
    return isinstance(raw, LineDict) and "kind" in raw


def load_benchmark(path: Path | str, shown: str | None = None,
                   questionnaires: dict[str, Questionnaire] | None = None) -> Benchmark:
    """Load and validate one benchmark file, or raise DataFileError listing every problem."""
    shown = shown or str(path)
    return build_benchmark(read_yaml(path, shown), shown, Path(path), questionnaires)


def build_benchmark(raw, shown: str, path: Path | None = None,
                    questionnaires: dict[str, Questionnaire] | None = None) -> Benchmark:
    c = Checker(shown)
    if not isinstance(raw, LineDict):
        raise DataFileError([Problem(shown, 1, "a benchmark must be a mapping of fields")])
    kind = raw.get("kind")
    if kind not in ("scores", "stages"):
        raise DataFileError([Problem(shown, raw.line_of("kind"),
                                     f"kind must be 'scores' or 'stages', not {kind!r}")])
    required = {"id", "kind", "title", "source", "year", "sample", "sample_unit", "population",
                "method"}
    if kind == "scores":
        top = c.mapping(raw, 1, "the benchmark", SCORE_FIELDS,
                        required | {"questionnaire", "questionnaire_version", "dimensions"})
    else:
        top = c.mapping(raw, 1, "the benchmark", STAGE_FIELDS, required | {"model", "stages"})
    provenance = _provenance(c, top)
    bid = c.ident(top, "id", "id")
    if kind == "scores":
        result = _scores(c, top, bid, provenance, path, questionnaires)
    else:
        result = _stages(c, top, bid, provenance, path)
    if c.problems:
        raise DataFileError(c.problems)
    return result


def _provenance(c: Checker, top: LineDict) -> Provenance:
    year = c.number(top, "year", "year", whole=True)
    if year is not None and not 1950 <= year <= date.today().year:
        c.add(top.line_of("year"), f"year {year} is not a plausible publication year")
    sample = c.number(top, "sample", "sample", whole=True)
    if sample is not None and sample < 1:
        c.add(top.line_of("sample"), "sample must be at least 1")
    return Provenance(
        title=c.text(top, "title", "title"), source=c.text(top, "source", "source"),
        year=year or 0, sample=sample or 0, sample_unit=c.text(top, "sample_unit", "sample_unit"),
        population=c.text(top, "population", "population"), method=c.text(top, "method", "method"),
        synthetic=c.flag(top, "synthetic", "synthetic"),
        notes=c.text(top, "notes", "notes", default=""),
    )


def _scores(c: Checker, top: LineDict, bid: str, provenance: Provenance, path,
            questionnaires) -> ScoreBenchmark:
    qid = c.ident(top, "questionnaire", "questionnaire")
    version = c.text(top, "questionnaire_version", "questionnaire_version")
    if provenance.synthetic and SYNTHETIC_LABEL not in provenance.source.lower():
        c.add(top.line_of("source"), f"a synthetic benchmark's source must say "
                                     f"'{SYNTHETIC_LABEL}'")
    if provenance.sample_unit and provenance.sample_unit != "organisations":
        c.add(top.line_of("sample_unit"), "a score distribution counts organisations "
                                          "(sample_unit: organisations)")
    if provenance.sample and provenance.sample < MIN_ORGANISATIONS:
        c.add(top.line_of("sample"), f"a score distribution needs at least {MIN_ORGANISATIONS} "
                                     f"organisations; this one has {provenance.sample}")
    questionnaire = (questionnaires or {}).get(qid)
    if questionnaire is not None and version and questionnaire.version != version:
        questionnaire = None  # the dimensions of another version cannot be checked against
    scale = (questionnaire.scale.min, questionnaire.scale.max) if questionnaire else None
    known = {d.id for d in questionnaire.dimensions} | {"overall"} if questionnaire else None
    raw = c.sequence(top, "dimensions", "dimensions")
    out, seen = [], []
    for i, item in enumerate(raw):
        entry = c.mapping(item, raw.line_of(i), f"dimension entry {i + 1}",
                          DIMENSION_STAT_FIELDS, DIMENSION_STAT_FIELDS)
        if entry is None:
            continue
        did = c.ident(entry, "dimension", "dimension")
        seen.append((did, entry.line_of("dimension")))
        if known is not None and did and did not in known:
            c.add(entry.line_of("dimension"), f"dimension {did!r} is not in questionnaire "
                                              f"{qid!r} version {version}")
        values = {k: c.number(entry, k, f"{k} of {did!r}", whole=(k == "n")) for k in STAT_FIELDS}
        if any(v is None for v in values.values()):
            continue
        line = entry.line
        if values["n"] < 1 or values["n"] > (provenance.sample or values["n"]):
            c.add(entry.line_of("n"), f"n of {did!r} must be between 1 and the sample "
                                      f"({provenance.sample})")
        if values["sd"] < 0:
            c.add(entry.line_of("sd"), f"sd of {did!r} must not be negative")
        ps = [values[f"p{p}"] for p in PERCENTILES]
        if any(b < a for a, b in zip(ps, ps[1:], strict=False)):
            c.add(line, f"percentiles of {did!r} must not decrease from p10 to p90: {ps}")
        if scale and not all(scale[0] <= v <= scale[1] for v in [*ps, values["mean"]]):
            c.add(line, f"figures of {did!r} must lie on the questionnaire's scale "
                        f"{scale[0]}..{scale[1]}")
        out.append(DimensionStats(did, int(values["n"]), *(float(values[k]) for k in
                                                         STAT_FIELDS[1:])))
    c.unique(seen, "dimension")
    return ScoreBenchmark(bid, provenance, qid, version, tuple(out), path)


def _stages(c: Checker, top: LineDict, bid: str, provenance: Provenance, path) -> StageBenchmark:
    raw = c.sequence(top, "stages", "stages", min_items=2)
    stages, names = [], []
    for i, item in enumerate(raw):
        entry = c.mapping(item, raw.line_of(i), f"stage {i + 1}", STAGE_ITEM_FIELDS,
                          {"name", "percent"})
        if entry is None:
            continue
        name = c.text(entry, "name", "stage name")
        names.append((name, entry.line_of("name")))
        note = c.text(entry, "note", "note", default="")
        if entry.get("percent") is None:
            if not note:
                c.add(entry.line_of("percent"), f"stage {name!r} has no percent: say why in "
                                                f"a note (e.g. not reported in the source)")
            stages.append(Stage(name, None, note))
            continue
        percent = c.number(entry, "percent", f"percent of {name!r}")
        if percent is not None and not 0 <= percent <= 100:
            c.add(entry.line_of("percent"), f"percent of {name!r} must be between 0 and 100")
        stages.append(Stage(name, percent, note))
    c.unique(names, "stage name")
    total = sum(s.percent or 0 for s in stages)
    if total > 100.5:
        c.add(top.line_of("stages"), f"the stage percentages add up to {total:g}, over 100")
    return StageBenchmark(bid, provenance, c.text(top, "model", "model"), tuple(stages), path)


def shipped_benchmark_paths() -> list[Path]:
    return sorted(BENCHMARK_DIR.glob("*.yaml"))


def load_shipped_benchmarks(questionnaires: dict[str, Questionnaire] | None = None
                            ) -> dict[str, Benchmark]:
    """Every shipped benchmark by id."""
    out: dict[str, Benchmark] = {}
    for path in shipped_benchmark_paths():
        b = load_benchmark(path, questionnaires=questionnaires)
        if b.id in out:
            raise DataFileError([Problem(str(path), 1, f"benchmark id {b.id!r} is also used by "
                                                       f"{out[b.id].path}")])
        out[b.id] = b
    return out


def find_benchmark(name: str, questionnaires: dict[str, Questionnaire] | None = None) -> Benchmark:
    """A benchmark by path or by the id of a shipped one."""
    path = Path(name)
    if path.exists():
        return load_benchmark(path, questionnaires=questionnaires)
    shipped = load_shipped_benchmarks(questionnaires)
    if name in shipped:
        return shipped[name]
    raise DataFileError([Problem(name, 1, f"no such file or shipped benchmark (shipped: "
                                          f"{', '.join(shipped) or 'none'})")])


# ---------------------------------------------------------------- comparison

def percentile_rank(scores, stats: DimensionStats, scale_min: float, scale_max: float):
    """Where scores fall in the distribution, 0-100, by linear interpolation.

    Between the published percentiles the rank is interpolated linearly; below the 10th it runs
    linearly from 0 at the bottom of the scale, above the 90th to 100 at its top. Tied
    percentiles (a flat stretch) give the middle of the tie.
    """
    xs = np.array([scale_min, *stats.percentiles, scale_max], dtype=float)
    ys = np.array([0, *PERCENTILES, 100], dtype=float)
    scores = np.asarray(scores, dtype=float)
    # np.interp needs increasing xs; for ties take the mean of the ranks they share.
    unique_x, inverse = np.unique(xs, return_inverse=True)
    unique_y = np.bincount(inverse, ys) / np.bincount(inverse)
    if len(unique_x) == 1:
        return np.where(np.isnan(scores), np.nan, 50.0)
    return np.where(np.isnan(scores), np.nan, np.interp(scores, unique_x, unique_y))


def quartile_band(score: float, stats: DimensionStats) -> str:
    if score is None or math.isnan(score):
        return ""
    if score >= stats.p75:
        return "top quartile"
    if score >= stats.p50:
        return "above median"
    if score >= stats.p25:
        return "below median"
    return "bottom quartile"


def check_comparable(benchmark: Benchmark, questionnaire: Questionnaire) -> ScoreBenchmark:
    """Refuse comparisons that would mislead: other models, questionnaires or versions."""
    if isinstance(benchmark, StageBenchmark):
        raise BenchmarkError(
            f"benchmark {benchmark.id!r} is a published stage distribution of another model "
            f"({benchmark.model}); it is context only and cannot be compared with scores")
    if (benchmark.questionnaire, benchmark.questionnaire_version) != (questionnaire.id,
                                                                       questionnaire.version):
        raise BenchmarkError(
            f"benchmark {benchmark.id!r} is for questionnaire {benchmark.questionnaire!r} "
            f"version {benchmark.questionnaire_version}; these scores are for "
            f"{questionnaire.id!r} version {questionnaire.version}: not comparable")
    return benchmark


def compare(scores: pd.DataFrame, benchmark: Benchmark, questionnaire: Questionnaire
            ) -> pd.DataFrame:
    """Per scored row: percentile rank, quartile band, median, p75 and the gaps to them."""
    benchmark = check_comparable(benchmark, questionnaire)
    out = scores.copy()
    columns = {k: [] for k in ("benchmark_percentile", "benchmark_band", "benchmark_median",
                               "benchmark_p75", "gap_to_median", "gap_to_p75", "benchmark_n")}
    for dim, value in zip(out["dimension"], out["score"], strict=True):
        stats = benchmark.stats(dim)
        if stats is None:
            for k in columns:
                columns[k].append("" if k == "benchmark_band" else np.nan)
            continue
        columns["benchmark_percentile"].append(float(percentile_rank(
            value, stats, questionnaire.scale.min, questionnaire.scale.max)))
        columns["benchmark_band"].append(quartile_band(value, stats))
        columns["benchmark_median"].append(stats.p50)
        columns["benchmark_p75"].append(stats.p75)
        columns["gap_to_median"].append(value - stats.p50)
        columns["gap_to_p75"].append(value - stats.p75)
        columns["benchmark_n"].append(stats.n)
    for k, v in columns.items():
        out[k] = v
    return out


# ---------------------------------------------------------------- building from own data

def distribution(values_by_dimension: dict[str, list[float]], organisations: int,
                 questionnaire: Questionnaire, provenance: Provenance, bid: str) -> ScoreBenchmark:
    """Summarise organisations' scores; refused below MIN_ORGANISATIONS.

    Figures are rounded to one decimal so that no organisation's exact score can be read back
    from a small group; only counts and summaries leave, never names or ids.
    """
    if organisations < MIN_ORGANISATIONS:
        raise BenchmarkError(f"only {organisations} organisation(s) match; a benchmark needs at "
                             f"least {MIN_ORGANISATIONS}, so none is built")
    stats = []
    for dim, values in values_by_dimension.items():
        values = np.asarray([v for v in values if not math.isnan(v)], dtype=float)
        if len(values) < MIN_ORGANISATIONS:
            continue  # too few for this dimension: left out rather than shown thin
        ps = np.percentile(values, PERCENTILES)
        stats.append(DimensionStats(dim, len(values), round(float(values.mean()), 1),
                                    round(float(values.std(ddof=1)), 1),
                                    *(round(float(p), 1) for p in ps)))
    return ScoreBenchmark(bid, provenance, questionnaire.id, questionnaire.version, tuple(stats))


def to_yaml(benchmark: ScoreBenchmark) -> str:
    p = benchmark.provenance
    data = {
        "id": benchmark.id, "kind": "scores", "title": p.title, "source": p.source,
        "year": p.year, "sample": p.sample, "sample_unit": p.sample_unit,
        "population": p.population, "method": p.method,
        "questionnaire": benchmark.questionnaire,
        "questionnaire_version": benchmark.questionnaire_version,
        "dimensions": [{"dimension": d.dimension, "n": d.n, "mean": d.mean, "sd": d.sd,
                        **{f"p{q}": v for q, v in zip(PERCENTILES, d.percentiles, strict=True)}}
                       for d in benchmark.dimensions],
    }
    if p.synthetic:
        data["synthetic"] = True
    if p.notes:
        data["notes"] = p.notes
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
