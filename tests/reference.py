"""A slow, obvious scorer written straight from the README's rules, to check the fast one."""

from __future__ import annotations

import math
import statistics
from fractions import Fraction


def reference_score(rows, q) -> dict:
    """rows: (assessment, respondent, question, value or None); returns {(assessment, dim): dict}."""
    scored = {x.id: x for x in q.scored_questions}
    items = {d.id: [x for x in scored.values() if x.dimension == d.id] for d in q.dimensions}
    points = q.scale.max - q.scale.min + 1
    sigma_eu = (points**2 - 1) / 12
    out = {}
    for a in dict.fromkeys(r[0] for r in rows):
        mine = [r for r in rows if r[0] == a]
        present = list(dict.fromkeys(r[1] for r in mine))
        answers = {}  # (respondent, question) -> scored value
        raw = {}
        for _, who, qid, value in mine:
            if qid in scored and value is not None:
                v = float(value)
                raw[(who, qid)] = v
                answers[(who, qid)] = q.scale.min + q.scale.max - v if scored[qid].reverse else v
        counting_any = set()
        dim_scores = {}
        for d in q.dimensions:
            qs = items[d.id]
            people = []
            raters = set()
            for who in present:
                given = [(x, answers[(who, x.id)]) for x in qs if (who, x.id) in answers]
                if given:
                    raters.add(who)
                if given and len(given) >= 0.5 * len(qs):
                    people.append(exact_mean(given))
                    counting_any.add(who)
            score = float(sum(people) / len(people)) if people else math.nan
            people = [float(p) for p in people]
            sd = statistics.stdev(people) if len(people) >= 2 else math.nan
            n_answered = sum(1 for who in present for x in qs if (who, x.id) in answers)
            coverage = n_answered / (len(present) * len(qs))
            variances = []
            for x in qs:
                vals = [raw[(who, x.id)] for who in present if (who, x.id) in raw]
                if len(vals) >= 2:
                    variances.append(statistics.variance(vals))
            if len(raters) < 2 or not variances:
                agreement = math.nan
            else:
                s2 = statistics.fmean(variances)
                if s2 >= sigma_eu:
                    agreement = 0.0
                else:
                    j = len(qs)
                    t = j * (1 - s2 / sigma_eu)
                    agreement = t / (t + s2 / sigma_eu)
            out[(a, d.id)] = dict(score=score, respondents=len(people), sd=sd,
                                  agreement=agreement, coverage=coverage)
            dim_scores[d.id] = score
        all_items = list(scored.values())
        n_answered = sum(1 for who in present for x in all_items if (who, x.id) in answers)
        coverage = n_answered / (len(present) * len(all_items))
        if q.overall == "items":
            people = []
            for who in present:
                given = [(x, answers[(who, x.id)]) for x in all_items if (who, x.id) in answers]
                if given and len(given) >= 0.5 * len(all_items):
                    people.append(exact_mean(given))
            out[(a, "overall")] = dict(score=float(sum(people) / len(people)) if people else math.nan,
                                       respondents=len(people), coverage=coverage)
        else:
            have = [(Fraction(q.dimension(d).weight), Fraction(s)) for d, s in dim_scores.items()
                    if not math.isnan(s)]
            score = float(sum(w * s for w, s in have) / sum(w for w, _ in have)) if have else math.nan
            out[(a, "overall")] = dict(score=score, respondents=len(counting_any),
                                       coverage=coverage)
    return out


def exact_mean(given) -> Fraction:
    """Weighted mean in exact arithmetic: the reference has no rounding to argue about."""
    return (sum(Fraction(x.weight) * Fraction(v) for x, v in given)
            / sum(Fraction(x.weight) for x, _ in given))


def level_name(score: float, q) -> str:
    if math.isnan(score):
        return ""
    names = [lv.name for lv in q.levels if lv.threshold <= score + 1e-9]
    return names[-1] if names else ""
