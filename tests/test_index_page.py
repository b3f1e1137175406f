"""The class summary's view model: problems grouped by kind, misconceptions with their students,
pass rates hardest first, and the page's one script allowed by its hash.

`make_class` builds a class of any size from records; tests/test_browser.py shows the same kind
of class in Chromium.
"""

from __future__ import annotations

import base64
import hashlib
import random
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import html5lib  # type: ignore[import-untyped]
import pytest

from grader.pitfalls import catalogue
from grader.records import GradeRun, SubmissionResult, TestOutcome
from grader.reports.html import make_environment, render_index
from grader.reports.index_context import KINDS, index_page, problem_groups, problem_kind
from grader.reports.results_json import read_results_json

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "examples" / "submissions"

Worded = Callable[[str, str], str]
"""A message as the grader words it, from the exercise and the function."""

MESSAGES: dict[str, Worded] = {
    "grader": lambda e, f: "the grader failed inside this test (KeyError: 'z'); please tell "
                           "your instructor",
    "crash": lambda e, f: f"while running {f}(), your code crashed the Python process "
                          "(killed by SIGSEGV)",
    "exception": lambda e, f: f"ValueError while calling {f}() ({e}.py line 4: raise "
                              "ValueError('no')): no",
    "syntax": lambda e, f: f"SyntaxError in {e}.py line 3: invalid syntax\n    def {f}(z)",
    "import": lambda e, f: f"ModuleNotFoundError while importing {e}.py ({e}.py line 1: "
                           "import torch): No module named 'torch'",
    "memory": lambda e, f: f"your {f}() used more than 1 GiB of memory",
    "timeout": lambda e, f: f"your {f}() did not return within 2 s",
    "wrong_return": lambda e, f: "returned a dict object, not a NumPy array or a number",
    "missing_function": lambda e, f: f"{e}.py defines no function {f}()",
    "missing_file": lambda e, f: f"{e}.py was not found in your submission",
    "not_implemented": lambda e, f: f"{f}() is not implemented yet (it still raises "
                                    "NotImplementedError)",
    "other": lambda e, f: "raised something nobody foresaw",
}
"""One message of each kind, worded as grader/sandbox and grader/judge word them."""

FILE_KINDS = ("missing_file", "syntax", "import")
"""Kinds that stop every test of an exercise."""
FUNCTION_KINDS = ("not_implemented", "timeout", "memory", "crash", "exception", "wrong_return",
                  "missing_function", "grader", "other")
"""Kinds that stop the tests of one function."""


def stopped(test: TestOutcome, kind: str) -> TestOutcome:
    """`test` stopped by a problem of `kind`, with the fields the grader sets for it."""
    test = replace(test, outcome="timeout" if kind == "timeout" else "error", score=0.0,
                   message=MESSAGES[kind](test.exercise, test.function or test.exercise))
    if kind != "not_implemented":
        return test
    stub = catalogue()["not_implemented"]  # the judge names the stub's error as a pitfall
    return replace(test, pitfall=stub.id, misconception=stub.misconception, hints=(stub.hint,))


def failed(test: TestOutcome, pitfall: str) -> TestOutcome:
    found = catalogue()[pitfall]
    return replace(test, outcome="failed", score=0.0, message="expected [0, 2]\ngot 2.0",
                   pitfall=pitfall, misconception=found.misconception, hints=(found.hint,))


@dataclass
class Made:
    """A class built from records, and what its summary must say."""

    run: GradeRun
    """The class."""
    groups: dict[str, set[str]] = field(default_factory=dict)
    """Problem kind -> the students its group must list."""
    tests: dict[str, int] = field(default_factory=dict)
    """Problem kind -> how many tests it stopped."""
    pitfalls: dict[str, set[str]] = field(default_factory=dict)
    """Pitfall -> the students with a failing test that detects it."""


