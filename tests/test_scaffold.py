"""``carnk-ld new``: the facts file a curator starts a new document from."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from carnk_ld.documents import read_document
from carnk_ld.errors import InputError, InputErrors
from carnk_ld.facts import load_facts
from carnk_ld.ontology import load_ontology
from carnk_ld.scaffold import facts_skeleton, new_facts

TEXT = (
    "A trial of cord blood CAR NK cells\n"
    "CAR-NK cell therapy does not cause graft-versus-host disease.\n"
    'The product is given as follows: "one infusion" after lymphodepletion.\n'
)


@pytest.fixture
def corpus(sample_corpus: Path) -> Path:
    (sample_corpus / "documents" / "new-trial.txt").write_text(TEXT, encoding="utf-8")
    return sample_corpus


def load(root: Path, name: str = "new-trial"):
    ontology = load_ontology(root / "ontology" / "carnk.ttl")
    document = read_document(root / "documents" / f"{name}.txt", display_path=Path("documents") / f"{name}.txt")
    return load_facts(root / "facts" / f"{name}.yaml", {document.path.name: document}, ontology)


def errors_of(root: Path) -> list[str]:
    with pytest.raises((InputError, InputErrors)) as caught:
        load(root)
    exc = caught.value
    return [e.message for e in (exc.errors if isinstance(exc, InputErrors) else [exc])]


def uncomment(text: str, marker: str) -> str:
    """Uncomment the block of commented lines that starts with the line containing ``marker``."""
    lines = text.split("\n")
    start = next(i for i, line in enumerate(lines) if marker in line)
    end = start + 1
    while end < len(lines) and lines[end].startswith("  #   ") and "(suggested" not in lines[end]:
        end += 1
    for i in range(start, end):
        lines[i] = lines[i].replace("# ", "", 1)
    return "\n".join(lines)


def test_new_writes_a_skeleton_the_reader_accepts_listing_every_segment(corpus: Path, cli) -> None:
    result = cli("new", "--root", str(corpus), str(corpus / "documents" / "new-trial.txt"))
    assert result.exit_code == 0, result.output
    assert "wrote facts/new-trial.yaml: 3 segments" in result.output
    written = (corpus / "facts" / "new-trial.yaml").read_text(encoding="utf-8")
    assert "document: new-trial.txt\n" in written
    assert f"sha256: {hashlib.sha256(TEXT.encode()).hexdigest()}\n" in written
    for line in TEXT.splitlines():  # every segment's text, as a comment, quotes escaped
        assert line.replace('"', '\\"') in written
    # the skeleton itself is valid: what is left is curating each segment
    assert errors_of(corpus) == [
        f"segment {n} yields no fact and is not excluded: {line!r}" for n, line in enumerate(TEXT.splitlines(), 1)
    ]


def test_the_first_heading_is_the_title_and_a_suggested_exclusion(corpus: Path) -> None:
    new_facts(corpus, Path("documents/new-trial.txt"))
    path = corpus / "facts" / "new-trial.yaml"
    text = path.read_text(encoding="utf-8")
    assert '  title: "A trial of cord blood CAR NK cells"' in text
    path.write_text(uncomment(text, '# - quote: "A trial of cord blood CAR NK cells"'), encoding="utf-8")
    factset_errors = errors_of(corpus)
    assert len(factset_errors) == 2 and not any("segment 1 " in e for e in factset_errors)
    assert load_title(corpus) == "A trial of cord blood CAR NK cells"


def load_title(root: Path) -> str | None:
    path = root / "facts" / "new-trial.yaml"
    text = path.read_text(encoding="utf-8")
    # account for the two other segments so the file loads
    text = text.replace(
        "excluded:\n",
        "excluded:\n"
        '  - quote: "CAR-NK cell therapy does not cause graft-versus-host disease."\n'
        "    reason: not-a-factual-claim\n"
        '  - quote: "The product is given as follows: \\"one infusion\\" after lymphodepletion."\n'
        "    reason: not-a-factual-claim\n",
    )
    path.write_text(text, encoding="utf-8")
    return load(root).metadata.title


def test_drafted_facts_are_placed_under_their_segment_and_accepted_by_uncommenting(corpus: Path) -> None:
    draft = (
        "  # - id: carnk-no-gvhd\n"
        '  #   quote: "CAR-NK cell therapy does not cause graft-versus-host disease"\n'
        "  #   subject: CARNKCellTherapy\n"
        "  #   predicate: hasToxicityRisk\n"
        "  #   object: GraftVersusHostDisease\n"
        "  #   polarity: negated\n"
    )
    document = read_document(corpus / "documents" / "new-trial.txt", display_path=Path("documents/new-trial.txt"))
    text = facts_skeleton(document, Path("documents/new-trial.txt"), ["review"], {2: draft.rstrip("\n")})
    path = corpus / "facts" / "new-trial.yaml"
    segment_2 = text.index("# segment 2, line 2:")
    assert segment_2 < text.index("# - id: carnk-no-gvhd") < text.index("# segment 3, line 3:")
    path.write_text(uncomment(text, "# - id: carnk-no-gvhd"), encoding="utf-8")
    remaining = errors_of(corpus)
    assert len(remaining) == 2 and not any("segment 2 " in e for e in remaining), remaining


def test_new_never_overwrites_a_facts_file(corpus: Path, cli) -> None:
    path = corpus / "facts" / "new-trial.yaml"
    path.write_text("# my work\n", encoding="utf-8")
    result = cli("new", "--root", str(corpus), "documents/new-trial.txt")
    assert result.exit_code == 2
    assert "facts/new-trial.yaml: error: the facts file exists already" in result.output
    assert "nothing was written" in result.output
    assert path.read_text(encoding="utf-8") == "# my work\n"


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("outside", "not a document of the corpus"),
        ("missing", "not a document of the corpus"),
        ("not-text", "rename it to *.txt"),
    ],
)
def test_new_refuses_a_document_outside_the_corpus_and_writes_nothing(
    corpus: Path, tmp_path: Path, cli, where: str, message: str
) -> None:
    if where == "outside":
        given = tmp_path / "elsewhere.txt"
        given.write_text(TEXT, encoding="utf-8")
    elif where == "missing":
        given = corpus / "documents" / "absent.txt"
    else:
        given = corpus / "documents" / "notes.md"
        given.write_text(TEXT, encoding="utf-8")
    before = sorted(os.listdir(corpus / "facts"))
    result = cli("new", "--root", str(corpus), str(given))
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert sorted(os.listdir(corpus / "facts")) == before


def test_reference_entries_are_listed_as_needing_nothing(tmp_path: Path, sample_corpus: Path) -> None:
    path = sample_corpus / "documents" / "cites.txt"
    path.write_text("CAR NK cells are safe [1].\n\nReferences\n[1] Liu E, et al. A paper. 2020.\n", encoding="utf-8")
    document = read_document(path, display_path=Path("documents/cites.txt"))
    text = facts_skeleton(document, Path("documents/cites.txt"), ["review"])
    reference = next(s for s in document.segments if s.kind == "reference")
    assert f"segment {reference.index}, line {reference.line}: a reference entry" in text
    assert '  # - quote: "References"  # segment' in text  # a heading, offered for exclusion


def test_new_drafts_facts_for_the_segments_it_lists(corpus: Path) -> None:
    written = new_facts(corpus, Path("documents/new-trial.txt"))
    assert written.drafted >= 1  # "CAR-NK cell therapy does not cause graft-versus-host disease": a negated risk
    path = corpus / "facts" / "new-trial.yaml"
    text = path.read_text(encoding="utf-8")
    segment_2 = text.index("# segment 2, line 2:")
    first = text.index("# - id:", segment_2)
    assert first < text.index("# segment 3, line 3:")
    block = text[first:].split("\n")[0]
    assert "polarity: negated" in text[first : text.index("# segment 3, line 3:")]
    path.write_text(uncomment(text, block), encoding="utf-8")
    remaining = errors_of(corpus)
    assert len(remaining) == 2 and not any("segment 2 " in e for e in remaining), remaining


def test_the_skeleton_states_origin_and_licence_unknown_which_withholds_the_text(corpus: Path) -> None:
    new_facts(corpus, Path("documents/new-trial.txt"))
    text = (corpus / "facts" / "new-trial.yaml").read_text(encoding="utf-8")
    assert "\n  source: unknown\n" in text and "\n  licence: unknown\n" in text
    metadata = load_facts_metadata(corpus)
    assert (metadata.source, metadata.licence, metadata.republishes_text) == ("unknown", "unknown", False)


def load_facts_metadata(root: Path):
    ontology = load_ontology(root / "ontology" / "carnk.ttl")
    document = read_document(root / "documents" / "new-trial.txt", display_path=Path("documents/new-trial.txt"))
    path = root / "facts" / "new-trial.yaml"
    return load_facts(path, {document.path.name: document}, ontology, require_coverage=False).metadata
