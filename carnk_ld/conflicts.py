"""Conflicts across documents: one trial, one measure, two documents, different values.

Every document's report of a registered trial links to the trial's registry IRI (see
:mod:`carnk_ld.facts`). Two reports of one trial conflict on a measure when they give the
same outcome type at the same time point for the same patients (all, or one disease
subgroup, counted among the same analysis population) with a count, denominator or
percentage that differs. A value only one of them gives is no conflict (a summary may omit
a percentage), and a measure of one arm is compared with none, since each document names
its own arms.
Reports of different trials, or of none, never conflict: a later and larger cohort is a
different study, not a correction.
"""

from __future__ import annotations

import itertools
from typing import NamedTuple

from carnk_ld.facts import FactSet
from carnk_ld.licences import publishable_quote

CONFLICTS_HEADER = (
    "trial",
    "measure",
    "time_point",
    "subgroup",
    "among",
    "document_a",
    "value_a",
    "quote_a",
    "document_b",
    "value_b",
    "quote_b",
)


class Measure(NamedTuple):
    """One outcome measurement of a registered trial, as one document reports it (all text, for the cache)."""

    trial: str
    measure: str  # the outcome type's IRI
    time_point: str  # "30 day", "12 month (at least)" or ""
    subgroup: str  # the disease class of the patients counted, or "" for all
    among: str  # the analysis population of the denominator (treated, evaluable), or "" if unsaid
    document: str
    numerator: str
    denominator: str
    percentage: str
    value: str  # as a reader compares it: "7/11", "8/11 (73%)", "48.6%"
    quote: str


def measures_of(factset: FactSet) -> tuple[Measure, ...]:
    """The measurements of the document's reports of registered trials."""
    found = []
    for study in factset.studies:
        trial = study.trial_iri
        if trial is None:
            continue
        for outcome in study.outcomes:
            if outcome.arm is not None:  # arms are a document's own: one arm's measure matches no other's
                continue
            time = ""
            if outcome.time is not None:
                time = f"{outcome.time.value.normalize():f} {outcome.time.unit.rsplit('/', 1)[-1]}"
                if outcome.time.bound:
                    time += f" ({outcome.time.bound.rsplit('/', 1)[-1]})"
            found.append(
                Measure(
                    trial,
                    outcome.type_iri,
                    time,
                    outcome.subgroup or "",
                    outcome.population or "",
                    factset.document.doc_id,
                    "" if outcome.numerator is None else str(outcome.numerator),
                    "" if outcome.denominator is None else str(outcome.denominator),
                    "" if outcome.percentage is None else f"{outcome.percentage.normalize():f}",
                    outcome.value_text(),
                    outcome.quote if publishable_quote(outcome.quote, factset.metadata.licence) else "",
                )
            )
    return tuple(found)


def _differ(a: Measure, b: Measure) -> bool:
    pairs = ((a.numerator, b.numerator), (a.denominator, b.denominator), (a.percentage, b.percentage))
    return any(x and y and x != y for x, y in pairs)


def conflict_rows(measures: list[Measure]) -> list[tuple[str, ...]]:
    """Every pair of documents' measures of one trial, type and time point whose values differ, sorted."""
    groups: dict[tuple[str, str, str, str, str], list[Measure]] = {}
    for measure in measures:
        key = (measure.trial, measure.measure, measure.time_point, measure.subgroup, measure.among)
        groups.setdefault(key, []).append(measure)
    rows = []
    for group in groups.values():
        for a, b in itertools.combinations(sorted(group), 2):
            if a.document != b.document and _differ(a, b):
                rows.append(
                    (
                        a.trial,
                        a.measure,
                        a.time_point,
                        a.subgroup,
                        a.among,
                        a.document,
                        a.value,
                        a.quote,
                        b.document,
                        b.value,
                        b.quote,
                    )
                )
    return sorted(rows)


__all__ = ["CONFLICTS_HEADER", "Measure", "conflict_rows", "measures_of"]
