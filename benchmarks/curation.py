"""How much of the curators' work `annotate` and `suggest` anticipate, document by document.

Usage: python benchmarks/curation.py [--root DIR] [--out benchmarks/RESULTS.md]

Leave one document out: for each curated document of the corpus, its facts file is set aside,
the document is annotated and facts are suggested for all of its segments, and the result
is compared with what the curator wrote. The ontology and mappings stay as they are (a
curator adds the terms a document needs with `carnk-ld add-term` before or while curating
it), so mention recall measures the matcher, not the vocabulary's coverage.

- Mentions: a curated fact *uses* its subject and object in its segment (compared_to too).
  Recall: the share of (segment, term) uses that a mention of the term in that segment
  finds; precision: the share of (segment, term) mentions that a curated fact of the
  segment uses.
- Cues: for each curated fact whose object (else subject) is mentioned inside its quote,
  the polarity, modality and frequency the cues on that mention give (as ``suggest`` reads
  them) against the curated ones. Accuracy: the share of such facts where all three agree;
  negation accuracy: where the polarity does.
- Suggested facts: (segment, subject, predicate, object, polarity) tuples of the
  suggestions against the curated facts'. Precision and recall.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from carnk_ld.annotate import Lexicon, annotate  # noqa: E402
from carnk_ld.constants import BASE, DOCUMENTS_DIR, FACTS_DIR, KG, MAPPINGS_DIR, MAPPINGS_FILE  # noqa: E402
from carnk_ld.documents import read_document  # noqa: E402
from carnk_ld.facts import VALUE_CLASSES, Fact, FactSet, load_facts  # noqa: E402
from carnk_ld.mappings import load_mappings  # noqa: E402
from carnk_ld.ontology import Ontology, load_ontology  # noqa: E402
from carnk_ld.suggest import qualifiers, suggest  # noqa: E402


@dataclass
class Counts:
    used: int = 0
    found_uses: int = 0
    mentions: int = 0
    useful_mentions: int = 0
    cue_facts: int = 0
    cue_agree: int = 0
    negation_agree: int = 0
    suggested: int = 0
    curated: int = 0
    right: int = 0
    seconds: float = 0.0
    misses: list[str] = field(default_factory=list)

    def add(self, other: Counts) -> None:
        for name in ("used", "found_uses", "mentions", "useful_mentions", "cue_facts", "cue_agree", "negation_agree"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("suggested", "curated", "right", "seconds"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def ratio(part: int, whole: int) -> str:
    return f"{part / whole:.2f} ({part}/{whole})" if whole else "n/a"


def is_term(iri: str) -> bool:
    """An ontology term (a study's nodes, ``kg:study/...``, are the document's own, named by no text)."""
    return iri.startswith(BASE) and not iri.startswith(KG)


def words(ontology: Ontology, key: str) -> dict[str, str]:
    """The facts-file word of each value of ``key`` (local name -> skos:notation)."""
    return {iri[len(BASE) :]: word for word, iri in ontology.values(VALUE_CLASSES[key]).items()}


def terms_of(fact: Fact) -> Iterable[str]:
    yield fact.subject
    yield fact.object
    if fact.compared_to:
        yield fact.compared_to


def measure(factset: FactSet, lexicon: Lexicon, ontology: Ontology) -> Counts:
    document = factset.document
    counts = Counts()
    started = time.perf_counter()
    mentions = annotate(document, lexicon)
    suggestions = suggest(document, lexicon, ontology, ())  # left out: no segment is curated yet
    counts.seconds = time.perf_counter() - started
    uses = {(f.evidence.segment.index, t) for f in factset.facts for t in terms_of(f) if is_term(t)}
    found = {(m.segment, m.term) for m in mentions}
    counts.used, counts.found_uses = len(uses), len(uses & found)
    counts.mentions, counts.useful_mentions = len(found), len(found & uses)
    counts.misses = sorted(f"{document.doc_id} segment {s}: {t[len(BASE) :]}" for s, t in uses - found)
    polarity, modality, frequency = (words(ontology, key) for key in ("polarity", "modality", "frequency"))
    default_polarity, default_modality = polarity["Affirmed"], modality["Asserted"]
    for fact in factset.facts:
        ev = fact.evidence
        inside = [m for m in mentions if ev.start <= m.start and m.end <= ev.end]
        on = [m for m in inside if m.term == fact.object] or [m for m in inside if m.term == fact.subject]
        if not on:
            continue
        counts.cue_facts += 1
        said = qualifiers(c for m in on for c in m.cues)[:3]
        cued = (said[0] or default_polarity, said[1] or default_modality, said[2])
        curated = (
            polarity[fact.polarity],
            modality[fact.modality],
            frequency[fact.frequency] if fact.frequency else None,
        )
        counts.cue_agree += cued == curated
        counts.negation_agree += cued[0] == curated[0]
    curated_tuples = {
        (f.evidence.segment.index, f.subject, f.predicate, f.object, polarity[f.polarity]) for f in factset.facts
    }
    drafted = {(s.segment.index, s.subject, s.predicate, s.object, s.polarity or default_polarity) for s in suggestions}
    counts.suggested, counts.curated, counts.right = len(drafted), len(curated_tuples), len(drafted & curated_tuples)
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--root", type=Path, default=ROOT)
    parser.add_argument("--out", type=Path, default=None, help="append the results to this Markdown file")
    args = parser.parse_args(argv)
    root = args.root
    ontology = load_ontology(root / "ontology" / "carnk.ttl")
    started = time.perf_counter()
    lexicon = Lexicon.of(ontology, load_mappings(root / MAPPINGS_DIR / MAPPINGS_FILE, ontology))
    lexicon_seconds = time.perf_counter() - started
    rows: list[tuple[str, Counts]] = []
    total = Counts()
    for path in sorted((root / FACTS_DIR).glob("*.yaml")):
        document = read_document(
            root / DOCUMENTS_DIR / f"{path.stem}.txt", display_path=Path(DOCUMENTS_DIR) / f"{path.stem}.txt"
        )
        factset = load_facts(path, {document.path.name: document}, ontology)
        counts = measure(factset, lexicon, ontology)
        rows.append((document.doc_id, counts))
        total.add(counts)
        total.misses += counts.misses
    lines = [
        "## Curation aids: annotate and suggest against the curated facts (leave one document out)",
        "",
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with `python benchmarks/curation.py` on "
        f"{platform.python_implementation()} {platform.python_version()}; lexicon built in {lexicon_seconds:.2f} s.",
        "",
        "| document | mention recall | mention precision | cue accuracy | negation accuracy | suggestion precision "
        "| suggestion recall | seconds |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, c in [*rows, ("all", total)]:
        lines.append(
            f"| {name} | {ratio(c.found_uses, c.used)} | {ratio(c.useful_mentions, c.mentions)} | "
            f"{ratio(c.cue_agree, c.cue_facts)} | {ratio(c.negation_agree, c.cue_facts)} | "
            f"{ratio(c.right, c.suggested)} | {ratio(c.right, c.curated)} | "
            f"{c.seconds:.2f} |"
        )
    lines += ["", "Curated terms the annotator did not find in their segment:", ""]
    lines += [f"- {miss}" for miss in total.misses] or ["- none"]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        previous = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        args.out.write_text(previous.rstrip("\n") + "\n\n" + text if previous else text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
