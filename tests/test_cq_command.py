"""``carnk-ld cq`` on a corpus of the test's own: ok, differences as +/- rows, approval, bad input.

The sample corpus gets two competency questions written here, with answers written by hand
from the sample documents (tests/fixtures/corpus), never from the command's output.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from carnk_ld.cq import Answer, read_answer, render_answer
from carnk_ld.errors import InputError
from tests.conftest import edit, write_sample_corpus

PREFIXES = "PREFIX carnk: <https://w3id.org/carnk/>\n"
QUESTIONS = {
    "cq-01-sources": "# CQ 1: From which sources are CAR NK cells derived?\n"
    + PREFIXES
    + "SELECT ?source WHERE { carnk:CARNKCell carnk:derivedFrom ?source }\n",
    "cq-02-study-numbers": "# CQ 2: How many patients did the study treat, and how many responded completely?\n"
    + PREFIXES
    + "SELECT ?study ?patients ?responders WHERE {\n"
    "  ?study carnk:patientCount ?patients ; carnk:hasOutcome ?outcome .\n"
    "  ?outcome a carnk:CompleteResponse ; carnk:numerator ?responders .\n}\n",
}
STUDY = "kg:study/sample/cd19-cord-blood-trial"
BIND = "# bind: study=<https://w3id.org/carnk/kg/study/sample/cd19-cord-blood-trial>"
# What sample.txt says: its list of sources, and 7 complete responses among 12 patients.
ANSWERS = {
    "cq-01-sources": "source\ncarnk:UmbilicalCordBlood\ncarnk:NKCellLine\ncarnk:HematopoieticStemCell\n",
    "cq-02-study-numbers": f"{BIND}\nstudy\tpatients\tresponders\n{STUDY}\t12\t7\n",
}


def write_questions(root: Path, answers: dict[str, str]) -> Path:
    (root / "queries" / "answers").mkdir(parents=True, exist_ok=True)
    for name, query in QUESTIONS.items():
        (root / "queries" / f"{name}.rq").write_text(query, encoding="utf-8")
    for name, text in answers.items():
        (root / "queries" / "answers" / f"{name}.tsv").write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def built(sample_release: Path) -> Path:
    """The sample corpus's release (read-only); tests ask it from roots of their own holding the questions."""
    return sample_release


def ask(cli, root: Path, release: Path, *extra: str):
    return cli("cq", "--root", str(root), "--out", str(release), *extra)


def answers_of(root: Path) -> dict[str, str]:
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted((root / "queries" / "answers").glob("*.tsv"))}


def test_matching_answers_exit_0(cli, built: Path, tmp_path: Path) -> None:
    root = write_questions(tmp_path, ANSWERS)
    result = ask(cli, root, built)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["cq-01-sources: ok", "cq-02-study-numbers: ok", "2 questions: 2 ok, 0 differ"]


def test_an_edited_fact_shows_added_and_removed_rows_then_approval_records_it(
    cli, project_root: Path, tmp_path: Path
) -> None:
    root = write_questions(write_sample_corpus(project_root, tmp_path / "sample"), ANSWERS)
    edit(root / "facts" / "sample.yaml", "object: HematopoieticStemCell", "object: InducedPluripotentStemCell")
    edit(root / "facts" / "sample.yaml", "count: 7", "count: 12")  # its quote states 12 too
    assert cli("build", "--root", str(root)).exit_code == 0
    before = answers_of(root)

    result = cli("cq", "--root", str(root))
    assert result.exit_code == 1, result.output
    assert result.output.splitlines() == [
        "cq-01-sources: differs from queries/answers/cq-01-sources.tsv (1 row added, 1 row removed)",
        "  + carnk:InducedPluripotentStemCell",
        "  - carnk:HematopoieticStemCell",
        "cq-02-study-numbers: differs from queries/answers/cq-02-study-numbers.tsv (1 row added, 1 row removed)",
        f"  + {STUDY}\t12\t12",
        f"  - {STUDY}\t12\t7",
        "2 questions: 0 ok, 2 differ",
        "review the rows; to record a question's current answer: carnk-ld cq --approve NAME",
    ]
    assert answers_of(root) == before, "comparing writes nothing"

    approved = cli("cq", "--root", str(root), "--approve", "cq-01-sources")
    assert approved.exit_code == 1, "the other question still differs"
    assert "approved cq-01-sources: wrote queries/answers/cq-01-sources.tsv" in approved.output
    assert "cq-01-sources: ok" in approved.output
    # sorted rows under the header: the file is the same whatever order the store returns
    assert answers_of(root)["cq-01-sources"] == (
        "source\ncarnk:InducedPluripotentStemCell\ncarnk:NKCellLine\ncarnk:UmbilicalCordBlood\n"
    )

    result = cli("cq", "--root", str(root), "--approve", "cq-02-study-numbers")
    assert result.exit_code == 0, result.output
    assert answers_of(root)["cq-02-study-numbers"] == f"{BIND}\nstudy\tpatients\tresponders\n{STUDY}\t12\t12\n"
    again = cli("cq", "--root", str(root))
    assert again.exit_code == 0, again.output
    assert again.output.splitlines()[-1] == "2 questions: 2 ok, 0 differ"


