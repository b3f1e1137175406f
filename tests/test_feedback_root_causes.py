"""A student's page leads with the root cause: a syntax or import error, a missing file, then what
costs the most points; one card per stopped file, file names never capitalised, sandbox details
folded away in plain words."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from xml.etree.ElementTree import Element

import html5lib  # type: ignore[import-untyped]
import jinja2
import pytest

from grader.records import GradeRun, SubmissionResult, TestOutcome
from grader.records import Outcome as Result
from grader.reports.causes import Cause, blocking_cause, caret_column
from grader.reports.context import feedback_page, fix_items
from grader.reports.grading_details import sandbox_sentences
from grader.reports.html import make_environment, render_feedback

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "examples" / "submissions"
SYNTAX = "SyntaxError in activations.py line 3: '(' was never closed\n    return np.maximum(0, z"
MISSING = "concepts.py was not found in your submission"
GENERIC = "raised an error or stopped before returning a value"
ISOLATION = "uid+pidns+netns+mountns+view+scratch+proc+nocaps+rlimits"
# A file name opening a sentence, as 'Concepts.py was not found' did.
CAPITALISED_FILE = re.compile(r"\b[A-Z]\w*\.py\b")


def t(exercise: str, function: str, outcome: Result = "passed", *, lost: float = 0.0,
      points: float = 1.0, hidden: bool = False, message: str = "", n: int = 0) -> TestOutcome:
    return TestOutcome(
        id=f"test_{exercise}::test_{function}_{n}{'_hidden' if hidden else ''}",
        exercise=exercise, function=function, name=f"{function} case {n}", outcome=outcome,
        score=points - lost if outcome != "passed" else points, max_score=points,
        visibility="hidden" if hidden else "visible", message=message)


def stopped(exercise: str, functions: tuple[str, ...], message: str) -> list[TestOutcome]:
    """One visible and one hidden test per function, all failing with the same message."""
    return [t(exercise, f, "error", lost=1.0, hidden=h, message=message, n=i)
            for i, f in enumerate(functions) for h in (False, True)]


def passing(exercise: str, *functions: str) -> list[TestOutcome]:
    return [t(exercise, f, n=i) for i, f in enumerate(functions)]


def result(tests: list[TestOutcome], student: str = "sam") -> SubmissionResult:
    score = sum(x.score for x in tests)
    return SubmissionResult(student, "graded", score, sum(x.max_score for x in tests), tuple(tests))


def run_of(sub: SubmissionResult) -> GradeRun:
    return GradeRun("0.1.0", 1234, ISOLATION, (sub,))


@pytest.fixture(scope="module")
def env() -> jinja2.Environment:
    return make_environment()


def parse(page: str) -> Element:
    root: Element = html5lib.parse(page, namespaceHTMLElements=False)
    return root


def text(el: Element) -> str:
    return " ".join("".join(el.itertext()).split())


def section(root: Element, heading_id: str) -> Element:
    found = root.find(f".//section[@aria-labelledby='{heading_id}']")
    assert found is not None, heading_id
    return found


def fix_entries(root: Element) -> list[Element]:
    listed = section(root, "fix").find("ol")
    assert listed is not None
    return listed.findall("li")


def exercise(root: Element, name: str) -> Element:
    for part in section(root, "tests").iter("section"):
        head = part.find("h3")
        if head is not None and text(head).startswith(f"{name}.py"):
            return part
    raise AssertionError(f"no section for {name}.py")


def by_class(root: Element, tag: str, name: str) -> list[Element]:
    return [e for e in root.iter(tag) if name in (e.get("class") or "").split()]


# --- a syntax error in one module ---------------------------------------------------------------

ACTIVATIONS = ("relu", "sigmoid", "tanh", "softmax")


def syntax_error() -> SubmissionResult:
    return result(stopped("activations", ACTIVATIONS, SYNTAX)
                  + passing("leaky_relu", "leaky_relu", "relu_grad"))


def test_syntax_error_is_the_first_fix_with_file_line_text_and_caret(
        env: jinja2.Environment) -> None:
    page = feedback_page(run_of(syntax_error()), syntax_error(), "none")
    assert page.fixes == ()  # no item per function: they all failed for this one reason
    (first,) = page.blockers
    assert (first.kind, first.file, first.failed, first.points_lost) == (
        "syntax", "activations.py", 8, "8")
    assert first.source is not None
    assert first.source.where == "activations.py line 3"
    assert first.source.code == "return np.maximum(0, z"
    assert first.source.caret == " " * len("return np.maximum") + "^"  # under the open '('
    assert first.functions == ("relu()", "sigmoid()", "tanh()", "softmax()")

    root = parse(render_feedback(env, run_of(syntax_error()), syntax_error()))
    (item,) = fix_entries(root)
    said = text(item)
    assert said.startswith("activations.py (−8 points; 8 tests not passed)")
    assert "'(' was never closed" in said and "activations.py line 3" in said
    code = item.find(".//figure/pre")
    assert code is not None and "".join(code.itertext()).splitlines() == [
        "return np.maximum(0, z", " " * 17 + "^"]


def test_syntax_error_gives_one_card_not_one_generic_card_per_function(
        env: jinja2.Environment) -> None:
    page = render_feedback(env, run_of(syntax_error()), syntax_error(), reveal="none")
    root = parse(page)
    assert GENERIC not in page
    activations = exercise(root, "activations")
    assert len(by_class(activations, "div", "blocked")) == 1
    assert by_class(activations, "li", "test") == []
    assert by_class(activations, "div", "hidden-fail") == []
    assert "8 of 8 tests could not run (4 of them hidden)" in text(activations)
    # The other exercise is laid out as before.
    assert len(by_class(exercise(root, "leaky_relu"), "li", "passed")) == 2


def test_an_import_error_is_a_root_cause_too() -> None:
    message = ("NameError while importing activations.py (activations.py line 5: x = f(1)): "
               "name 'f' is not defined")
    cause = blocking_cause(message)
    assert cause == Cause("import", "activations.py", "activations.py line 5",
                          "NameError: name 'f' is not defined", "x = f(1)")
    sub = result(stopped("activations", ("relu", "tanh"), message))
    (first,) = feedback_page(run_of(sub), sub, "none").blockers
    assert first.kind == "import" and first.source is not None and first.source.caret == ""
    assert "NameError: name 'f' is not defined" in first.sentence


def test_the_quoted_line_is_escaped(env: jinja2.Environment) -> None:
    hostile = "SyntaxError in activations.py line 1: invalid syntax\n    <script>alert(1)</script>"
    sub = result(stopped("activations", ("relu",), hostile))
    page = render_feedback(env, run_of(sub), sub)
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    html5lib.HTMLParser(strict=True).parse(page)


@pytest.mark.parametrize(("message", "where", "caret"), [
    ("SyntaxError in lesson.ipynb cell 4, line 2: unmatched ')'\n    y = 1)", "lesson.ipynb", 5),
    # Alone, the line parses: the column is not known, so no caret is guessed.
    ("SyntaxError in activations.py line 9: expected an indented block after function "
     "definition on line 8\n    x = 1", "activations.py", None),
    ("SyntaxError in activations.py line 2: invalid syntax", "activations.py", None),
])
def test_syntax_messages_are_read_whatever_their_place(message: str, where: str,
                                                       caret: int | None) -> None:
    cause = blocking_cause(message)
    assert cause is not None and cause.kind == "syntax" and cause.file == where
    assert caret_column(cause) == caret


def test_errors_raised_in_a_call_are_not_root_causes() -> None:
    assert blocking_cause("ValueError while calling relu() (activations.py line 7: "
                          "raise ValueError): bad") is None
    assert blocking_cause("relu() is not implemented yet (it still raises "
                          "NotImplementedError)") is None


# --- a missing module ---------------------------------------------------------------------------

CONCEPTS = ("hidden_layer_activation", "output_activation", "softmax_by_hand")


def missing_file() -> SubmissionResult:
    return result(passing("activations", "relu", "sigmoid")
                  + stopped("concepts", CONCEPTS, MISSING))


def test_missing_file_is_one_fix_with_the_points_at_stake(env: jinja2.Environment) -> None:
    page = feedback_page(run_of(missing_file()), missing_file(), "none")
    assert page.fixes == ()
    (first,) = page.blockers
    assert (first.kind, first.file, first.points_lost, first.failed) == ("missing", "concepts.py",
                                                                         "6", 6)
    assert first.sentence.startswith("The file concepts.py was not found in your submission")

    root = parse(render_feedback(env, run_of(missing_file()), missing_file()))
    (item,) = fix_entries(root)
    assert text(item).startswith("concepts.py (−6 points; 6 tests not passed)")


def test_missing_file_is_one_card_and_never_capitalised(env: jinja2.Environment) -> None:
    for reveal in ("none", "names", "all"):
        page = render_feedback(env, run_of(missing_file()), missing_file(), reveal=reveal)
        root = parse(page)
        concepts = exercise(root, "concepts")
        assert len(by_class(concepts, "div", "blocked")) == 1
        assert by_class(concepts, "li", "test") == []
        assert by_class(concepts, "div", "hidden-fail") == []
        assert len(re.findall(re.escape(MISSING), text(concepts))) == 1
        assert not CAPITALISED_FILE.search(text(root)), CAPITALISED_FILE.search(text(root))


def test_ci_sentences_do_not_capitalise_code_names_either() -> None:
    (item,) = fix_items(stopped("concepts", ("softmax_by_hand",), MISSING), "none")
    assert item.sentence.startswith("The file concepts.py was not found")
    stub = t("activations", "relu", "error", lost=1.0, message="relu() is not implemented yet "
             "(it still raises NotImplementedError)")
    (item,) = fix_items([stub], "none")
    assert item.sentence == ("The function relu() is not implemented yet "
                             "(it still raises NotImplementedError).")


# --- mixed failures -----------------------------------------------------------------------------

def mixed() -> SubmissionResult:
    return result([
        t("activations", "relu", "failed", points=2.0, lost=1.4, message="got 2.0"),
        t("activations", "sigmoid"),
        t("activations", "softmax", "failed", points=8.0, lost=7.5, message="got nan"),
        t("leaky_relu", "leaky_relu", "timeout", points=3.0, lost=3.0, message="took 2 s"),
        *stopped("concepts", CONCEPTS, MISSING),
        *stopped("scaling", ("entropy",), SYNTAX.replace("activations.py", "scaling.py")),
    ])


def test_fix_first_is_ordered_by_root_cause_then_points_lost(env: jinja2.Environment) -> None:
    page = feedback_page(run_of(mixed()), mixed(), "none")
    assert [(b.kind, b.file) for b in page.blockers] == [("syntax", "scaling.py"),
                                                        ("missing", "concepts.py")]
    assert [(f.function, f.points_lost) for f in page.fixes] == [
        ("softmax() in activations.py", "7.5"), ("leaky_relu() in leaky_relu.py", "3"),
        ("relu() in activations.py", "1.4")]
    heads = [text(li).split(" (")[0] for li in fix_entries(parse(render_feedback(
        env, run_of(mixed()), mixed())))]
    assert heads == ["scaling.py", "concepts.py", "softmax() in activations.py",
                     "leaky_relu() in leaky_relu.py", "relu() in activations.py"]


def test_a_section_with_other_failures_keeps_its_cards(env: jinja2.Environment) -> None:
    root = parse(render_feedback(env, run_of(mixed()), mixed()))
    activations = exercise(root, "activations")
    assert by_class(activations, "div", "blocked") == []
    assert len(by_class(activations, "li", "failed")) == 2


# --- the footer ---------------------------------------------------------------------------------

def test_sandbox_details_are_folded_away_in_plain_words(env: jinja2.Environment) -> None:
    root = parse(render_feedback(env, run_of(mixed()), mixed()))
    footer = root.find(".//footer")
    assert footer is not None
    details = footer.find("details")
    assert details is not None and details.get("open") is None
    summary = details.find("summary")
    assert summary is not None and text(summary) == "Grading details"
    folded = text(details)
    assert "It had no network access." in folded and ISOLATION in folded and "1234" in folded
    outside = text(footer).replace(folded, "")
    assert ISOLATION not in outside and "pidns" not in outside and "--seed" not in text(root)
    assert sandbox_sentences("rlimits")[0] == "Its memory, processes and file sizes were limited."
    assert sandbox_sentences("none")[0].startswith("No sandbox was recorded")


def test_print_hides_the_fold_and_keeps_one_plain_line(env: jinja2.Environment) -> None:
    page = render_feedback(env, run_of(mixed()), mixed())
    printed = page.split("@media print {")[1].split("\n}\n")[0]
    assert re.search(r"details\.grading-details[^{]*\{ display: none; \}", printed)
    assert ".print-only { display: block; }" in printed
    root = parse(page)
    (line,) = by_class(root, "p", "print-only")
    assert text(line) == "Graded by activations-grader 0.1.0, seed 1234."


# --- real submissions through the console script ------------------------------------------------

@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A class of two copies of the sample's alice: one with a syntax error, one without
    concepts.py, graded by the installed `grade` command."""
    root = tmp_path_factory.mktemp("root_causes")
    subs = root / "class"
    shutil.copytree(SAMPLE / "alice", subs / "syn")
    shutil.copytree(SAMPLE / "alice", subs / "miss")
    (subs / "miss" / "concepts.py").unlink()
    source = (subs / "syn" / "activations.py").read_text(encoding="utf-8")
    assert "    return np.maximum(0, z)\n" in source
    (subs / "syn" / "activations.py").write_text(
        source.replace("    return np.maximum(0, z)\n", "    return np.maximum(0, z\n", 1),
        encoding="utf-8")
    grade = Path(sys.executable).with_name("grade")
    done = subprocess.run([str(grade), str(subs), "--out", str(root / "out"), "--jobs", "1",
                           "--quiet"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return root / "out"


def test_graded_syntax_error_leads_the_page(graded: Path) -> None:
    page = (graded / "syn" / "feedback.html").read_text(encoding="utf-8")
    html5lib.HTMLParser(strict=True).parse(page)
    root = parse(page)
    first = text(fix_entries(root)[0])
    assert first.startswith("activations.py (−10 points;")
    assert "'(' was never closed" in first
    assert re.search(r"activations\.py line \d+ return np\.maximum\(0, z", first)
    code = fix_entries(root)[0].find(".//figure/pre")
    assert code is not None and "".join(code.itertext()).splitlines()[1].endswith("^")
    assert GENERIC not in page
    assert len(by_class(exercise(root, "activations"), "div", "blocked")) == 1
    assert by_class(exercise(root, "activations"), "li", "test") == []


def test_graded_missing_file_is_one_item_and_one_card(graded: Path) -> None:
    page = (graded / "miss" / "feedback.html").read_text(encoding="utf-8")
    html5lib.HTMLParser(strict=True).parse(page)
    root = parse(page)
    items = fix_entries(root)
    concepts = [li for li in items if "concepts.py" in text(li)]
    assert len(concepts) == 1 and text(concepts[0]).startswith("concepts.py (−10 points;")
    assert "The file concepts.py was not found in your submission" in text(concepts[0])
    card = exercise(root, "concepts")
    assert len(by_class(card, "div", "blocked")) == 1 and by_class(card, "li", "test") == []
    assert not CAPITALISED_FILE.search(text(root))
    assert "<script" not in page
