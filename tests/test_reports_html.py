"""The HTML reports: escaping, hidden-test secrecy, honest verdicts, plots, links and validity."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from html.parser import HTMLParser

import html5lib  # type: ignore[import-untyped]
import jinja2
import pytest

from grader.records import Curve, GradeRun, SubmissionResult
from grader.records import Outcome as Result
from grader.records import TestOutcome as Outcome
from grader.reports import curves, svg
from grader.reports.context import fmt_percent, student_href
from grader.reports.html import make_environment, render_feedback, render_index

HOSTILE_ID = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
HIDDEN_SECRET = "hidden input z = [713.25, -99.5]"
RELU_MISCONCEPTION = "np.max returns one number for the whole array, while ReLU needs np.maximum."
RELU_HINT = "np.maximum(0, z) is element-wise; np.max returns a single value."
SOFTMAX_MISCONCEPTION = "np.exp overflows for large inputs unless the maximum is subtracted first."
SOFTMAX_HINT = "exp_z = np.exp(z - np.max(z)) keeps every exponent at or below zero."


def outcome(test_id: str, exercise: str, function: str | None, outcome: Result = "passed", *,
            hidden: bool = False, message: str = "", pitfall: str | None = None,
            misconception: str = "", hints: tuple[str, ...] = (),
            advisories: tuple[str, ...] = ()) -> Outcome:
    passed = outcome == "passed"
    return Outcome(
        id=f"test_{exercise}::{test_id}", exercise=exercise, function=function,
        name=f"{function or exercise} {test_id.replace('_', ' ')}", outcome=outcome,
        score=1.0 if passed else 0.0, max_score=1.0,
        visibility="hidden" if hidden else "visible", message="" if passed else message,
        hints=hints, pitfall=pitfall, misconception=misconception, advisories=advisories)


def suite(overrides: dict[str, Outcome]) -> tuple[Outcome, ...]:
    base = [
        outcome("relu_values", "activations", "relu"),
        outcome("relu_shape", "activations", "relu", hidden=True),
        outcome("sigmoid_values", "activations", "sigmoid"),
        outcome("softmax_sums_to_one", "activations", "softmax"),
        outcome("softmax_large", "softmax_debug", "softmax", hidden=True),
        outcome("leaky_values", "leaky_relu", "leaky_relu"),
    ]
    return tuple(overrides.get(t.id.split("::")[1], t) for t in base)


def z_grid() -> tuple[float, ...]:
    return tuple(-4.0 + 0.5 * i for i in range(17))


def relu_curve(student: tuple[float, ...] | None, note: str = "") -> Curve:
    z = z_grid()
    return Curve("activations", "relu", "line", z, tuple(max(0.0, v) for v in z), student, note)


def softmax_bars(student: tuple[float, ...] | None) -> Curve:
    exps = [math.exp(v) for v in (1.0, 2.0, 3.0)]
    ref = tuple(e / sum(exps) for e in exps)
    return Curve("softmax_debug", "softmax", "bars", (0.0, 1.0, 2.0), ref, student)


def entropy_curve() -> Curve:
    scales = tuple(10.0 ** (k / 4) for k in range(-8, 9))
    ref = tuple(math.log(3) / (1 + s) for s in scales)
    stu = tuple(r if s < 10 else math.nan for r, s in zip(ref, scales))
    # A line over a log axis: the course's plot spec, not the curve, says how to draw it.
    return Curve("scaling", "softmax_temperature", "line", scales, ref, stu)


def perfect() -> SubmissionResult:
    tests = suite({})
    z = z_grid()
    return SubmissionResult("ada", "graded", 6.0, 6.0, tests, curves=(
        relu_curve(tuple(max(0.0, v) for v in z)), softmax_bars(softmax_bars(None).reference)))


def struggling() -> SubmissionResult:
    tests = suite({
        "relu_values": outcome("relu_values", "activations", "relu", "failed",
                               message="input z = [-1, 2]\nexpected [0, 2]\ngot 2.0",
                               pitfall="np_max", misconception=RELU_MISCONCEPTION,
                               hints=(RELU_HINT,)),
        "relu_shape": outcome("relu_shape", "activations", "relu", "failed", hidden=True,
                              message=HIDDEN_SECRET, pitfall="np_max",
                              misconception=RELU_MISCONCEPTION, hints=(RELU_HINT,)),
        "softmax_large": outcome("softmax_large", "softmax_debug", "softmax", "failed",
                                 hidden=True, message=HIDDEN_SECRET, pitfall="overflow",
                                 misconception=SOFTMAX_MISCONCEPTION, hints=(SOFTMAX_HINT,),
                                 advisories=("overflow encountered in exp",)),
        "leaky_values": outcome("leaky_values", "leaky_relu", "leaky_relu", "timeout",
                                message="took longer than 2 s"),
    })
    z = z_grid()
    bad = tuple(2.0 if v < 0 else v for v in z[:-2]) + (math.inf, math.nan)
    return SubmissionResult(
        "bob", "graded", 2.0, 6.0, tests, problems=("skipped notes.txt: not a .py file",),
        curves=(relu_curve(bad), softmax_bars((0.2, math.nan, 1.9)), entropy_curve(),
                Curve("leaky_relu", "leaky_relu", "line", z, z, None, "took longer than 2 s")))


def errored() -> SubmissionResult:
    return SubmissionResult("carol", "error", 0.0, 6.0, (),
                            error="The zip archive is corrupt: bad CRC in activations.py")


def hostile() -> SubmissionResult:
    evil = f"{HOSTILE_ID}\x00\x1b[31m red \ud800"
    tests = suite({"sigmoid_values": outcome(
        "sigmoid_values", "activations", "sigmoid", "error", message=f"raised {evil}",
        misconception=evil, hints=(evil,), advisories=(evil,))})
    return SubmissionResult(HOSTILE_ID, "graded", 5.0, 6.0, tests, problems=(evil,),
                            curves=(Curve("activations", evil, "line", (0.0, 1.0), (0.0, 1.0),
                                          (0.0, 2.0), evil),))


def grade_run() -> GradeRun:
    subs = sorted([perfect(), struggling(), errored(), hostile()], key=lambda s: s.id)
    return GradeRun("0.1.0", 1234, "uid+userns+netns+mountns+rlimits", tuple(subs),
                    warnings=("Ran without a network namespace.",))


@pytest.fixture(scope="module")
def env() -> jinja2.Environment:
    return make_environment()


def all_pages(env: jinja2.Environment) -> list[str]:
    run = grade_run()
    pages = [render_index(env, run)]
    for reveal in ("none", "names", "all"):
        pages += [render_feedback(env, run, s, reveal=reveal) for s in run.submissions]
    return pages


class _Attrs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags(text: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Attrs()
    parser.feed(text)
    return parser.tags


def test_environment_escapes_and_is_strict(env: jinja2.Environment) -> None:
    assert env.autoescape is True
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ missing }}").render()


def test_hostile_text_is_escaped_everywhere(env: jinja2.Environment) -> None:
    for page in all_pages(env):
        assert "<script>alert" not in page
        assert "<img" not in page
        assert "onerror=alert" not in page or "&lt;img src=x onerror=alert" in page
        assert not [t for t, a in tags(page) if any(k.startswith("on") for k in a)]
        assert "\x00" not in page and "\x1b" not in page
        scripts = [t for t, _ in tags(page) if t == "script"]
        assert len(scripts) <= 1


def test_hostile_id_is_quoted_in_links(env: jinja2.Environment) -> None:
    index = render_index(env, grade_run())
    hrefs = [a.get("href") for t, a in tags(index) if t == "a"]
    assert student_href(HOSTILE_ID) in hrefs
    assert all(h is not None and '"' not in h and "<" not in h for h in hrefs)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in index


@pytest.mark.parametrize("reveal", ["none", "names", "all"])
def test_hidden_messages_only_with_reveal_all(env: jinja2.Environment, reveal: str) -> None:
    page = render_feedback(env, grade_run(), struggling(), reveal=reveal)
    assert (HIDDEN_SECRET in page) == (reveal == "all")
    assert "expected [0, 2]" in page  # a visible test's message is always shown
    assert ("relu relu shape" in page) == (reveal != "none")  # hidden titles from "names" on
    assert "2 hidden tests: 0 passed, 2 did not." not in page
    assert "1 hidden test: 0 passed, 1 did not." in page
    assert RELU_MISCONCEPTION in page and SOFTMAX_MISCONCEPTION in page
    assert SOFTMAX_HINT in page
    assert page.count(RELU_MISCONCEPTION) <= 4  # grouped per function, not once per test


def test_fix_list_groups_and_dedupes(env: jinja2.Environment) -> None:
    page = render_feedback(env, grade_run(), struggling())
    fix = page.split('id="fix"')[1].split("</section>")[0]
    assert fix.count(RELU_HINT) == 1
    assert fix.count("relu() in activations.py") == 1
    assert "leaky_relu() in leaky_relu.py" in fix and "ran out of time" in fix


def test_never_claims_everything_passed_when_something_failed(env: jinja2.Environment) -> None:
    run = grade_run()
    only_hidden = SubmissionResult("dan", "graded", 5.0, 6.0, suite({
        "relu_shape": outcome("relu_shape", "activations", "relu", "failed", hidden=True,
                              message=HIDDEN_SECRET)}))
    claim = re.compile(r"all( \d+)? tests passed|every test passed|nothing to fix", re.I)
    for result in (struggling(), errored(), hostile(), only_hidden):
        for reveal in ("none", "names", "all"):
            page = render_feedback(env, run, result, reveal=reveal)
            assert not claim.search(page), result.id
    assert claim.search(render_feedback(env, run, perfect()))


def test_errored_submission_shows_its_error(env: jinja2.Environment) -> None:
    page = render_feedback(env, grade_run(), errored())
    assert "could not be graded" in page and "bad CRC in activations.py" in page
    assert 'role="alert"' in page


def test_problems_advisories_and_footer(env: jinja2.Environment) -> None:
    page = render_feedback(env, grade_run(), struggling())
    assert "skipped notes.txt: not a .py file" in page
    notes = page.split('id="notes"')[1]
    assert "Notes that cost no points" in page and "overflow encountered in exp" in notes
    assert "softmax large" not in notes  # hidden test title stays hidden under reveal=none
    # The run's details are folded away in plain words; the recorded steps only inside the fold.
    footer = page.split('<footer class="page-foot">')[1]
    details = footer.split("<details")[1].split("</details>")[0]
    assert "<summary>Grading details</summary>" in details
    assert "seed <code>1234</code>" in details and "uid+userns+netns+mountns+rlimits" in details
    assert "It had no network access." in details
    assert "uid+" not in footer.replace(details, "") and "--seed" not in page
    assert "0.1.0" in footer
    # The index, for the instructor, keeps the recorded values in its own footer.
    assert "uid+userns+netns+mountns+rlimits" in render_index(env, grade_run())


def _coordinates(page: str) -> list[str]:
    found = [a.get("d") or "" for t, a in tags(page) if t == "path"]
    found += [a.get("points") or "" for t, a in tags(page) if t == "polyline"]
    return found


def test_curves_become_inline_svg(env: jinja2.Environment) -> None:
    page = render_feedback(env, grade_run(), struggling())
    assert page.count("<svg") == 4  # the curve with student=None still shows the reference
    assert "took longer than 2 s" in page
    assert "differs here" in page
    assert any(re.search(r"\d", d) for d in _coordinates(page))
    assert all(d.strip() not in ("", "M") for d in _coordinates(page))


@pytest.mark.parametrize("chart", [
    lambda: svg.line_plot(relu_curve(tuple(z if z > 1 else math.nan for z in z_grid()))),
    lambda: svg.line_plot(relu_curve(tuple(math.inf for _ in z_grid()))),
    lambda: svg.bar_plot(softmax_bars((math.inf, -math.inf, math.nan))),
    lambda: svg.line_plot(entropy_curve()),
    lambda: svg.histogram([0, 3.5, 10, 10, 7], 10),
    lambda: svg.histogram([], 0),
])
def test_charts_are_valid_svg_with_title_and_desc(chart: Callable[[], str]) -> None:
    markup = chart()
    assert markup.startswith("<svg") and markup.endswith("</svg>")
    assert "<title" in markup and "<desc" in markup and 'viewBox="0 0' in markup
    assert "nan" not in re.sub(r"<(title|desc|text)[^>]*>[^<]*<", "", markup).lower()
    html5lib.HTMLParser(strict=True).parse(f"<!DOCTYPE html><title>t</title>{markup}")


def test_differences_are_described_in_words() -> None:
    z = z_grid()
    curve = relu_curve(tuple(max(0.0, v) if v < 2 else v + 1 for v in z))
    assert curves.differing_ranges(curve) == [(2.0, 4.0)]
    assert "for z from 2 to 4" in curves.describe_differences(curve)
    assert curves.differing_ranges(relu_curve(tuple(max(0.0, v) for v in z))) == []


def test_index_summarises_the_class(env: jinja2.Environment) -> None:
    run = grade_run()
    index = render_index(env, run)
    hrefs = [a.get("href") for t, a in tags(index) if t == "a"]
    for sub in run.submissions:
        assert student_href(sub.id) in hrefs
    assert "<svg" in index and "Most common misconceptions" in index
    assert RELU_MISCONCEPTION in index and SOFTMAX_MISCONCEPTION in index
    assert "bad CRC in activations.py" in index and "timed out" in index
    assert "Ran without a network namespace." in index
    rows = re.findall(r'<th scope="row" data-sort="([^"]*)"', index)
    assert rows == sorted(rows) and len(rows) == 4


def test_percent_never_rounds_up_to_full() -> None:
    assert fmt_percent(199, 200) == "99.5%"
    assert fmt_percent(19999, 20000) == "99.9%"  # 99.995 would round to 100
    assert fmt_percent(200, 200) == "100%"
    # One rule everywhere, never truncated: that of grades.csv.
    assert fmt_percent(2.5, 70) == "3.6%" and fmt_percent(1, 6) == "16.7%"
    assert fmt_percent(6, 10) == "60%" and fmt_percent(1, 100000) == "0.1%"


def test_pages_are_valid_html5(env: jinja2.Environment) -> None:
    for page in all_pages(env):
        html5lib.HTMLParser(strict=True).parse(page)
        assert page.startswith("<!DOCTYPE html>")
        assert '<html lang="en">' in page and '<meta charset="utf-8">' in page
        assert 'name="viewport"' in page and "<title>" in page


def test_no_external_resources(env: jinja2.Environment) -> None:
    for page in all_pages(env):
        for _, attrs in tags(page):
            for key in ("src", "href", "action", "xlink:href", "srcset", "poster"):
                value = (attrs.get(key) or "").strip().lower()
                assert not value.startswith(("http:", "https:", "//", "javascript:")), value
        assert not re.search(r"url\((?!#)", page)
        assert "@import" not in page


def test_unknown_reveal_is_refused(env: jinja2.Environment) -> None:
    with pytest.raises(ValueError):
        render_feedback(env, grade_run(), perfect(), reveal="everything")


def test_empty_class_and_empty_submission_still_render(env: jinja2.Environment) -> None:
    empty = GradeRun("0.1.0", 7, "rlimits", ())
    html5lib.HTMLParser(strict=True).parse(render_index(env, empty))
    nothing = SubmissionResult("eve", "graded", 0.0, 0.0, ())
    page = render_feedback(env, GradeRun("0.1.0", 7, "rlimits", (nothing,)), nothing)
    html5lib.HTMLParser(strict=True).parse(page)
    assert "No tests ran" in page and "all tests passed" not in page.lower()


def test_a_plot_that_matches_says_so_only_when_the_function_lost_no_points() -> None:
    from grader.reports.context import UNSAMPLED_LOSS, plot_view

    ref = (0.09, 0.24, 0.67)
    same = Curve("activations", "softmax", "bars", (1.0, 2.0, 3.0), ref, ref)
    right = plot_view(same, "p0")
    assert right.caption.startswith("Your values match the reference") and \
        UNSAMPLED_LOSS not in right.caption
    # An unstable softmax: right on the plot's small logits, nan on the tests' large ones.
    wrong = plot_view(same, "p0", lost=True)
    assert wrong.caption.endswith(UNSAMPLED_LOSS)
    differs = Curve("activations", "softmax", "bars", (1.0, 2.0, 3.0), ref, (0.5, 0.2, 0.3))
    assert UNSAMPLED_LOSS not in plot_view(differs, "p0", lost=True).caption