def test_a_question_without_an_approved_answer_shows_every_row_added(cli, built: Path, tmp_path: Path) -> None:
    root = write_questions(tmp_path, {"cq-02-study-numbers": ANSWERS["cq-02-study-numbers"]})
    result = ask(cli, root, built)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == "cq-01-sources: no approved answer (queries/answers/cq-01-sources.tsv); 3 rows added"
    assert sorted(lines[1:4]) == [
        "  + carnk:HematopoieticStemCell",
        "  + carnk:NKCellLine",
        "  + carnk:UmbilicalCordBlood",
    ]
    assert ask(cli, root, built, "--approve", "cq-01-sources").exit_code == 0
    assert answers_of(root)["cq-01-sources"].splitlines()[0] == "source"


def test_rows_compare_as_a_multiset(cli, built: Path, tmp_path: Path) -> None:
    doubled = ANSWERS["cq-01-sources"] + "carnk:NKCellLine\n"
    shuffled = "source\ncarnk:HematopoieticStemCell\ncarnk:NKCellLine\ncarnk:UmbilicalCordBlood\n"
    root = write_questions(tmp_path, {**ANSWERS, "cq-01-sources": doubled})
    result = ask(cli, root, built)
    assert result.exit_code == 1
    assert "cq-01-sources: differs from queries/answers/cq-01-sources.tsv (0 rows added, 1 row removed)" in (
        result.output
    )
    assert "  - carnk:NKCellLine" in result.output.splitlines()
    write_questions(tmp_path, {"cq-01-sources": shuffled})
    assert ask(cli, root, built).exit_code == 0


def test_other_variables_are_a_difference(cli, built: Path, tmp_path: Path) -> None:
    renamed = ANSWERS["cq-01-sources"].replace("source\n", "origin\n", 1)
    root = write_questions(tmp_path, {**ANSWERS, "cq-01-sources": renamed})
    result = ask(cli, root, built)
    assert result.exit_code == 1
    assert "  - variables: origin" in result.output and "  + variables: source" in result.output


def test_unknown_name_is_refused_and_nothing_is_written(cli, built: Path, tmp_path: Path) -> None:
    root = write_questions(tmp_path, {})
    result = ask(cli, root, built, "--approve", "cq-01-sources", "--approve", "cq-01-source")
    assert result.exit_code == 2
    assert "--approve: error: unknown competency question 'cq-01-source'" in result.output
    assert "cq-01-sources, cq-02-study-numbers" in result.output
    assert answers_of(root) == {}
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("source\ncarnk:NKCellLine\tcarnk:Extra\n", 2, "row has 2 cells but the header names 1 variables"),
        ("# a note\nsource\n", 1, "a line starting with '#' must be '# bind: name=VALUE'"),
        ("# bind: study=not a term\nsource\n", 1, "is not an RDF term"),
        ("source\n# bind: study=<https://e/x>\n", 2, "must come before the header line"),
        ("", 1, "no header line of variable names"),
        ("source\ncarnk:A\\qB\n", 2, "unknown escape"),
    ],
)
def test_malformed_answer_file_names_file_and_line(
    cli, built: Path, tmp_path: Path, text: str, line: int, message: str
) -> None:
    root = write_questions(tmp_path, {**ANSWERS, "cq-01-sources": text})
    result = ask(cli, root, built)
    assert result.exit_code == 2
    assert f"queries/answers/cq-01-sources.tsv:{line}: error: " in result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_no_release_is_bad_input(cli, tmp_path: Path) -> None:
    root = write_questions(tmp_path / "corpus", ANSWERS)
    result = cli("cq", "--root", str(root))
    assert result.exit_code == 2
    assert f"{root / 'build'}: error: not a carnk-ld release" in result.output


