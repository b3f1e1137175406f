"""Mistakes as public code makes them (tests/real_code/), graded through the real engine and
sandbox: each case loses points only on the functions it breaks, its hints are about the mistake
actually made (never the misconception a test was written for, nor code the student did not
write), and no message quotes an empty source line."""

from __future__ import annotations

import re
import shutil
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from grader.course import exercises
from grader.engine import GradeOptions, grade_submissions
from grader.records import GradeRun, SubmissionResult, TestOutcome
from grader.submissions import discover

CORPUS = Path(__file__).parent / "real_code"
#: A quoted source line that came out empty: '(activations.py line 25: )'.
EMPTY_QUOTE = re.compile(r"\.py line \d+: \)")


@dataclass(frozen=True)
class Expectation:
    """What the failing tests of one broken function must (and must not) say."""

    pitfalls: tuple[str, ...] = ()
    """Pitfalls some failing test of the function reports."""
    words: tuple[str, ...] = ()
    """Text found in the hint or the message of some failing test of the function."""
    forbid: tuple[str, ...] = ()
    """Text in no hint and no misconception of the function's failing tests."""


@dataclass(frozen=True)
class Case:
    """One module with known mistakes, as graded."""

    exercise: str
    """The exercise module the case's file is."""
    broken: dict[str, Expectation]
    """Each function that must lose points, and what its failing tests must say."""
    source: str = ""
    """Where the mistake was seen: 'owner/repository: path' (empty for a written symptom)."""
    text: str = field(default="", repr=False)
    """The module's code, for a case written here rather than read from the corpus."""


def load_corpus() -> dict[str, Case]:
    """Every case of tests/real_code/cases.toml."""
    data = tomllib.loads((CORPUS / "cases.toml").read_text(encoding="utf-8"))
    return {name: Case(entry["exercise"],
                       {function: Expectation(tuple(want.get("pitfalls", ())),
                                              tuple(want.get("words", ())),
                                              tuple(want.get("forbid", ())))
                        for function, want in entry.get("broken", {}).items()},
                       entry["source"])
            for name, entry in data.items()}


def _with_form_feed() -> str:
    """A module whose source holds a form feed, as editors write page breaks: the lines after
    it must still be quoted as the compiler numbers them (an error on a line after a blank one
    came out as '(activations.py line 13: )' when the sandbox numbered them itself)."""
    return ("import math\nimport numpy as np\n\n\x0c\n\ndef relu(z):\n    return np.maximum(0, z)\n"
            "\n\ndef sigmoid(z):\n    s = 0\n\n    s = 1 / (1 + math.exp(-z))\n    return s\n\n\n"
            "def tanh(z):\n    return np.tanh(z)\n\n\ndef softmax(z):\n"
            "    e = np.exp(z - np.max(z, axis=-1, keepdims=True))\n"
            "    return e / np.sum(e, axis=-1, keepdims=True)\n")


LESSON = ("import numpy as np\n\n\ndef relu(z):\n    return np.maximum(0, z)\n\n\n"
          "def sigmoid(z):\n    return 1 / (1 + np.exp(-z))\n\n\n"
          "def tanh(z):\n    return np.tanh(z)\n\n\n"
          "def softmax(z):\n    e = np.exp(z - np.max(z, axis=-1, keepdims=True))\n"
          "    return e / np.sum(e, axis=-1, keepdims=True)\n")

#: Symptoms written here, not taken from public code: each once got a hint about another mistake.
SYMPTOMS: dict[str, Case] = {
    "written_tanh_without_return": Case("activations", {"tanh": Expectation(
        words=("did you forget to `return`",), forbid=("math.exp",))},
        text=LESSON.replace("    return np.tanh(z)", "    np.tanh(z)")),
    "written_relu_0d_as_1d": Case("activations", {"relu": Expectation(
        words=("Returned shape (1,) for a 0-d input",), forbid=("largest entry", "np.max"))},
        text=LESSON.replace("return np.maximum(0, z)", "return np.atleast_1d(np.maximum(0, z))")),
    "written_form_feed": Case("activations", {"sigmoid": Expectation(
        pitfalls=("math_exp_on_array",),
        words=("activations.py line 13: s = 1 / (1 + math.exp(-z))",))},
        text=_with_form_feed()),
}
CASES: dict[str, Case] = {**load_corpus(), **SYMPTOMS}


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, SubmissionResult]:
    """Every case, graded as one class."""
    base = tmp_path_factory.mktemp("real_code")
    for name, case in CASES.items():
        if case.text:
            (base / name).mkdir()
            (base / name / f"{case.exercise}.py").write_text(case.text, encoding="utf-8")
        else:
            shutil.copytree(CORPUS / name, base / name)
    found = discover(base, tmp_path_factory.mktemp("unpack"))
    run: GradeRun = grade_submissions(found, GradeOptions(jobs=2, exercises=exercises(),
                                                          plots=False))
    return {s.id: s for s in run.submissions}


