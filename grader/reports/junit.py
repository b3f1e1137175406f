"""JUnit XML for CI (Jenkins, GitLab, GitHub test reporters), and what CI outputs may show of
each test.

The XML follows the Jenkins xUnit junit-10.xsd dialect: <testsuites> holding one <testsuite>
per submission and one <testcase> per test, with <failure> for wrong answers and <error> for
errors and timeouts. A submission that could not be graded at all gets a single errored
testcase named 'submission', so CI shows it instead of an empty suite.

CI pages are often readable by students, so `--reveal` governs them as it governs the feedback
page: under "none" a hidden test is "hidden test 3 of 8 (losses.py)", with the lesson's
words (misconception, hints) but neither its name nor its message; "names" adds its name and
"all" its message. The decisions are the feedback page's own (grader.reports.context).
"""

from __future__ import annotations

import io
import re
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from grader.atomic import AtomicFile
from grader.records import GradeRun, SubmissionResult, TestOutcome
from grader.reports.context import (
    REVEALS,
    Reveal,
    by_exercise,
    exercise_sections,
    fix_items,
)

# Characters XML 1.0 cannot carry at all, not even escaped (NUL, ESC from ANSI colours, lone
# surrogates); student output contains them and one would make the whole report unparsable.
_XML_ILLEGAL = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_MESSAGE_CHARS = 500


def reveal_level(reveal: str) -> Reveal:
    """reveal as a checked level: a typo must not quietly show (or hide) hidden tests."""
    for level in REVEALS:
        if reveal == level:
            return level
    raise ValueError(f"reveal must be one of {', '.join(REVEALS)}, not {reveal!r}")


@dataclass(frozen=True)
class ShownTest:
    """One test as a CI output may show it."""

    test: TestOutcome
    named: bool
    """Whether the test's own name and id may be shown."""
    title: str
    """The test's name, or for an unnamed hidden test 'hidden test 3 of 8 (losses.py)'."""
    message: str
    """The failure message when it may be shown, else empty (always empty for a pass)."""


def shown_tests(tests: Sequence[TestOutcome], reveal: Reveal) -> list[ShownTest]:
    """Every test, grouped by exercise, with what reveal lets a CI output show of it.

    The feedback page's sections decide: a hidden test they list may be named, and the message
    they give it may be shown; the ones they leave out are numbered within their exercise.
    """
    shown: list[ShownTest] = []
    groups = by_exercise(tests)
    for section, mine in zip(exercise_sections(tests, reveal), groups.values(), strict=True):
        visible, listed = iter(section.visible), iter(section.hidden_listed)
        number = 0
        for test in mine:
            hidden = test.visibility == "hidden"
            number += 1 if hidden else 0
            view = next(listed, None) if hidden else next(visible)
            title = view.title if view is not None else \
                f"hidden test {number} of {section.hidden_total} ({test.exercise}.py)"
            shown.append(ShownTest(test, view is not None, title,
                                   view.message if view is not None else ""))
    return shown


def _xml_text(text: str) -> str:
    """text with XML-illegal characters shown as \\xNN escapes."""
    return _XML_ILLEGAL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _seconds(value: float) -> str:
    """A duration in the xsd's SUREFIRE_TIME form (plain decimal, never negative)."""
    return f"{max(value, 0.0):.3f}"


def failure_text(item: ShownTest, reveal: Reveal) -> str:
    """Body of a failure or error: the message when it may be shown, else the feedback page's
    sentence for the function (the misconception, or which kind of failure it was); then the
    hints and notes, which the feedback page shows for every test."""
    test = item.test
    fix = fix_items([test], reveal)[0]
    parts = [item.message, test.misconception] if item.message else \
        [f"{fix.function}: {fix.sentence}"]
    parts.extend(f"Hint: {h}" for h in fix.hints)
    parts.extend(f"Note: {a}" for a in test.advisories)
    return "\n".join(p for p in parts if p)


def _testcase(suite: ET.Element, result_id: str, item: ShownTest, reveal: Reveal) -> None:
    """Append one <testcase> for item to suite; an unnamed hidden test is named by number."""
    test = item.test
    case = ET.SubElement(
        suite,
        "testcase",
        name=_xml_text(test.id if item.named else item.title),
        classname=_xml_text(f"{result_id}.{test.exercise}"),
        time=_seconds(test.duration),
    )
    if test.outcome == "passed":
        return
    tag = "failure" if test.outcome == "failed" else "error"
    detail = failure_text(item, reveal)
    first_line = detail.splitlines()[0] if detail.strip() else test.outcome
    node = ET.SubElement(
        case, tag, message=_xml_text(first_line[:_MESSAGE_CHARS]), type=test.outcome
    )
    node.text = _xml_text(detail)


