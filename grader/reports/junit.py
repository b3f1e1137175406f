"""CI-facing outputs: JUnit XML (Jenkins, GitLab, GitHub test reporters) and a Markdown summary
for $GITHUB_STEP_SUMMARY.

The XML follows the Jenkins xUnit junit-10.xsd dialect: <testsuites> holding one <testsuite>
per submission and one <testcase> per test, with <failure> for wrong answers and <error> for
errors and timeouts. A submission that could not be graded at all gets a single errored
testcase named 'submission', so CI shows it instead of an empty suite.

CI pages are often readable by students, so both outputs leave hidden tests' failure messages
out by default and show the misconception and hints instead.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from grader.atomic import write_bytes_atomic
from grader.records import EXERCISES, GradeRun, SubmissionResult, TestOutcome

# Characters XML 1.0 cannot carry at all, not even escaped (NUL, ESC from ANSI colours, lone
# surrogates); student output contains them and one would make the whole report unparsable.
_XML_ILLEGAL = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_MESSAGE_CHARS = 500


def _xml_text(text: str) -> str:
    """text with XML-illegal characters shown as \\xNN escapes."""
    return _XML_ILLEGAL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _seconds(value: float) -> str:
    """A duration in the xsd's SUREFIRE_TIME form (plain decimal, never negative)."""
    return f"{max(value, 0.0):.3f}"


def _detail(test: TestOutcome, include_hidden: bool) -> str:
    """Body text of a failure or error: the message, misconception and hints."""
    show_message = test.visibility == "visible" or include_hidden
    parts = [test.message] if test.message and show_message else []
    if test.misconception:
        parts.append(test.misconception)
    parts.extend(f"Hint: {h}" for h in test.hints)
    parts.extend(f"Note: {a}" for a in test.advisories)
    return "\n".join(parts)


def _testcase(
    suite: ET.Element, result_id: str, test: TestOutcome, include_hidden: bool
) -> None:
    """Append one <testcase> for test to suite."""
    case = ET.SubElement(
        suite,
        "testcase",
        name=_xml_text(test.id),
        classname=_xml_text(f"{result_id}.{test.exercise}"),
        time=_seconds(test.duration),
    )
    if test.outcome == "passed":
        return
    tag = "failure" if test.outcome == "failed" else "error"
    detail = _detail(test, include_hidden)
    first_line = detail.splitlines()[0] if detail.strip() else test.outcome
    node = ET.SubElement(
        case, tag, message=_xml_text(first_line[:_MESSAGE_CHARS]), type=test.outcome
    )
    node.text = _xml_text(detail)


