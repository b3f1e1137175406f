"""The HTML reports as a person sees them: the sample class graded once, then rendered in Chromium.

Everything here is read from the rendered page (visible text, layout boxes, what the browser
fetched or logged), not from the HTML source. Set UPDATE_SCREENSHOTS=1 to also rewrite the
screenshots in docs/screenshots/.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pytest

from grader.pitfalls import lookup
from grader.reports.context import fmt_percent, fmt_points
from grader.reports.html import make_environment, render_index
from grader.reports.results_json import read_results_json
from tests.test_index_page import Made, make_class

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium")
if CHROMIUM is None:
    pytest.skip("no `chromium` on PATH: install Debian's chromium package to run the browser "
                "tests", allow_module_level=True)
sync_api = pytest.importorskip(
    "playwright.sync_api",
    reason="Playwright for Python is not installed (pip install -e '.[test]')")

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "examples" / "submissions"
SCREENSHOTS = REPO / "docs" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PHONE, DESKTOP = 390, 1280
PAPER = 718
"""Printable width of an A4 page at Chromium's default margins, in CSS pixels."""
NOT_IMPLEMENTED = "is not implemented yet"


@dataclass
class Graded:
    out: Path
    results: dict[str, Any]

    def submission(self, student: str) -> dict[str, Any]:
        return next(s for s in self.results["submissions"] if s["id"] == student)

    def page(self, student: str) -> str:
        return (self.out / student / "feedback.html").as_uri()

    @property
    def index(self) -> str:
        return (self.out / "index.html").as_uri()

    @property
    def students(self) -> list[str]:
        return sorted(s["id"] for s in self.results["submissions"])


@dataclass
class Visit:
    """An open page plus everything the browser logged or fetched while showing it."""

    page: Any
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def text(self) -> str:
        """The rendered text of the page with whitespace collapsed."""
        return squash(self.page.inner_text("body"))

    def overflow(self) -> tuple[int, int]:
        width, viewport = self.page.evaluate(
            "[document.documentElement.scrollWidth, window.innerWidth]")
        return int(width), int(viewport)

    def assert_clean(self) -> None:
        assert self.errors == [], f"console errors: {self.errors}"
        foreign = [u for u in self.requests if not u.startswith("file://")]
        assert foreign == [], f"the page fetched something that is not a local file: {foreign}"