def test_answer_files_round_trip_every_character(tmp_path: Path) -> None:
    rows = Counter(
        {("a\tb", "back\\slash"): 2, ("line\nbreak\r", ""): 1, ("«NK» 🧬", "#not a comment"): 1, ("#first", "x"): 1}
    )
    answer = Answer(("x", "y"), rows, ("x=<https://e/x>",))
    path = tmp_path / "a.tsv"
    path.write_text(render_answer(answer), encoding="utf-8")
    assert read_answer(path) == answer
    assert render_answer(read_answer(path)) == path.read_text(encoding="utf-8")


def test_read_answer_reports_the_display_path(tmp_path: Path) -> None:
    path = tmp_path / "x.tsv"
    path.write_text("a\tb\nonly-one\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_answer(path, Path("queries/answers/x.tsv"))
    assert str(info.value.location) == "queries/answers/x.tsv:2"


@pytest.mark.parametrize(
    ("query", "where", "message"),
    [
        ("SELECT ?source WHERE {\n  ?source ?p \n}\n", "queries/cq-01-sources.rq:3:1: error: ", "SPARQL syntax error"),
        ("ASK { ?s ?p ?o }\n", "queries/cq-01-sources.rq: error: ", "expected a SELECT query"),
    ],
)
def test_a_query_that_is_not_a_select_names_its_file(
    cli, built: Path, tmp_path: Path, query: str, where: str, message: str
) -> None:
    root = write_questions(tmp_path, ANSWERS)
    (root / "queries" / "cq-01-sources.rq").write_text(query, encoding="utf-8")
    result = ask(cli, root, built)
    assert result.exit_code == 2
    assert where + message in result.output
    assert "Traceback" not in result.output


def test_a_binding_of_a_variable_the_query_lacks_is_refused(cli, built: Path, tmp_path: Path) -> None:
    typo = ANSWERS["cq-02-study-numbers"].replace("study=", "studdy=", 1)
    root = write_questions(tmp_path, {**ANSWERS, "cq-02-study-numbers": typo})
    result = ask(cli, root, built)
    assert result.exit_code == 2
    assert "queries/answers/cq-02-study-numbers.tsv:1: error: ?studdy does not occur in " in result.output


@pytest.mark.parametrize(
    "hidden",
    [
        pytest.param("BIND (carnk:a\\# AS ?note) SERVICE <http://127.0.0.1:9/> { }", id="after-an-escaped-hash"),
        pytest.param(
            "BIND (carnk:a\\' AS ?note) SERVICE <http://127.0.0.1:9/> { } FILTER (?note != 'x')",
            id="after-an-escaped-quote",
        ),
    ],
)
def test_a_service_after_an_escaped_name_is_refused_at_its_line(cli, built: Path, tmp_path: Path, hidden: str) -> None:
    """carnk:a\\# and carnk:a\\' are prefixed names: the '#' starts no comment, the quote no string."""
    root = write_questions(tmp_path, ANSWERS)
    question = root / "queries" / "cq-01-sources.rq"
    question.write_text(QUESTIONS["cq-01-sources"].replace(" }\n", f"\n  {hidden}\n}}\n"), encoding="utf-8")
    result = ask(cli, root, built)
    assert result.exit_code == 2, result.output
    assert "queries/cq-01-sources.rq:4: error: SERVICE is refused" in result.output
    assert "Traceback" not in result.output