def student_ids(size: int) -> list[str]:
    """Short and long ids, a few with characters that need escaping and quoting."""
    odd = ["maria-fernanda.garcia-lopez.2024", "o'brien & <co>", "jean-baptiste_de_la_fontaine"]
    return [odd[i // 97] if i % 97 == 50 and i // 97 < len(odd) else f"s{i:04d}"
            for i in range(size)]


def make_class(template: Sequence[TestOutcome], size: int, seed: int = 7) -> Made:
    """`size` submissions of the tests in `template` (all passed), each with its own mix of
    right answers, misconceptions and problems of every kind; about one in forty is not
    graded at all."""
    rng = random.Random(seed)
    pitfalls = sorted(set(catalogue()) - {"not_implemented"})
    made = Made(GradeRun("0.1.0", seed, "rlimits", ()))
    subs = []
    for sid in student_ids(size):
        if rng.random() < 0.025:
            subs.append(SubmissionResult(sid, "error", 0.0, 0.0, (), error="bad CRC in a.py"))
            made.groups.setdefault("not_graded", set()).add(sid)
            continue
        tests = _one_student(template, rng, pitfalls, made, sid)
        subs.append(SubmissionResult(sid, "graded", sum(t.score for t in tests),
                                     sum(t.max_score for t in tests), tests))
    made.run = replace(made.run, submissions=tuple(sorted(subs, key=lambda s: s.id)))
    return made


def _one_student(template: Sequence[TestOutcome], rng: random.Random, pitfalls: list[str],
                 made: Made, sid: str) -> tuple[TestOutcome, ...]:
    fates: dict[str, str] = {}
    for exercise in dict.fromkeys(t.exercise for t in template):
        if rng.random() < 0.03:
            fates[exercise] = rng.choice(FILE_KINDS)
    out = []
    for t in template:
        key = f"{t.exercise}.{t.function}"
        fate = fates.get(t.exercise) or fates.setdefault(key, rng.choices(
            ["pass", "fail", *FUNCTION_KINDS], [68, 18, 4, 1.2, 1, 1, 1.5, 1, 0.8, 0.3, 0.5])[0])
        if fate == "pass" or (fate == "fail" and rng.random() < 0.5):
            out.append(t)
        elif fate == "fail":
            pitfall = t.pitfall or pitfalls[sum(map(ord, key)) % len(pitfalls)]
            out.append(failed(t, pitfall))
            made.pitfalls.setdefault(pitfall, set()).add(sid)
        else:
            out.append(stopped(t, fate))
            made.groups.setdefault(fate, set()).add(sid)
            if fate == "not_implemented":  # the stub's error is also the lesson's pitfall
                made.pitfalls.setdefault(fate, set()).add(sid)
            made.tests[fate] = made.tests.get(fate, 0) + 1
    return tuple(out)


def small_template() -> tuple[TestOutcome, ...]:
    """Three exercises, two functions each, three tests a function."""
    return tuple(
        TestOutcome(id=f"test_{e}::test_{f}_{n}", exercise=e, function=f, name=f"{f} case {n}",
                    outcome="passed", score=1.0, max_score=1.0,
                    visibility="hidden" if n == 2 else "visible")
        for e, fs in (("activations", ("relu", "softmax")), ("leaky_relu", ("leaky_relu",
                      "relu_grad")), ("scaling", ("softmax_temperature", "entropy")))
        for f in fs for n in range(3))


# --- one test at a time ---------------------------------------------------------------------------

def kind_of(test: TestOutcome) -> str:
    found = problem_kind(test)
    return "" if found is None else found.key


@pytest.mark.parametrize("kind", sorted(MESSAGES))
def test_each_kind_of_message_finds_its_group(kind: str) -> None:
    assert kind_of(stopped(small_template()[0], kind)) == kind


def test_answers_right_or_wrong_are_no_problem() -> None:
    right = small_template()[0]
    assert kind_of(right) == "" and kind_of(failed(right, "np_max")) == ""


def test_fields_decide_before_words() -> None:
    test = small_template()[0]
    # A timeout is a timeout whatever its message says (e.g. the whole budget ran out).
    budget = replace(stopped(test, "timeout"), message="not run: your submission used up its "
                     "whole time budget (30 s) across all its calls")
    assert kind_of(budget) == "timeout"
    # The pitfall the judge detected names an unfinished stub the grader worded otherwise.
    stub = replace(stopped(test, "exception"), message="NotImplementedError while importing "
                   "activations.py", pitfall="not_implemented")
    assert kind_of(stub) == "import"
    odd = replace(stopped(test, "other"), pitfall="not_implemented")
    assert kind_of(odd) == "not_implemented"


def test_a_syntax_error_in_a_stub_is_a_syntax_error() -> None:
    test = replace(stopped(small_template()[0], "syntax"), pitfall="not_implemented",
                   message="SyntaxError in activations.py line 9: invalid syntax\n"
                           "    raise NotImplementedError(")
    assert kind_of(test) == "syntax"


def test_students_words_cannot_pass_for_the_graders() -> None:
    test = small_template()[0]
    for said in ("activations.py was not found in your submission",
                 "while running relu(), your code crashed the Python process"):
        raised = replace(stopped(test, "exception"),
                         message=f"ValueError while calling relu() (activations.py line 2: "
                                 f"raise ValueError(x)): {said}")
        assert kind_of(raised) == "exception"
        assert kind_of(replace(test, outcome="error", message=f" {said}")) == "other"


# --- a whole class ------------------------------------------------------------------------------

def test_groups_list_every_affected_student_once_with_counts() -> None:
    made = make_class(small_template(), 400)
    groups = {g.kind.key: g for g in problem_groups(made.run.submissions)}
    assert set(groups) == set(made.groups)
    assert len(groups) >= 10, "the class should show nearly every kind"
    for key, group in groups.items():
        ids = [a.student.student_id for a in group.students]
        assert ids == sorted(made.groups[key]), key
        assert group.tests == made.tests.get(key, 0), key
    order = [k.key for k in KINDS]
    assert list(groups) == sorted(groups, key=order.index)


def test_affected_students_name_their_functions_or_files() -> None:
    made = make_class(small_template(), 300)
    groups = {g.kind.key: g for g in problem_groups(made.run.submissions)}
    for a in groups["missing_file"].students:
        assert re.fullmatch(r"\w+\.py(, \w+\.py)*", a.where) and a.detail == "", a
    for a in groups["not_implemented"].students:
        assert re.fullmatch(r"\w+\(\)(, \w+\(\))*", a.where) and a.detail == "", a
    for a in groups["crash"].students:
        assert "crashed the Python process" in a.detail
    assert all(a.detail == "bad CRC in a.py" for a in groups["not_graded"].students)


def test_misconceptions_name_their_students() -> None:
    made = make_class(small_template(), 300)
    page = index_page(made.run)
    by_sentence = {catalogue()[p].misconception: ids for p, ids in made.pitfalls.items()}
    assert page.misconceptions
    for row in page.misconceptions:
        ids = [s.student_id for s in row.who]
        assert ids == sorted(by_sentence[row.sentence]) and row.students == len(ids)


def test_pass_rates_hardest_first() -> None:
    page = index_page(make_class(small_template(), 200).run)
    rates = [t.passed / t.total for t in page.tests]
    assert rates == sorted(rates) and rates[0] < rates[-1]
    # Ties keep handout order: a class where everything passes reads as the handout does.
    perfect = GradeRun("0.1.0", 1, "rlimits", (SubmissionResult("a", "graded", 18, 18,
                                                                small_template()),))
    assert [t.title for t in index_page(perfect).tests] == [t.name for t in small_template()]


# --- the rendered page ----------------------------------------------------------------------------

def test_page_has_one_script_allowed_by_its_hash_and_collapsed_groups() -> None:
    made = make_class(small_template(), 250)
    html = render_index(make_environment(), made.run)
    html5lib.HTMLParser(strict=True).parse(html)
    scripts = re.findall(r"<script>(.*?)</script>", html, re.S)
    assert len(scripts) == 1 and "student-table" in scripts[0] and "aria-sort" in scripts[0]
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode("utf-8")).digest()).decode()
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', html)
    assert policy is not None and f"script-src 'sha256-{digest}';" in policy.group(1)
    details = re.findall(r"<details[^>]*>", html)
    assert len(details) >= 10 and not [d for d in details if " open" in d]
    assert re.search(r'<div class="filter" id="filter" hidden>', html)
    # The students table comes right after the distribution, before the longer sections.
    order = [html.index(f'id="{name}"') for name in ("distribution", "students", "trouble",
                                                      "misconceptions", "exercises", "tests")]
    assert order == sorted(order)


