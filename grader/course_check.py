"""`grade course check`: does a course grade what it claims to?

Four checks, each on the real engine and sandbox:
- the reference modules score full marks;
- the handout's stubs score 0;
- each case of the course's mistake corpus (reference/mistakes/mistakes.toml: a module with one
  known mistake) loses points on the functions it breaks and on no other, and a failing test
  reports its pitfall, so the student gets that pitfall's hint;
- the handout holds nothing of the reference (the handout builder's own checks).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from grader import course, exercise_spec, handout, preflight
from grader.course import read_toml
from grader.engine import GradeOptions, grade_submissions
from grader.errors import CourseError, UsageError
from grader.records import Submission, SubmissionResult

MISTAKES_FILE = Path("reference") / "mistakes" / "mistakes.toml"


@dataclass(frozen=True)
class Mistake:
    """One case of a course's mistake corpus."""

    name: str
    """The case's name, also its folder under reference/mistakes/."""
    exercise: str
    """The exercise module the case's file replaces."""
    broken: frozenset[str]
    """Functions that must lose points; every other function keeps full marks."""
    pitfall: str
    """The pitfall a failing test must report."""
    source: Path
    """The mistaken module: reference/mistakes/<name>/<exercise>.py."""


@dataclass(frozen=True)
class Finding:
    """One line of the check's report."""

    ok: bool
    """Whether this check passed."""
    text: str
    """What was checked, and what went wrong if it did."""


def load_mistakes(root: Path) -> dict[str, Mistake]:
    """The mistake corpus of the course at root ({} when it keeps none); CourseError naming the
    file and case when an entry is malformed."""
    path = root / MISTAKES_FILE
    if not path.is_file():
        return {}
    data = read_toml(path)
    found: dict[str, Mistake] = {}
    for name, entry in data.items():
        if not (isinstance(entry, dict) and isinstance(entry.get("exercise"), str)
                and isinstance(entry.get("pitfall"), str) and isinstance(entry.get("broken"), list)
                and all(isinstance(f, str) for f in entry["broken"]) and entry["broken"]):
            raise CourseError(f"{path}: case '{name}' needs exercise, pitfall (strings) and "
                              "broken (a list of function names)")
        source = path.parent / name / f"{entry['exercise']}.py"
        if not source.is_file():
            raise CourseError(f"{path}: case '{name}' has no file {source}")
        found[name] = Mistake(name, entry["exercise"], frozenset(entry["broken"]),
                              entry["pitfall"], source)
    return found


def check_course(root: Path, jobs: int = 2) -> list[Finding]:
    """Every finding about the course at root, in the order of the module docstring."""
    taught = course.load(root)
    preflight.verify()
    mistakes = load_mistakes(root)
    reference = {e: (root / "reference" / f"{e}.py").read_text(encoding="utf-8")
                 for e in taught.exercises}
    stubs = {e: (root / "exercises" / e / f"{e}.py").read_text(encoding="utf-8")
             for e in taught.exercises}
    subs = [Submission("reference", reference), Submission("stubs", stubs)]
    subs += [Submission(f"mistake-{m.name}", {**reference, m.exercise: m.source.read_text()})
             for m in mistakes.values()]
    graded = grade_submissions(subs, GradeOptions(jobs=jobs, exercises=taught.exercises,
                                                  plots=False))
    results = {r.id: r for r in graded.submissions}
    findings = [_full_marks(results["reference"]),
                *_stub_scores(results["stubs"], root, taught.exercises)]
    findings += [_mistake(m, results[f"mistake-{m.name}"]) for m in mistakes.values()]
    findings.append(_handout_is_clean())
    return findings


def _full_marks(result: SubmissionResult) -> Finding:
    lost = [t.id for t in result.tests if t.outcome != "passed"]
    return Finding(not lost and result.max_score > 0,
                   f"the reference scores {result.score:g} / {result.max_score:g}"
                   + (f"; it fails {', '.join(lost[:5])}" if lost else ""))


def _stub_scores(result: SubmissionResult, root: Path,
                 exercises: tuple[str, ...]) -> list[Finding]:
    """Each exercise's stub scores what its exercise.toml says (`stub_points`, 0 by default:
    a stub that is a program to debug may rightly earn some)."""
    found = []
    due_by = {spec.exercise: spec.stub_points for spec in exercise_spec.specs(root)}
    for exercise in exercises:
        tests = [t for t in result.tests if t.exercise == exercise]
        score = sum(t.score for t in tests)
        due = due_by.get(exercise, 0.0)
        passed = [t.id for t in tests if t.outcome == "passed" and t.max_score > 0]
        found.append(Finding(abs(score - due) < 1e-9,
                             f"the {exercise} stub scores {score:g} (due: {due:g})"
                             + (f"; it passes {', '.join(passed[:5])}" if passed and score != due
                                else "")))
    return found



def _mistake(case: Mistake, result: SubmissionResult) -> Finding:
    lost = {t.function or "" for t in result.tests
            if t.exercise == case.exercise and t.outcome != "passed"}
    elsewhere = {f"{t.exercise}.{t.function}" for t in result.tests
                 if t.exercise != case.exercise and t.outcome != "passed"}
    reported = {t.pitfall for t in result.tests if t.outcome != "passed"}
    problems = []
    if lost != case.broken:
        problems.append(f"it loses points on {', '.join(sorted(lost)) or 'nothing'}, not on "
                        f"{', '.join(sorted(case.broken))}")
    if elsewhere:
        problems.append(f"other exercises lose points ({', '.join(sorted(elsewhere))})")
    if case.pitfall not in reported:
        problems.append(f"no failing test reports pitfall '{case.pitfall}'")
    return Finding(not problems, f"mistake {case.name} ({case.exercise}.py)"
                   + (": " + "; ".join(problems) if problems else ""))


def _handout_is_clean() -> Finding:
    try:
        built = handout.collect()  # refuses a copy of reference/ or a hidden test
    except UsageError as exc:
        return Finding(False, f"the handout: {exc}")
    return Finding(True, f"the handout holds {len(built.files)} files, nothing of reference/")


def summary(findings: Iterable[Finding]) -> tuple[int, int]:
    """(passed, failed) counts."""
    found = list(findings)
    return sum(f.ok for f in found), sum(not f.ok for f in found)