def _suite(run: GradeRun, result: SubmissionResult,
           reveal: Reveal) -> tuple[ET.Element, int, int, int]:
    """One <testsuite> for result, and its (tests, failures, errors)."""
    tests = list(result.tests)
    failures = sum(t.outcome == "failed" for t in tests)
    errors = sum(t.outcome in ("error", "timeout") for t in tests)
    count = len(tests) or (1 if result.status == "error" else 0)
    errors += 1 if result.status == "error" and not tests else 0
    suite = ET.Element(
        "testsuite",
        name=_xml_text(result.id),
        tests=str(count),
        failures=str(failures),
        errors=str(errors),
        skipped="0",
        time=_seconds(sum(t.duration for t in tests)),
    )
    props = ET.SubElement(suite, "properties")
    for key, value in (
        ("score", f"{result.score:g}"),
        ("max_score", f"{result.max_score:g}"),
        ("seed", str(run.seed)),
        ("isolation", run.isolation),
    ):
        ET.SubElement(props, "property", name=key, value=_xml_text(value))
    for item in shown_tests(tests, reveal):
        _testcase(suite, result.id, item, reveal)
    if result.status == "error" and not tests:
        case = ET.SubElement(
            suite, "testcase", name="submission", classname=_xml_text(f"{result.id}.submission")
        )
        message = result.error or "the submission could not be graded"
        ET.SubElement(case, "error", message=_xml_text(message), type="ungradable")
    return suite, count, failures, errors


class JunitStream:
    """The JUnit XML document made one <testsuite> at a time: add() serialises each submission's
    suite into `body` at once, finish() writes the document, whose root carries the totals.

    The bytes are those of the whole tree indented and written by ElementTree: each suite is
    indented as the second level of that tree, and the separators around it are the ones
    ET.indent gives the root's children."""

    def __init__(self, run: GradeRun, body: IO[bytes], *, reveal: str = "none") -> None:
        self._run = run
        self._level = reveal_level(reveal)
        self._body = body
        self._suites = 0
        self._totals = [0, 0, 0]
        self._time: float = 0  # as sum() adds, from the int 0, every test in class order

    def add(self, result: SubmissionResult) -> None:
        """Serialise the suite of one more submission."""
        suite, *counts = _suite(self._run, result, self._level)
        for i, n in enumerate(counts):
            self._totals[i] += n
        for test in result.tests:
            self._time += test.duration
        self._suites += 1
        ET.indent(suite, level=1)
        self._body.write(_ROOT_INDENT + ET.tostring(suite, encoding="unicode").encode("utf-8"))

    def finish(self, write: Callable[[bytes], object]) -> None:
        """Hand the whole document to write, piece by piece; body is read from its start."""
        root = ET.Element("testsuites", name="grader")
        for key, value in zip(("tests", "failures", "errors"), self._totals):
            root.set(key, str(value))
        root.set("time", _seconds(self._time))
        head = io.BytesIO()
        ET.ElementTree(root).write(head, encoding="utf-8", xml_declaration=True)
        if not self._suites:  # the root is an empty element
            write(head.getvalue() + b"\n")
            return
        write(head.getvalue().removesuffix(b" />") + b">")
        self._body.seek(0)
        while chunk := self._body.read(_CHUNK):
            write(chunk)
        write(b"\n</testsuites>\n")


_ROOT_INDENT = b"\n  "
"""What ET.indent puts before each child of the root."""
_CHUNK = 1 << 20


def junit_bytes(run: GradeRun, *, reveal: str = "none") -> bytes:
    """The JUnit XML document for run, UTF-8 encoded with an XML declaration."""
    stream = JunitStream(run, io.BytesIO(), reveal=reveal)
    for result in run.submissions:
        stream.add(result)
    out = io.BytesIO()
    stream.finish(out.write)
    return out.getvalue()


class JunitWriter:
    """write_junit one submission at a time: add() each, then finish(); leaving the `with`
    block unfinished leaves path as it was.

    The suites wait in an unnamed temporary file beside path (the totals that head the document
    are known only after the last one), so memory holds one suite at a time."""

    def __init__(self, path: Path, run: GradeRun, *, reveal: str = "none") -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._body = tempfile.TemporaryFile(dir=self.path.parent)
        self._stream = JunitStream(run, self._body, reveal=reveal)

    def add(self, result: SubmissionResult) -> None:
        """Add one more submission's suite."""
        self._stream.add(result)

    def finish(self) -> Path:
        """Write the report to path atomically; its path."""
        with AtomicFile(self.path) as out:
            self._stream.finish(out.write_bytes)
            out.commit()
        return self.path

    def __enter__(self) -> JunitWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self._body.close()


def write_junit(run: GradeRun, path: Path, *, reveal: str = "none") -> Path:
    """Write the JUnit XML report to path atomically.

    CI pages are often readable by students: reveal ("none", "names" or "all", as for the
    feedback pages) says how much of the hidden tests it shows.
    """
    with JunitWriter(path, run, reveal=reveal) as writer:
        for result in run.submissions:
            writer.add(result)
        return writer.finish()