def failing(result: SubmissionResult, case: Case, function: str | None = None) -> list[TestOutcome]:
    """The case's tests (of one function, if given) that did not pass."""
    return [t for t in result.tests if t.exercise == case.exercise and t.outcome != "passed"
            and (function is None or t.function == function)]


def mentions(text: str, word: str) -> bool:
    """Whether `text` holds `word` as a word of its own ('np.max', not 'np.maximum')."""
    return re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text) is not None


def test_every_case_names_its_source_and_has_its_module() -> None:
    corpus = load_corpus()
    assert len(corpus) >= 20
    for name, case in corpus.items():
        assert re.fullmatch(r"[\w.-]+/[\w.-]+: \S.*", case.source), name
        assert (CORPUS / name / f"{case.exercise}.py").is_file(), name
        assert set(case.broken) <= {"relu", "sigmoid", "tanh", "softmax", "leaky_relu",
                                    "relu_grad", "softmax_temperature", "entropy",
                                    "boltzmann_policy", "logsumexp"}, name


@pytest.mark.parametrize("name", sorted(CASES))
def test_points_are_lost_only_where_the_mistake_is(graded: dict[str, SubmissionResult],
                                                   name: str) -> None:
    case = CASES[name]
    lost = {t.function for t in failing(graded[name], case)}
    assert lost == set(case.broken), [(t.id, t.message[:200]) for t in failing(graded[name], case)]


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_hint_is_about_the_mistake_made(graded: dict[str, SubmissionResult],
                                            name: str) -> None:
    case = CASES[name]
    for function, want in case.broken.items():
        tests = failing(graded[name], case, function)
        reported = {t.pitfall for t in tests}
        assert set(want.pitfalls) <= reported, (function, reported)
        said = "\n".join(part for t in tests for part in (t.message, *t.hints))
        for word in want.words:
            assert word in said, (function, word, said[:600])
        for t in tests:
            told = "\n".join((*t.hints, t.misconception))
            for word in want.forbid:
                assert not mentions(told, word), (function, t.id, word, told)


@pytest.mark.parametrize("name", sorted(CASES))
def test_no_message_quotes_an_empty_line(graded: dict[str, SubmissionResult], name: str) -> None:
    quoted = [t.message for t in graded[name].tests if EMPTY_QUOTE.search(t.message)]
    assert quoted == []


def test_a_wrong_answer_nothing_recognises_gets_what_was_observed_as_its_hint(
        graded: dict[str, SubmissionResult]) -> None:
    case = CASES["s1m0nci_sigmoid_flipped_sign"]
    tests = failing(graded["s1m0nci_sigmoid_flipped_sign"], case, "sigmoid")
    assert tests and all(t.pitfall is None and t.misconception == "" for t in tests)
    assert {t.hints for t in tests} == {
        ("Your values are the expected ones mirrored: each is 1 - expected.",)}


def test_a_hidden_test_observes_without_quoting_its_values(
        graded: dict[str, SubmissionResult]) -> None:
    case = CASES["lighdek_pow_precedence"]
    tests = {t.visibility: t for t in failing(graded["lighdek_pow_precedence"], case, "tanh")
             if t.id.endswith(("::test_tanh_lesson_example", "::test_tanh_values"))}
    assert tests["visible"].hints[0].startswith(
        "Your values leave the range of the expected ones (yours run from -383.3 to 20.13")
    assert tests["hidden"].hints == ("Your values leave the range of the expected ones.",)