def _suite(
    parent: ET.Element, run: GradeRun, result: SubmissionResult, include_hidden: bool
) -> tuple[int, int, int]:
    """Append one <testsuite> for result; returns (tests, failures, errors)."""
    tests = list(result.tests)
    failures = sum(t.outcome == "failed" for t in tests)
    errors = sum(t.outcome in ("error", "timeout") for t in tests)
    count = len(tests) or (1 if result.status == "error" else 0)
    errors += 1 if result.status == "error" and not tests else 0
    suite = ET.SubElement(
        parent,
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
    for test in tests:
        _testcase(suite, result.id, test, include_hidden)
    if result.status == "error" and not tests:
        case = ET.SubElement(
            suite, "testcase", name="submission", classname=_xml_text(f"{result.id}.submission")
        )
        message = result.error or "the submission could not be graded"
        ET.SubElement(case, "error", message=_xml_text(message), type="ungradable")
    return count, failures, errors


def junit_bytes(run: GradeRun, *, include_hidden_messages: bool = False) -> bytes:
    """The JUnit XML document for run, UTF-8 encoded with an XML declaration."""
    root = ET.Element("testsuites", name="grader")
    totals = [0, 0, 0]
    for result in run.submissions:
        for i, n in enumerate(_suite(root, run, result, include_hidden_messages)):
            totals[i] += n
    root.set("tests", str(totals[0]))
    root.set("failures", str(totals[1]))
    root.set("errors", str(totals[2]))
    all_tests = (t for s in run.submissions for t in s.tests)
    root.set("time", _seconds(sum(t.duration for t in all_tests)))
    ET.indent(root)
    buffer = io.BytesIO()
    ET.ElementTree(root).write(buffer, encoding="utf-8", xml_declaration=True)
    return buffer.getvalue() + b"\n"


def write_junit(run: GradeRun, path: Path, *, include_hidden_messages: bool = False) -> Path:
    """Write the JUnit XML report to path atomically.

    CI pages are often readable by students, so hidden tests' failure messages (which may describe
    the hidden inputs) are left out unless include_hidden_messages is set.
    """
    data = junit_bytes(run, include_hidden_messages=include_hidden_messages)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(Path(path), data)
    return Path(path)


# -- GitHub step summary ------------------------------------------------------------------------

# Backslash-escaping these keeps student text literal: no tables split by '|', no HTML, no links.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|&#~!])")


def md_cell(text: str) -> str:
    """text made safe for one Markdown table cell or list item (one line, no markup)."""
    one_line = " ".join(text.split())
    return _MD_SPECIAL.sub(r"\\\1", one_line)


def _exercise_order(run: GradeRun, exercises: Sequence[str] | None) -> list[str]:
    """Exercises that have tests, in the lesson's order, then any others as first seen."""
    seen: list[str] = []
    for test in (t for s in run.submissions for t in s.tests):
        if test.exercise not in seen:
            seen.append(test.exercise)
    order = list(exercises if exercises is not None else EXERCISES)
    return [e for e in order if e in seen] + [e for e in seen if e not in order]


def _score_cell(result: SubmissionResult) -> str:
    """'earned / available (percent)', or 'not graded'."""
    if result.status == "error":
        return "not graded"
    percent = 100.0 * result.score / result.max_score if result.max_score > 0 else 0.0
    return f"{result.score:g} / {result.max_score:g} ({percent:.0f}%)"


def _exercise_cell(result: SubmissionResult, exercise: str) -> str:
    """Points earned over points available in one exercise."""
    tests = [t for t in result.tests if t.exercise == exercise]
    if not tests:
        return "–"
    return f"{sum(t.score for t in tests):g} / {sum(t.max_score for t in tests):g}"


def _table(run: GradeRun, columns: list[str]) -> list[str]:
    """The score table's lines."""
    lines = [
        "| " + " | ".join(["Student", "Score", *(md_cell(c) for c in columns)]) + " |",
        "|" + "---|" * (2 + len(columns)),
    ]
    for result in run.submissions:
        cells = [md_cell(result.id), _score_cell(result)]
        cells += [_exercise_cell(result, c) for c in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _failure_line(test: TestOutcome, include_hidden: bool) -> str:
    """One failing test as a list item; hidden tests show the lesson's words, not the message."""
    text = f"- {md_cell(test.name or test.id)} ({md_cell(test.exercise)}, {test.outcome})"
    hide = test.visibility == "hidden" and not include_hidden
    detail = test.misconception if hide else test.message
    if detail:
        text += f": {md_cell(detail)}"
    for hint in test.hints:
        text += f"\n  - Hint: {md_cell(hint)}"
    return text


def _failures(run: GradeRun, max_failures: int, include_hidden: bool) -> list[str]:
    """The failing-tests section's lines, capped so huge classes stay under GitHub's size limit."""
    lines: list[str] = []
    shown = skipped = 0
    for result in run.submissions:
        failing = [t for t in result.tests if t.outcome != "passed"]
        if result.status == "error":
            lines += ["", f"**{md_cell(result.id)}**: not graded: {md_cell(result.error or '')}"]
        if not failing:
            continue
        room = max(max_failures - shown, 0)
        skipped += max(len(failing) - room, 0)
        if room:
            lines += ["", f"**{md_cell(result.id)}**", ""]
            lines += [_failure_line(t, include_hidden) for t in failing[:room]]
            shown += min(len(failing), room)
    if skipped:
        lines += ["", f"…and {skipped} more failing tests; see results.json."]
    return lines


def github_summary_markdown(
    run: GradeRun,
    *,
    exercises: Sequence[str] | None = None,
    max_failures: int = 200,
    include_hidden_messages: bool = False,
) -> str:
    """A Markdown report for $GITHUB_STEP_SUMMARY: a score table, then failing tests with hints."""
    columns = _exercise_order(run, exercises)
    lines = ["## Grading results", "", *_table(run, columns)]
    failures = _failures(run, max_failures, include_hidden_messages)
    if failures:
        lines += ["", "### Failing tests", *failures]
    for warning in run.warnings:
        lines += ["", f"> Warning: {md_cell(warning)}"]
    return "\n".join(lines) + "\n"