def squash(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Graded:
    out = tmp_path_factory.mktemp("browser") / "out"
    done = subprocess.run([sys.executable, "-m", "grader", str(SAMPLE), "--out", str(out),
                           "--jobs", "2", "--quiet"], capture_output=True, text=True, cwd=REPO,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    return Graded(out, json.loads((out / "results.json").read_text(encoding="utf-8")))


@dataclass
class Chromium:
    browser: Any
    tab: Visit
    """One page shared by the tests that need no special context: opening pages is the slow part."""


def _watch(page: Any, seen: Visit) -> None:
    page.on("console", lambda m: seen.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen.errors.append(f"uncaught: {e}"))
    page.context.on("request", lambda r: seen.requests.append(r.url))


@pytest.fixture(scope="module")
def browser() -> Iterator[Chromium]:
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        tab = Visit(chromium.new_context(viewport={"width": DESKTOP, "height": 900}).new_page())
        _watch(tab.page, tab)
        yield Chromium(chromium, tab)
        chromium.close()


@contextmanager
def visit(chromium: Chromium, url: str | None, width: int = DESKTOP,
          **context: Any) -> Iterator[Visit]:
    """The page at `url` on a screen `width` pixels wide, in a fresh browser context when context
    options are given, else in the shared tab with its logs emptied and its media reset."""
    if not context:
        seen = chromium.tab
        seen.errors.clear()
        seen.requests.clear()
        seen.page.emulate_media(media="screen")
        seen.page.set_viewport_size({"width": width, "height": 900})
        if url is not None:
            seen.page.goto(url)
        yield seen
        return
    ctx = chromium.browser.new_context(viewport={"width": width, "height": 900}, **context)
    try:
        seen = Visit(ctx.new_page())
        _watch(seen.page, seen)
        if url is not None:
            seen.page.goto(url)
        yield seen
    finally:
        ctx.close()


# --- root causes: a syntax error, a missing file -----------------------------------------------

BROKEN = "import numpy as np\n\n\ndef relu(z):\n    return np.maximum(0, z\n"


@pytest.fixture(scope="module")
def causes(tmp_path_factory: pytest.TempPathFactory) -> Graded:
    """Two students graded by the command: one whose activations.py does not parse, one who
    handed in every file but concepts.py (the sample's alice otherwise)."""
    root = tmp_path_factory.mktemp("causes")
    subs, out = root / "subs", root / "out"
    shutil.copytree(SAMPLE / "alice", subs / "syntax")
    (subs / "syntax" / "activations.py").write_text(BROKEN)
    shutil.copytree(SAMPLE / "alice", subs / "nofile")
    (subs / "nofile" / "concepts.py").unlink()
    done = subprocess.run([sys.executable, "-m", "grader", str(subs), "--out", str(out),
                           "--jobs", "2", "--quiet"], capture_output=True, text=True, cwd=REPO,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    return Graded(out, json.loads((out / "results.json").read_text(encoding="utf-8")))


def _fix_items(page: Any) -> list[str]:
    return [squash(t) for t in page.locator("ol.fixes > li").all_inner_texts()]


def test_a_syntax_error_is_the_first_thing_to_fix(browser: Chromium, causes: Graded) -> None:
    with visit(browser, causes.page("syntax")) as v:
        items = _fix_items(v.page)
        assert items and "activations.py" in items[0] and "was never closed" in items[0]
        assert "return np.maximum(0, z" in items[0]  # the line itself, as the student wrote it
        assert not any("activations.py" in item for item in items[1:])
        cards = v.page.locator("section.exercise", has_text="activations.py")
        assert cards.locator(".blocked").count() == 1  # one card, not one per test
        for width in (PHONE, DESKTOP):
            v.page.set_viewport_size({"width": width, "height": 900})
            scroll, viewport = v.overflow()
            assert scroll <= viewport, f"the page is {scroll} px wide at {width} px"
        v.assert_clean()


def test_a_missing_file_is_one_item_and_one_card(browser: Chromium, causes: Graded) -> None:
    with visit(browser, causes.page("nofile")) as v:
        items = _fix_items(v.page)
        mentions = [item for item in items if "concepts.py" in item]
        assert len(mentions) == 1 and "(−10 points" in mentions[0]
        section = v.page.locator("section.exercise", has_text="concepts.py")
        assert section.locator(".blocked").count() == 1
        assert section.locator("ul.tests li").count() == 0
        text = squash(v.page.inner_text("main"))
        assert "Concepts.py" not in text  # a file name a student may copy keeps its case
        v.page.emulate_media(media="print")
        for width in (PHONE, PAPER):
            v.page.set_viewport_size({"width": width, "height": 900})
            scroll, viewport = v.overflow()
            assert scroll <= viewport, f"printed at {width} px the page is {scroll} px wide"


# --- bob: np.max in relu, the unstable softmax ---------------------------------------------------

def test_bob_sees_his_misconception_hint_and_score(browser: Chromium, graded: Graded) -> None:
    np_max = lookup("np_max")
    assert np_max is not None
    bob = graded.submission("bob")
    with visit(browser, graded.page("bob"), PHONE) as v:
        text = v.text()
        assert np_max.misconception in text
        assert np_max.hint in text
        score = squash(v.page.locator(".scorecard .score").inner_text())
        assert score == (f"{fmt_points(bob['score'])} / {fmt_points(bob['max_score'])} points "
                         f"({fmt_percent(bob['score'], bob['max_score'])})")
        fix = v.page.get_by_role("heading", name="What to fix first", exact=True)
        assert fix.is_visible()
        # The np.max sentence sits in the "What to fix first" list itself, not only further down.
        first = v.page.locator("ol.fixes > li").filter(has_text="relu()").first
        assert first.is_visible()
        assert np_max.misconception in squash(first.inner_text())
        assert np_max.hint in squash(first.locator("ul.hints").inner_text())
        v.assert_clean()


def test_visible_failure_shows_expected_and_got_with_differences_marked(
        browser: Chromium, graded: Graded) -> None:
    with visit(browser, graded.page("carol"), PHONE) as v:
        tables = v.page.locator("main table.compare")
        assert tables.count() >= 1
        table = tables.first
        assert table.is_visible()
        header = squash(table.locator("thead").inner_text())
        assert header == "index expected got verdict"
        marked = table.locator("tbody tr.differs")
        assert marked.count() >= 1
        # Marked in words, not only in colour.
        assert all("≠ differs" in squash(row.inner_text()) for row in marked.all())
        assert v.overflow()[0] <= v.overflow()[1], "the table must not widen the phone page"
        v.assert_clean()


def test_bob_plots_are_drawn(browser: Chromium, graded: Graded) -> None:
    with visit(browser, graded.page("bob"), PHONE) as v:
        charts = v.page.locator("main svg.chart")
        assert charts.count() >= 1
        assert v.page.locator("main img").count() == 0, "plots must be inline SVG, not images"
        drawn = []
        for shape in charts.locator("path, polyline").all():
            coords = shape.get_attribute("d") or shape.get_attribute("points") or ""
            box = shape.bounding_box()
            if coords.strip() and box and box["width"] > 0 and box["height"] > 0:
                drawn.append(box["width"])
        assert drawn, "no curve with coordinates and a non-empty box on the page"
        chart_width = charts.first.bounding_box()["width"]
        assert max(drawn) >= chart_width / 2, "no curve spans even half of its chart"
        v.assert_clean()


def test_feedback_pages_fit_the_screen(browser: Chromium, graded: Graded) -> None:
    with visit(browser, None) as v:
        for student in graded.students:
            v.page.goto(graded.page(student))
            for width in (PHONE, DESKTOP):
                v.page.set_viewport_size({"width": width, "height": 900})
                scroll, viewport = v.overflow()
                assert scroll <= viewport, f"{student}'s page is {scroll} px wide at {width} px"
                assert _scrolling_tables(v.page) == [], f"{student}'s page at {width} px"
        v.assert_clean()


def _scrolling_tables(page: Any) -> list[str]:
    """Tables a reader must scroll sideways, named by their section; the class summary's table of
    students, one column per exercise, is the only one allowed to."""
    return page.eval_on_selector_all(
        ".table-wrap", """ws => ws.filter(w => w.scrollWidth > w.clientWidth + 1)
            .map(w => w.closest('section').getAttribute('aria-labelledby'))
            .filter(name => name !== 'students')""")


def test_feedback_page_prints_without_overflow(browser: Chromium, graded: Graded) -> None:
    with visit(browser, graded.page("bob")) as v:
        v.page.emulate_media(media="print")
        for width in (PHONE, PAPER, DESKTOP):
            v.page.set_viewport_size({"width": width, "height": 900})
            scroll, viewport = v.overflow()
            assert scroll <= viewport, f"printed at {width} px the page is {scroll} px wide"
        assert not v.page.locator("nav.toc").is_visible(), "the table of contents is for screens"


def test_exercise_percent_agrees_with_its_points(browser: Chromium, graded: Graded) -> None:
    with visit(browser, graded.page("bob")) as v:
        rows = v.page.locator("section[aria-labelledby=scores] tbody tr").all()
        assert rows
        for row in rows:
            cell = squash(row.locator("td.num").inner_text())
            got, top, percent = re.fullmatch(r"([\d.]+) / ([\d.]+) (\d+)%", cell).groups()
            assert int(percent) == math.floor(100 * float(got) / float(top) + 1e-9), cell


# --- the other students ---------------------------------------------------------------------------

def test_dave_is_told_his_functions_are_not_implemented(browser: Chromium, graded: Graded) -> None:
    with visit(browser, graded.page("dave")) as v:
        text = v.text()
        for function in ("relu", "sigmoid", "tanh", "softmax", "leaky_relu", "relu_grad",
                         "softmax_temperature", "entropy"):
            assert f"{function}() {NOT_IMPLEMENTED}" in text
        assert "NotImplementedError" in text
        assert "Traceback" not in text
        v.assert_clean()


def test_mallory_sees_the_limits_in_plain_words(browser: Chromium, graded: Graded) -> None:
    with visit(browser, graded.page("mallory")) as v:
        text = v.text()
        assert re.search(r"your relu\(\) did not return within [\d.]+ s", text), text[:2000]
        assert re.search(r"your tanh\(\) used more than [\d.]+ [KMG]iB of memory", text)
        assert "It ran out of time" in text
        for jargon in ("Traceback", "MemoryError", "TimeoutError", "SIGKILL", "errno"):
            assert jargon not in text
        # The hostile object's own repr never reaches the page, only the grader's description.
        assert "_AlwaysEqual object at 0x" not in text
        v.assert_clean()


def test_erin_is_told_which_files_are_missing(browser: Chromium, graded: Graded) -> None:
    handed_in = {p.stem for p in (SAMPLE / "erin").glob("*.py")}
    graded_for = dict.fromkeys(t["exercise"] for t in graded.submission("erin")["tests"])
    missing = [e for e in graded_for if e not in handed_in]
    assert missing, "the sample class's erin should have left files out"
    with visit(browser, graded.page("erin")) as v:
        text = v.text()
        for exercise in missing:
            assert f"{exercise}.py was not found in your submission" in text
        for exercise in handed_in:
            assert f"{exercise}.py was not found" not in text
        v.assert_clean()


def _secret_lines(sub: dict[str, Any]) -> tuple[set[str], set[str]]:
    """Lines of hidden tests' messages, and hidden tests' titles, that nothing a student may see
    (visible tests' messages and titles, misconceptions, hints, notes under the plots) also
    contains."""
    shown = " \n ".join([*(squash(x) for t in sub["tests"] for x in (
        [t["message"], t["name"]] if t["visibility"] != "hidden" else []) +
        [t["misconception"] or "", *t["hints"]]), *(squash(c["note"]) for c in sub["curves"])])
    lines, titles = set(), set()
    for t in sub["tests"]:
        if t["visibility"] != "hidden" or t["outcome"] == "passed":
            continue
        lines |= {squash(line) for line in t["message"].splitlines()
                  if len(squash(line)) >= 12 and squash(line) not in shown}
        if squash(t["name"]) not in shown:
            titles.add(squash(t["name"]))
    return lines, titles


def test_hidden_tests_stay_hidden_by_default(browser: Chromium, graded: Graded) -> None:
    checked = 0
    with visit(browser, None) as v:
        for student in graded.students:
            sub = graded.submission(student)
            lines, titles = _secret_lines(sub)
            v.page.goto(graded.page(student))
            text = v.text()
            leaked = sorted(s for s in lines | titles if s in text)
            assert leaked == [], f"{student}'s page shows hidden test details: {leaked}"
            assert v.page.locator("li.test", has_text="hidden test").count() == 0
            # The same comparison finds a visible test's message, so it could find a hidden one.
            for t in sub["tests"]:
                if t["visibility"] != "hidden" and t["outcome"] != "passed":
                    assert squash(t["message"].splitlines()[-1]) in text
            checked += len(lines)
        v.assert_clean()
    assert checked >= 5, "the sample class should have hidden failures with their own details"


# --- the class summary ----------------------------------------------------------------------------

def _numbers(pattern: str, text: str) -> list[int]:
    found = re.search(pattern, text)
    assert found, f"{pattern!r} not in {text!r}"
    return [int(n) for n in found.groups()]


def test_index_histogram_is_drawn(browser: Chromium, graded: Graded) -> None:
    with visit(browser, graded.index) as v:
        chart = v.page.locator("section[aria-labelledby=distribution] svg.chart")
        assert chart.count() == 1 and chart.is_visible()
        desc = chart.locator("desc").text_content() or ""
        counts = [int(c) for c in re.findall(r": (\d+)(?=[,.])", desc)]
        assert sum(counts) == len(graded.students), desc
        bars = [b for b in (r.bounding_box() for r in chart.locator("rect").all())
                if b and b["width"] > 0 and b["height"] > 1]
        assert bars, "the histogram has no visible bar"
        v.assert_clean()


def test_index_links_every_student_to_an_existing_page(browser: Chromium, graded: Graded) -> None:
    with visit(browser, graded.index) as v:
        links = v.page.locator("table.sortable tbody a")
        by_id = {squash(a.inner_text()): a.evaluate("a => a.href") for a in links.all()}
        assert sorted(by_id) == graded.students
        every = v.page.eval_on_selector_all("a[href]", "as => as.map(a => a.href)")
        for href in every:
            url = urlparse(href)
            assert url.scheme == "file", href
            assert Path(unquote(url.path)).is_file(), f"broken link: {href}"
        for student, href in by_id.items():
            assert Path(unquote(urlparse(href).path)) == graded.out / student / "feedback.html"
        v.assert_clean()


def test_index_counts_the_np_max_misconception(browser: Chromium, graded: Graded) -> None:
    np_max = lookup("np_max")
    assert np_max is not None
    expected = sum(any(t["pitfall"] == "np_max" and t["outcome"] != "passed" for t in s["tests"])
                   for s in graded.results["submissions"])
    with visit(browser, graded.index) as v:
        table = v.page.locator("section[aria-labelledby=misconceptions] table")
        row = table.locator("tbody tr").filter(has_text=np_max.misconception)
        assert row.count() == 1 and row.is_visible()
        students = squash(row.locator("td").nth(1).inner_text())
        [count] = _numbers(r"(\d+) of \d+", students)
        assert count >= 1
        assert count == expected
        v.assert_clean()


def _student_order(page: Any) -> list[str]:
    found = page.eval_on_selector_all("table.sortable tbody th[scope=row]",
                                      "ths => ths.map(th => th.dataset.sort)")
    return [str(i) for i in found]


def _sort_button(page: Any, column: str) -> Any:
    # By text, not accessible name: the sort arrow drawn after a heading joins its name.
    return page.locator("table.sortable thead th button").filter(
        has_text=re.compile(rf"^\s*{re.escape(column)}\s*$"))


def test_index_table_sorts_on_click(browser: Chromium, graded: Graded) -> None:
    scores = {s["id"]: s["score"] for s in graded.results["submissions"]}
    with visit(browser, graded.index) as v:
        assert _student_order(v.page) == graded.students
        header = _sort_button(v.page, "Score")
        header.click()
        ascending = _student_order(v.page)
        assert ascending != graded.students
        assert ascending == sorted(scores, key=lambda s: scores[s])
        sorted_by = v.page.locator("table.sortable thead th[aria-sort]")
        assert squash(sorted_by.inner_text()) == "Score"
        assert sorted_by.get_attribute("aria-sort") == "ascending"
        header.click()
        assert _student_order(v.page) == ascending[::-1]
        assert sorted_by.get_attribute("aria-sort") == "descending"
        _sort_button(v.page, "Student").click()
        assert _student_order(v.page) == graded.students
        v.assert_clean()


def test_index_reads_fine_without_javascript(browser: Chromium, graded: Graded) -> None:
    with visit(browser, graded.index, PHONE, java_script_enabled=False) as v:
        table = v.page.locator("table.sortable")
        assert table.is_visible()
        assert _student_order(v.page) == graded.students
        assert table.locator("button").count() == 0
        assert v.page.locator("th[aria-sort=ascending]").inner_text().strip() == "Student"
        assert not v.page.locator("#filter-box").is_visible(), "a box that cannot filter"
        assert v.page.locator("section[aria-labelledby=distribution] svg.chart").is_visible()
        scroll, viewport = v.overflow()
        assert scroll <= viewport
        v.assert_clean()


def test_index_fits_the_screen_and_paper(browser: Chromium, graded: Graded) -> None:
    with visit(browser, graded.index) as v:
        for width in (PHONE, DESKTOP):
            v.page.set_viewport_size({"width": width, "height": 900})
            scroll, viewport = v.overflow()
            assert scroll <= viewport, f"the class summary is {scroll} px wide at {width} px"
            assert _scrolling_tables(v.page) == [], f"at {width} px"
        # On paper the tables cannot scroll sideways: they must fit the page's width.
        v.page.emulate_media(media="print")
        for width in (PHONE, PAPER, DESKTOP):
            v.page.set_viewport_size({"width": width, "height": 900})
            scroll, viewport = v.overflow()
            assert scroll <= viewport, f"printed at {width} px the summary is {scroll} px wide"
        v.assert_clean()


# --- the class summary of a large class -----------------------------------------------------------

BIG_CLASS = 400


@dataclass
class BigClass:
    """A large class built from records, and its summary written to a file."""

    made: Made
    """The class, and what its summary must say."""
    index: str
    """The class summary's address."""


@pytest.fixture(scope="module")
def big(graded: Graded, tmp_path_factory: pytest.TempPathFactory) -> BigClass:
    """Hundreds of submissions built from the sample class's tests: every kind of problem, some
    submissions not graded, long and hostile ids."""
    sample = read_results_json(graded.out / "results.json")
    alice = next(s for s in sample.submissions if s.id == "alice")
    made = make_class(alice.tests, BIG_CLASS)
    page = tmp_path_factory.mktemp("big") / "index.html"
    page.write_text(render_index(make_environment(), made.run), encoding="utf-8")
    return BigClass(made, page.as_uri())


def _visible_ids(page: Any) -> list[str]:
    found = page.eval_on_selector_all(
        "#student-table tbody tr", "rows => rows.filter(r => r.offsetParent !== null)"
        ".map(r => r.cells[0].dataset.sort)")
    return [str(i) for i in found]



def test_big_class_summary_fits_phone_and_laptop(browser: Chromium, big: BigClass) -> None:
    with visit(browser, big.index) as v:
        for width in (PHONE, DESKTOP):
            v.page.set_viewport_size({"width": width, "height": 900})
            scroll, viewport = v.overflow()
            assert scroll <= viewport, f"the class summary is {scroll} px wide at {width} px"
            assert _scrolling_tables(v.page) == [], f"at {width} px"
        # On a laptop even the students table shows every column without scrolling sideways.
        wide = v.page.eval_on_selector(
            "#student-table", "t => [t.closest('.table-wrap').scrollWidth, "
            "t.closest('.table-wrap').clientWidth]")
        assert wide[0] <= wide[1], f"the students table is cut off at {DESKTOP} px: {wide}"
        # Right after the headline numbers and the histogram, not below the long sections.
        heads = v.page.eval_on_selector_all("main h2", "hs => hs.map(h => h.id)")
        assert heads[:3] == ["distribution", "students", "trouble"], heads
        v.assert_clean()


def test_big_class_filter_shows_only_matching_rows(browser: Chromium, big: BigClass) -> None:
    every = sorted(s.id for s in big.made.run.submissions)
    with visit(browser, big.index) as v:
        box = v.page.locator("#filter-box")
        assert box.is_visible() and _visible_ids(v.page) == every
        box.press_sequentially("s0042")  # typed, key by key
        assert _visible_ids(v.page) == ["s0042"]
        assert squash(v.page.locator("#filter-count").inner_text()) == f"1 of {BIG_CLASS} shown"
        box.fill("S012")  # any case
        assert _visible_ids(v.page) == [i for i in every if "s012" in i]
        box.fill("O'BRIEN & <")
        assert _visible_ids(v.page) == ["o'brien & <co>"]
        # Sorting keeps the filter; emptying the box shows every row again.
        box.fill("s01")
        _sort_button(v.page, "Score").click()
        assert sorted(_visible_ids(v.page)) == [i for i in every if "s01" in i]
        box.fill("")
        assert sorted(_visible_ids(v.page)) == every
        assert v.page.locator("#filter-count").inner_text() == ""
        v.assert_clean()


def test_big_class_problem_groups_are_collapsed_and_counted(browser: Chromium,
                                                             big: BigClass) -> None:
    with visit(browser, big.index) as v:
        groups = v.page.locator("section[aria-labelledby=trouble] details.group")
        kinds = [g.get_attribute("data-kind") for g in groups.all()]
        assert sorted(kinds) == sorted(big.made.groups), kinds
        for group in groups.all():
            kind = group.get_attribute("data-kind") or ""
            assert group.get_attribute("open") is None, f"{kind} is open by default"
            assert not group.locator("ul.who").is_visible()
            students = big.made.groups[kind]
            summary = squash(group.locator("summary").inner_text())
            count = re.search(r"· (\d+) students?(?:, (\d+) tests?)?$", summary)
            assert count, summary
            assert int(count.group(1)) == len(students), summary
            assert int(count.group(2) or 0) == big.made.tests.get(kind, 0), summary
            group.locator("summary").click()
            listed = [squash(a.inner_text()) for a in group.locator("ul.who > li > a").all()]
            assert listed == sorted(students), kind
        crash = v.page.locator("details[data-kind=crash] ul.who")
        assert "crashed the Python process" in crash.inner_text()
        v.assert_clean()


def test_big_class_misconceptions_name_their_students(browser: Chromium, big: BigClass) -> None:
    with visit(browser, big.index) as v:
        rows = v.page.locator("section[aria-labelledby=misconceptions] tbody tr").all()
        assert rows
        for row in rows:
            [count] = _numbers(r"(\d+) of \d+", row.locator("td").nth(1).inner_text())
            names = row.locator("td").first.locator("a.id")
            assert names.count() == count
            collapsed = row.locator("details.who")
            if count > 8:  # a long list waits behind its count
                assert collapsed.count() == 1 and collapsed.get_attribute("open") is None
                assert not names.first.is_visible()
            else:
                assert collapsed.count() == 0 and names.first.is_visible()
        v.assert_clean()


def test_big_class_pass_rates_hardest_first(browser: Chromium, big: BigClass) -> None:
    with visit(browser, big.index) as v:
        cells = v.page.locator("section[aria-labelledby=tests] tbody tr td:nth-child(2)")
        shares = [a / b for a, b in (_numbers(r"(\d+) of (\d+)", c)
                                     for c in cells.all_inner_texts())]
        assert len(shares) == len({t.id for s in big.made.run.submissions for t in s.tests})
        assert shares == sorted(shares) and shares[0] < shares[-1]


_DARK_BANDS = """() => {
  const page = document.documentElement.clientWidth, found = [];
  for (const el of document.querySelectorAll('body *')) {
    const box = el.getBoundingClientRect();
    const rgba = (getComputedStyle(el).backgroundColor.match(/[\\d.]+/g) || []).map(Number);
    if (rgba.length < 3 || rgba[3] === 0 || box.width < 0.4 * page || box.height < 4) continue;
    const light = 0.2126 * rgba[0] + 0.7152 * rgba[1] + 0.0722 * rgba[2];
    if (light < 235) found.push(`${el.tagName}.${el.className} ${rgba.join(',')}`);
  }
  return found;
}"""
"""Wide elements with a background darker than near-white: bands on paper, or ink wasted."""

_HEADER_CONTROLS = """() => [...document.querySelectorAll('thead button, thead input, thead select')
  ].filter(e => getComputedStyle(e).display !== 'contents').map(e => e.textContent)"""
"""Form controls in table headers: Chromium leaves them out of the header rows it repeats on each
printed page, which then print as blank bands."""


def test_big_class_prints_clean(browser: Chromium, big: BigClass) -> None:
    with visit(browser, big.index) as v:
        v.page.emulate_media(media="print")
        for width in (PHONE, PAPER, DESKTOP):
            v.page.set_viewport_size({"width": width, "height": 900})
            scroll, viewport = v.overflow()
            assert scroll <= viewport, f"printed at {width} px the summary is {scroll} px wide"
            assert v.page.evaluate(_DARK_BANDS) == [], f"printed at {width} px"
            assert v.page.evaluate(_HEADER_CONTROLS) == [], f"printed at {width} px"
        assert not v.page.locator("#filter").is_visible(), "a filter box on paper"
        assert not v.page.locator("nav.toc").is_visible()
        # The whole students table reaches the paper, not just what its screen pane shows.
        wrap = v.page.eval_on_selector("#student-table", "t => [t.closest('.table-wrap')"
                                       ".scrollHeight, t.closest('.table-wrap').clientHeight]")
        assert wrap[0] <= wrap[1] + 1, wrap
        v.assert_clean()


# --- screenshots for the documentation ------------------------------------------------------------

MAX_SHOT_HEIGHT = 2500


def _shoot(v: Visit, path: Path, height: int | None = None) -> None:
    full = int(v.page.evaluate("document.documentElement.scrollHeight"))
    width = int(v.page.evaluate("window.innerWidth"))
    clip = {"x": 0, "y": 0, "width": width, "height": min(full, height or MAX_SHOT_HEIGHT)}
    v.page.screenshot(path=str(path), full_page=True, clip=clip)


@pytest.mark.skipif(os.environ.get("UPDATE_SCREENSHOTS") != "1",
                    reason="set UPDATE_SCREENSHOTS=1 to rewrite docs/screenshots/")
def test_update_screenshots(browser: Chromium, graded: Graded) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with visit(browser, graded.page("bob"), PHONE) as v:
        _shoot(v, SCREENSHOTS / "feedback-phone.png")
    with visit(browser, graded.page("bob"), DESKTOP) as v:
        _shoot(v, SCREENSHOTS / "feedback-desktop.png", 1800)
    with visit(browser, graded.page("carol"), DESKTOP) as v:
        item = v.page.locator("li.test", has=v.page.locator("table.compare")).first
        item.screenshot(path=str(SCREENSHOTS / "visible-test-comparison.png"))
    for name in ("feedback-phone.png", "feedback-desktop.png", "visible-test-comparison.png"):
        assert (SCREENSHOTS / name).stat().st_size > 10_000


@pytest.mark.skipif(os.environ.get("UPDATE_SCREENSHOTS") != "1",
                    reason="set UPDATE_SCREENSHOTS=1 to rewrite docs/screenshots/")
def test_update_class_summary_screenshot(browser: Chromium, graded: Graded) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with visit(browser, graded.index, DESKTOP) as v:
        _shoot(v, SCREENSHOTS / "class-summary.png")
    assert (SCREENSHOTS / "class-summary.png").stat().st_size > 10_000