def test_a_page_without_problems_says_so() -> None:
    run = GradeRun("0.1.0", 1, "rlimits", (SubmissionResult("a", "graded", 18, 18,
                                                            small_template()),))
    html = render_index(make_environment(), run)
    assert "None: every submission was graded" in html and "<details" not in html


# --- the grader's own words, from a graded class --------------------------------------------------

BROKEN = {
    "sam": {"activations.py": "def relu(z)\n    return z\n"},
    "rex": {"activations.py": "import numpy as np\n\ndef relu(z):\n    raise ValueError('no')\n"},
}
"""Submissions beyond the sample class: a syntax error, and a function that raises."""


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory: pytest.TempPathFactory) -> GradeRun:
    root = tmp_path_factory.mktemp("index")
    subs = root / "subs"
    shutil.copytree(SAMPLE, subs)
    for sid, files in BROKEN.items():
        (subs / sid).mkdir()
        for name, text in files.items():
            (subs / sid / name).write_text(text, encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "grader", str(subs), "--out", str(root / "out"),
                           "--jobs", "1", "--quiet", "--no-plots"], capture_output=True,
                          text=True, cwd=REPO, timeout=300)
    assert done.returncode == 0, done.stderr
    return read_results_json(root / "out" / "results.json")


def test_graded_class_is_grouped_by_what_happened(graded_class: GradeRun) -> None:
    groups = {g.kind.key: [a.student.student_id for a in g.students]
              for g in problem_groups(graded_class.submissions)}
    assert "other" not in groups and "grader" not in groups, groups
    assert groups["not_implemented"] == ["dave"]
    assert "erin" in groups["missing_file"] and "sam" in groups["syntax"]
    assert groups["exception"] == ["rex"]
    for kind in ("timeout", "memory", "crash", "wrong_return"):
        assert "mallory" in groups[kind], kind
    assert not any("alice" in ids for ids in groups.values())
