#!/usr/bin/env python3
"""Benchmark of the `grade` command on a synthetic class, against one pytest process per submission.

    python bench/bench.py [--size 500] [--jobs 2] [--baseline-sample 20] [--seed 1] [--keep DIR]

Prints wall time, throughput and peak memory of `grade`, the same for a class a fifth the size
(peak memory must not grow with the class), the naive baseline, a per-stage cost breakdown, and
checks that the benchmarked run graded correctly (exit code 1 when it did not).
See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from grader import paths
from grader.engine import GradeOptions

CORE: tuple[str, ...] = ("activations", "leaky_relu", "softmax_debug", "scaling")
MISTAKE_SHARE = 0.20
HOSTILE_SHARE = 0.01
SAMPLE_SECONDS = 0.05
MIB = 1 << 20
# A pytest item runs one test for a whole cohort of submissions.
COHORT = GradeOptions().cohort_size
PAGE = os.sysconf("SC_PAGE_SIZE")
# Budgets from the design: 500 submissions in 20 s on 2 cores, 10x the naive baseline.
TARGET_SECONDS_PER_500 = 20.0
TARGET_SPEEDUP = 10.0
# Tree memory (PSS) is sampled, so two equal runs differ by a few MiB; a tenth more is real growth
# (at five times the class, it would be half as much again at 25 times).
PEAK_GROWTH_ALLOWED = 1.10
# The naive baseline has no per-call deadline; this only stops a runaway run of the benchmark.
NAIVE_TIMEOUT = 120.0

# ---------------------------------------------------------------------------------------------
# Synthetic class
# ---------------------------------------------------------------------------------------------

SIGNATURES: dict[str, dict[str, str]] = {
    "activations": {"relu": "z", "sigmoid": "z", "tanh": "z", "softmax": "z"},
    "leaky_relu": {"leaky_relu": "z, alpha=0.01", "relu_grad": "z"},
    "softmax_debug": {"softmax": "z"},
    "scaling": {"softmax_temperature": "z, temperature=1.0", "entropy": "p"},
}

_SHIFTED_SOFTMAX = [
    "exp_z = np.exp(z - np.max(z, axis=-1, keepdims=True))\n"
    "return exp_z / np.sum(exp_z, axis=-1, keepdims=True)",
    "shifted = z - np.max(z, axis=-1, keepdims=True)\n"
    "e = np.exp(shifted)\n"
    "return e / e.sum(axis=-1, keepdims=True)",
]

# Equivalent lesson-style bodies: a student picks one, so files differ in more than a comment.
CORRECT: dict[tuple[str, str], list[str]] = {
    ("activations", "relu"): ["return np.maximum(0, z)", "return np.maximum(z, 0)"],
    ("activations", "sigmoid"): ["return 1 / (1 + np.exp(-z))", "return 1.0 / (1.0 + np.exp(-z))"],
    ("activations", "tanh"): ["return np.tanh(z)"],
    ("activations", "softmax"): _SHIFTED_SOFTMAX,
    ("leaky_relu", "leaky_relu"): ["return np.where(z > 0, z, alpha * z)"],
    ("leaky_relu", "relu_grad"): ["return (z > 0).astype(int)", "return (z > 0).astype(float)"],
    ("softmax_debug", "softmax"): _SHIFTED_SOFTMAX,
    ("scaling", "softmax_temperature"): [
        "scaled = z / temperature\n"
        "exp_z = np.exp(scaled - np.max(scaled, axis=-1, keepdims=True))\n"
        "return exp_z / np.sum(exp_z, axis=-1, keepdims=True)"],
    ("scaling", "entropy"): [
        "terms = np.zeros_like(p, dtype=float)\n"
        "terms[p > 0] = p[p > 0] * np.log(p[p > 0])\n"
        "return -np.sum(terms, axis=-1)"],
}

# (label, module, function, body): each is one misconception the lesson warns about.
MISTAKES: list[tuple[str, str, str, str]] = [
    ("relu with np.max", "activations", "relu", "return np.max(0, z)"),
    ("unstable softmax", "activations", "softmax",
     "exp_z = np.exp(z)\nreturn exp_z / np.sum(exp_z, axis=-1, keepdims=True)"),
    ("softmax over the whole batch", "activations", "softmax",
     "exp_z = np.exp(z - np.max(z))\nreturn exp_z / np.sum(exp_z)"),
    ("softmax_debug left unstable", "softmax_debug", "softmax",
     "exp_z = np.exp(z)\nreturn exp_z / np.sum(exp_z, axis=-1, keepdims=True)"),
    ("temperature multiplied", "scaling", "softmax_temperature",
     "scaled = z * temperature\n"
     "exp_z = np.exp(scaled - np.max(scaled, axis=-1, keepdims=True))\n"
     "return exp_z / np.sum(exp_z, axis=-1, keepdims=True)"),
    ("relu_grad 1 at zero", "leaky_relu", "relu_grad", "return (z >= 0).astype(float)"),
]
STUBS_LABEL = "untouched stubs"

HOSTILE: list[tuple[str, str, str, str]] = [
    ("relu loops forever", "activations", "relu", "while True:\n    pass"),
    ("tanh allocates 80 GB", "activations", "tanh",
     "waste = np.ones(10**10)\nreturn np.tanh(z) + 0 * waste[0]"),
    ("softmax calls os._exit(3)", "activations", "softmax", "import os\nos._exit(3)"),
]


@dataclass(frozen=True)
class Student:
    """One synthetic submission and what grading it should give."""

    id: str
    kind: str
    """correct, mistaken or hostile."""
    label: str
    """Which variant: the mistake or the attack it carries."""
    files: dict[str, str] = field(repr=False)
    """File name -> source text."""


def _module_text(module: str, number: int, bodies: dict[str, str]) -> str:
    lines = [f"# {module}.py - submission of student {number:05d}", "import numpy as np", ""]
    for function, params in SIGNATURES[module].items():
        body = textwrap.indent(bodies[function], "    ")
        lines += ["", f"def {function}({params}):", body, ""]
    return "\n".join(lines)


def _correct_bodies(rng: random.Random) -> dict[tuple[str, str], str]:
    return {key: rng.choice(options) for key, options in CORRECT.items()}


def _files(number: int, bodies: dict[tuple[str, str], str]) -> dict[str, str]:
    return {f"{m}.py": _module_text(m, number, {f: bodies[(m, f)] for f in SIGNATURES[m]})
            for m in SIGNATURES}


def _stub_files(number: int) -> dict[str, str]:
    # The handout as it was given, with only the student's name on top.
    return {f"{m}.py": f"# submission of student {number:05d}\n"
            + (paths.exercises_dir() / m / f"{m}.py").read_text(encoding="utf-8") for m in CORE}


def extra_mistakes() -> list[tuple[str, dict[str, str]]]:
    """Mistaken variants of the course's mistake corpus (reference/mistakes/<name>/, not
    `correct`)."""
    root = paths.reference_dir() / "mistakes"
    found: list[tuple[str, dict[str, str]]] = []
    for folder in sorted(root.glob("*/")) if root.is_dir() else []:
        files = {p.name: p.read_text(encoding="utf-8") for p in folder.glob("*.py")
                 if p.stem in CORE}
        if folder.name != "correct" and files:
            found.append((f"reference/mistakes/{folder.name}", files))
    return found


def _kinds(size: int, rng: random.Random) -> list[str]:
    hostile = max(1, round(size * HOSTILE_SHARE)) if size >= 10 else 0
    mistaken = round(size * MISTAKE_SHARE)
    kinds = ["hostile"] * hostile + ["mistaken"] * mistaken
    kinds += ["correct"] * (size - len(kinds))
    rng.shuffle(kinds)
    return kinds


def make_student(number: int, kind: str, count: int, rng: random.Random,
                 extras: list[tuple[str, dict[str, str]]]) -> Student:
    """The number-th submission; `count` is how many of this kind came before it."""
    sid = f"student_{number:05d}"
    bodies = _correct_bodies(rng)
    if kind == "correct":
        return Student(sid, kind, "correct", _files(number, bodies))
    if kind == "hostile":
        label, module, function, body = HOSTILE[count % len(HOSTILE)]
        return Student(sid, kind, label, _files(number, {**bodies, (module, function): body}))
    choices = len(MISTAKES) + 1 + len(extras)
    pick = count % choices
    if pick < len(MISTAKES):
        label, module, function, body = MISTAKES[pick]
        return Student(sid, kind, label, _files(number, {**bodies, (module, function): body}))
    if pick == len(MISTAKES):
        return Student(sid, kind, STUBS_LABEL, _stub_files(number))
    label, overrides = extras[pick - len(MISTAKES) - 1]
    marked = {name: f"# submission of student {number:05d}\n{text}"
              for name, text in overrides.items()}
    return Student(sid, kind, label, {**_files(number, bodies), **marked})


def build_class(folder: Path, size: int, seed: int) -> list[Student]:
    """Write `size` submissions, one folder each, into folder; deterministic for a seed."""
    rng = random.Random(seed * 1_000_003 + size)
    extras = extra_mistakes()
    seen: dict[str, int] = {}
    students: list[Student] = []
    for number, kind in enumerate(_kinds(size, rng), start=1):
        student = make_student(number, kind, seen.get(kind, 0), rng, extras)
        seen[kind] = seen.get(kind, 0) + 1
        target = folder / student.id
        target.mkdir(parents=True)
        for name, text in student.files.items():
            (target / name).write_text(text, encoding="utf-8")
        students.append(student)
    return students


# ---------------------------------------------------------------------------------------------
# Running `grade` and watching its memory
# ---------------------------------------------------------------------------------------------


def _pss(pid: str) -> int | None:
    """Proportional set size in bytes: PSS, not RSS, since the sandbox children are forked from
    one warm worker and share most of their pages with it (RSS would count each shared page once
    per process). None when the process is gone."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as handle:
            for line in handle:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def _tree(root: int) -> dict[int, int]:
    """pid -> depth below root (0 = root) of root and every descendant, from /proc's stat files."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                raw = handle.read()
        except OSError:
            continue  # exited between the listing and the read
        # The command name may hold spaces and parentheses: split after its last ')'.
        children.setdefault(int(raw[raw.rfind(b")") + 2:].split()[1]), []).append(int(entry.name))
    depths: dict[int, int] = {}
    todo = [(root, 0)]
    while todo:
        pid, depth = todo.pop()
        depths[pid] = depth
        todo.extend((child, depth + 1) for child in children.get(pid, ()))
    return depths


def tree_rss(root: int) -> dict[int, list[int]]:
    """Memory (PSS) of root and each descendant, grouped by depth below root (0 = root)."""
    return tree_sample(root)[0]


def tree_sample(root: int) -> tuple[dict[int, list[int]], bool]:
    """tree_rss, and whether the tree kept its shape while it was read.

    PSS splits each shared page among the processes that map it at the moment it is read, and
    the processes are read one after the other: a child forked from the sandbox worker after the
    worker was read (with fewer sharers) counts the same shared pages again, a child that ended
    meanwhile hands its share back unseen. A pass that found the same processes before and
    after it read them reads a total that existed (but for a process both started and ended
    within the pass).
    """
    before = _tree(root)
    levels: dict[int, list[int]] = {}
    for pid, depth in before.items():
        pss = _pss(str(pid))
        if pss is not None:
            levels.setdefault(depth, []).append(pss)
    return levels, _tree(root) == before


# What each depth of grade's process tree is, for the breakdown at the peak.
ROLES = ("grade", "judge", "sandbox worker", "sandbox child")


def describe_levels(levels: dict[int, list[int]]) -> str:
    """'grade 120, 2 judge 61+60, ...' in MiB, deeper levels merged into the last role."""
    merged: dict[str, list[int]] = {}
    for depth, sizes in sorted(levels.items()):
        merged.setdefault(ROLES[min(depth, len(ROLES) - 1)], []).extend(sizes)
    return ", ".join(f"{len(sizes)} {role} " + "+".join(f"{x / MIB:.0f}" for x in sorted(sizes))
                     for role, sizes in merged.items()) + " MiB"


class TreeSampler(threading.Thread):
    """Samples a process tree's total PSS every SAMPLE_SECONDS until stopped; keeps the peak."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root, self.peak = root, 0
        self.at_peak: dict[int, list[int]] = {}
        self.steady_peak = 0
        """The peak over the passes during which no process of the tree started or ended
        (see tree_sample): the others can count a page shared at fork twice."""
        self.passes = self.steady_passes = 0
        self.largest: dict[int, list[int]] = {}
        """Depth -> [the largest PSS any one process at that depth reached]."""
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            levels, steady = tree_sample(self.root)
            total = sum(sum(sizes) for sizes in levels.values())
            self.passes += 1
            if total > self.peak:
                self.peak, self.at_peak = total, levels
            if steady:
                self.steady_passes += 1
                self.steady_peak = max(self.steady_peak, total)
            for depth, sizes in levels.items():
                self.largest[depth] = [max(sizes + self.largest.get(depth, []))]
            self.stopped.wait(SAMPLE_SECONDS)


@dataclass(frozen=True)
class GradeTiming:
    """One timed run of the grade command."""

    size: int
    seconds: float
    peak_tree: int
    """Largest total PSS of the whole process tree seen by the sampler, bytes."""
    at_peak: str
    """Which processes held the memory at the peak."""
    largest: str
    """The largest PSS each kind of process reached at any time."""
    max_rss: int
    """ru_maxrss of the tree: the largest single process, bytes."""
    cpu_seconds: float
    """User + system CPU of the whole tree."""
    exit_code: int
    output: str


def grade_command() -> list[str]:
    """The installed `grade` entry point, or the module when the script is not on PATH."""
    found = shutil.which("grade")
    return [found] if found else [sys.executable, "-m", "grader"]


def time_grade(class_dir: Path, out_dir: Path, jobs: int, size: int,
               sample: bool = True) -> GradeTiming:
    """Run grade once, timing it and, with `sample`, sampling its process tree's memory."""
    cmd = [*grade_command(), str(class_dir), "--out", str(out_dir), "--jobs", str(jobs), "--quiet"]
    log = tempfile.TemporaryFile()
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    sampler = TreeSampler(proc.pid)
    if sample:
        sampler.start()
    # wait4 gives this child's own rusage (its ru_maxrss covers every descendant it reaped),
    # the same counter as getrusage(RUSAGE_CHILDREN) but scoped to this one command.
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    sampler.stopped.set()
    if sample:
        sampler.join()
    log.seek(0)
    output = log.read().decode("utf-8", "replace")[-4000:]
    return GradeTiming(size=size, seconds=seconds, peak_tree=sampler.peak,
                       at_peak=describe_levels(sampler.at_peak),
                       largest=describe_levels(sampler.largest), max_rss=usage.ru_maxrss * 1024,
                       cpu_seconds=usage.ru_utime + usage.ru_stime, exit_code=proc.returncode,
                       output=output)


# ---------------------------------------------------------------------------------------------
# Checking what was benchmarked
# ---------------------------------------------------------------------------------------------


def full_marks(results: dict[str, Any]) -> set[str]:
    """Ids of graded submissions that earned every point of the four core exercises."""
    winners: set[str] = set()
    for sub in results["submissions"]:
        core = [t for t in sub["tests"] if t["exercise"] in CORE]
        exercises = {t["exercise"] for t in core}
        if (sub["status"] == "graded" and exercises == set(CORE)
                and all(t["score"] == t["max_score"] for t in core)):
            winners.add(sub["id"])
    return winners


def check_results(out_dir: Path, students: list[Student]) -> str:
    """One line: full marks given vs expected. Exits with code 1 when they differ."""
    results = json.loads((out_dir / "results.json").read_text(encoding="utf-8"))
    got = full_marks(results)
    expected = {s.id for s in students if s.kind == "correct"}
    listed = {s["id"] for s in results["submissions"]}
    line = (f"{len(got)} of {len(students)} got full marks on {', '.join(CORE)}; "
            f"expected {len(expected)} (the correct ones)")
    if got == expected and listed == {s.id for s in students}:
        return line
    by_id = {s["id"]: s for s in results["submissions"]}
    print(f"\nWRONG RESULTS in {out_dir}: {line}", file=sys.stderr)
    for student in students:
        if (student.id in got) == (student.id in expected) and student.id in by_id:
            continue
        sub = by_id.get(student.id)
        failing = [f"{t['id']}: {t['outcome']} {t['message'][:120]!r}"
                   for t in (sub or {}).get("tests", []) if t["score"] < t["max_score"]]
        print(f"  {student.id} ({student.kind}: {student.label}) "
              f"{'missing from results' if sub is None else sub['status']}", file=sys.stderr)
        for text in failing[:5]:
            print(f"      {text}", file=sys.stderr)
    sys.exit(1)


def results_stats(out_dir: Path, students: list[Student]) -> tuple[float, dict[str, float]]:
    """(tests per submission, kind -> judge-side ms in test calls per submission)."""
    results = json.loads((out_dir / "results.json").read_text(encoding="utf-8"))
    kinds = {s.id: s.kind for s in students}
    seconds: dict[str, list[float]] = {}
    tests = 0
    for sub in results["submissions"]:
        tests += len(sub["tests"])
        spent = sum(t["duration"] for t in sub["tests"])
        seconds.setdefault(kinds.get(sub["id"], "?"), []).append(spent)
    per_kind = {kind: 1000 * sum(v) / len(v) for kind, v in sorted(seconds.items())}
    return tests / max(1, len(results["submissions"])), per_kind


# ---------------------------------------------------------------------------------------------
# Naive baseline: one pytest process per submission
# ---------------------------------------------------------------------------------------------

NAIVE_CONFTEST = '''\
"""Fixtures the suites use, for one submission imported straight from this folder."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
REFERENCE = Path({reference!r})
SEED = {seed!r}
_modules = {{}}


def _load(path, name):
    if path not in _modules:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _modules[path] = module
    return _modules[path]


def _exercise(node):
    for mark in node.iter_markers("grade"):
        if "exercise" in mark.kwargs:
            return mark.kwargs["exercise"]
    raise pytest.UsageError(f"{{node.nodeid}} has no grade(exercise=...) marker")


def pytest_configure(config):
    config.addinivalue_line("markers", "grade(**kw): grading metadata")


@pytest.fixture
def student(request):
    name = _exercise(request.node)
    return _load(HERE / f"{{name}}.py", name)


@pytest.fixture
def reference(request):
    name = _exercise(request.node)
    return _load(REFERENCE / f"{{name}}.py", f"reference_{{name}}")


@pytest.fixture
def rng():
    return np.random.default_rng(SEED)
'''


def naive_suites() -> list[Path]:
    """Visible tests from exercises/ and the hidden suites, for the core exercises."""
    found: list[Path] = []
    for exercise in CORE:
        found += sorted((paths.exercises_dir() / exercise).glob("test_*_public.py"))
        found += sorted(paths.suites_dir().glob(f"test_{exercise}.py"))
    return found


def prepare_naive(student: Student, folder: Path, seed: int) -> Path:
    """A self-contained pytest folder: the submission, the suites, a conftest, an empty ini."""
    work = folder / student.id
    work.mkdir(parents=True)
    for name, text in student.files.items():
        (work / name).write_text(text, encoding="utf-8")
    for suite in naive_suites():
        shutil.copy(suite, work / suite.name)
    # The course's own modules the suites import (detectors, checks), beside them.
    for shared in sorted((paths.exercises_dir() / "shared").glob("*.py")):
        shutil.copy(shared, work / shared.name)
    conftest = NAIVE_CONFTEST.format(reference=str(paths.reference_dir()), seed=seed)
    (work / "conftest.py").write_text(conftest, encoding="utf-8")
    (work / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    return work


def run_naive(work: Path) -> dict[str, Any]:
    """One `python -m pytest` with pytest-json-report on one prepared folder; its summary."""
    report = work / "report.json"
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(work),
           "-c", str(work / "pytest.ini"), "--json-report", f"--json-report-file={report}",
           str(work)]
    # One BLAS thread, as the grader's judges get: otherwise parallel runs oversubscribe.
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, cwd=work, env=env, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=NAIVE_TIMEOUT)
    if proc.returncode not in (0, 1) or not report.is_file():
        tail = proc.stdout.decode("utf-8", "replace")[-2000:]
        sys.exit(f"naive baseline broke on {work.name} (exit {proc.returncode}):\n{tail}")
    summary: dict[str, Any] = json.loads(report.read_text(encoding="utf-8"))["summary"]
    report.unlink()  # the parallel run writes it again
    return summary


def naive_sample(students: list[Student], count: int) -> list[Student]:
    """Evenly spaced non-hostile submissions: naive pytest has no deadline or sandbox, so an
    infinite loop would hang it and os._exit would kill it (this favours the baseline)."""
    pool = [s for s in students if s.kind != "hostile"]
    step = max(1, len(pool) // max(1, count))
    return pool[::step][:count]


@dataclass(frozen=True)
class NaiveTiming:
    """The baseline, sequential and with `jobs` workers, on the same sample."""

    count: int
    sequential: float
    parallel: float
    jobs: int
    tests: int
    """Tests per submission the baseline ran."""
    agreed: int
    """Sampled submissions where the baseline's all-passed matches the expected full marks."""


def time_naive(sample: list[Student], folder: Path, jobs: int, seed: int) -> NaiveTiming:
    """Run the baseline over the sample twice: one at a time, then `jobs` at a time."""
    works = [prepare_naive(s, folder, seed) for s in sample]
    started = time.perf_counter()
    summaries = [run_naive(w) for w in works]
    sequential = time.perf_counter() - started
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(run_naive, works))
    parallel = time.perf_counter() - started
    agreed = sum((s.get("passed", 0) == s.get("total", -1)) == (st.kind == "correct")
                 for s, st in zip(summaries, sample))
    tests = max(s.get("total", 0) for s in summaries) if summaries else 0
    return NaiveTiming(count=len(sample), sequential=sequential, parallel=parallel, jobs=jobs,
                       tests=tests, agreed=agreed)


# ---------------------------------------------------------------------------------------------
# Per-stage costs (the design's budget lines)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stages:
    """Milliseconds per stage, each measured on its own."""

    spawn: float
    """Fork + isolation + loading the submission's modules, up to the first call's answer."""
    round_trip: float
    """One further call into the child and back."""
    close: float
    """Killing and reaping the child at the end of a submission."""
    pytest_item: float
    """pytest's own cost per test item, with pytest-json-report on."""
    render: float
    """All outputs (results.json, grades.csv, one feedback page) per submission."""


def measure_sandbox(student: Student, rounds: int = 20, calls: int = 50) -> tuple[float, ...]:
    """(spawn, round trip, close) in ms, from the sandbox used directly as the judge uses it."""
    from grader.sandbox.client import Sandbox, SandboxConfig
    sources = {Path(name).stem: text for name, text in student.files.items()}
    z = np.linspace(-3.0, 3.0, 7)
    spawn, trip, close = [], [], []
    with tempfile.TemporaryDirectory(prefix="bench-sandbox-") as work:
        box = Sandbox(SandboxConfig(workdir=work, hide=(work, str(paths.reference_dir()))))
        try:
            for n in range(rounds + 1):
                session = box.open(sources)
                t0 = time.perf_counter()
                session.call("activations", "relu", (z,), {})
                t1 = time.perf_counter()
                for _ in range(calls):
                    session.call("activations", "relu", (z,), {})
                t2 = time.perf_counter()
                session.close()
                t3 = time.perf_counter()
                if n:  # the first round also starts the worker and imports numpy
                    spawn.append(t1 - t0)
                    trip.append((t2 - t1) / calls)
                    close.append(t3 - t2)
        finally:
            box.close()
    return tuple(1000 * float(np.median(v)) for v in (spawn, trip, close))


def _pytest_seconds(folder: Path, items: int) -> float:
    test = folder / "test_items.py"
    test.write_text("import pytest\n\n\n@pytest.mark.parametrize('i', range(%d))\n"
                    "def test_item(i):\n    pass\n" % items, encoding="utf-8")
    (folder / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
           "-p", "pytest_jsonreport.plugin", "--json-report",
           f"--json-report-file={folder / 'report.json'}", "-c", str(folder / "pytest.ini"),
           str(test)]
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}  # as the judge runs pytest
    started = time.perf_counter()
    subprocess.run(cmd, cwd=folder, env=env, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def measure_pytest_item(items: int = 2000) -> float:
    """ms per trivial test item: the slope between a 1-item and an `items`-item session."""
    with tempfile.TemporaryDirectory(prefix="bench-pytest-") as work:
        one = min(_pytest_seconds(Path(work), 1) for _ in range(2))
        many = _pytest_seconds(Path(work), items)
    return 1000 * (many - one) / (items - 1)


def measure_render(out_dir: Path) -> float:
    """ms per submission to write every output again from the run's results.json."""
    from grader.outputs import OutputOptions, write_all
    from grader.reports.results_json import read_results_json
    run = read_results_json(out_dir / "results.json")
    with tempfile.TemporaryDirectory(prefix="bench-render-") as work:
        started = time.perf_counter()
        write_all(run, Path(work), OutputOptions())
        seconds = time.perf_counter() - started
    return 1000 * seconds / max(1, len(run.submissions))


def measure_stages(students: list[Student], out_dir: Path) -> Stages:
    """Every per-stage cost, on a correct submission of the class and the big run's outputs."""
    sample = next(s for s in students if s.kind == "correct")
    spawn, trip, close = measure_sandbox(sample)
    return Stages(spawn=spawn, round_trip=trip, close=close,
                  pytest_item=measure_pytest_item(), render=measure_render(out_dir))


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------


def _mib(size: int) -> str:
    return f"{size / MIB:.0f} MiB"


def _yes(ok: bool) -> str:
    return "yes" if ok else "NO"


def _grade_line(label: str, run: GradeTiming) -> str:
    return (f"{label:<17} {run.seconds:6.1f} s  {run.size / run.seconds:6.1f} subs/s  "
            f"{1000 * run.seconds / run.size:6.1f} ms/sub  "
            f"(cpu {1000 * run.cpu_seconds / run.size:.1f} ms/sub)  "
            f"peak PSS (tree) {_mib(run.peak_tree)}, largest process {_mib(run.max_rss)}\n"
            f"{'':<17} at the peak: {run.at_peak}\n"
            f"{'':<17} largest ever: {run.largest}")


@dataclass(frozen=True)
class Report:
    """Everything the final table shows."""

    args: argparse.Namespace
    students: list[Student]
    big: GradeTiming
    small: GradeTiming
    naive: NaiveTiming
    stages: Stages
    tests_per_sub: float
    calls_ms: dict[str, float]
    """Judge-side ms per submission spent in test calls, by kind of submission."""
    correctness: str
    load: tuple[float, float]
    """1-minute load average before the first timed run and at the end."""
    probe: tuple[float, float]
    """CPU probe (ms) before the first timed run and at the end."""


def cpu_probe() -> float:
    """Milliseconds for a fixed pure-Python loop, best of three: how fast this machine is now."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        total = 0
        for i in range(2_000_000):
            total += i * i
        best = min(best, time.perf_counter() - start)
    return best * 1000


def table(r: Report) -> str:
    """The closing table."""
    kinds = {k: sum(s.kind == k for s in r.students) for k in ("correct", "mistaken", "hostile")}
    grade_ms = 1000 * r.big.seconds / r.big.size
    seq_ms = 1000 * r.naive.sequential / r.naive.count
    par_ms = 1000 * r.naive.parallel / r.naive.count
    speedup = par_ms / grade_ms
    target_s = TARGET_SECONDS_PER_500 * r.big.size / 500
    peak_ok = r.big.peak_tree <= PEAK_GROWTH_ALLOWED * r.small.peak_tree
    growth = (r.big.peak_tree - r.small.peak_tree) / max(1, r.big.size - r.small.size)
    s = r.stages
    return "\n".join([
        f"{'class size':<17} {r.big.size} submissions, {r.args.jobs} jobs, seed {r.args.seed} "
        f"({kinds['correct']} correct, {kinds['mistaken']} mistaken, {kinds['hostile']} hostile)",
        _grade_line("grade", r.big),
        _grade_line(f"grade ({r.small.size})", r.small),
        f"{'naive pytest':<17} {r.naive.count} subs  {seq_ms:.0f} ms/sub sequential, "
        f"{par_ms:.0f} ms/sub ({r.naive.jobs} workers)  -> "
        f"{par_ms * r.big.size / 1000:.0f} s extrapolated for {r.big.size}  "
        f"({r.naive.tests} tests/sub; agreed with expected full marks on "
        f"{r.naive.agreed}/{r.naive.count})",
        f"{'speedup':<17} {speedup:.1f}x",
        f"{'stages (ms)':<17} fork+isolation+load {s.spawn:.1f}  call round trip {s.round_trip:.2f}"
        f"  kill+reap {s.close:.1f}  pytest item {s.pytest_item:.2f} x {r.tests_per_sub:.0f}"
        f" tests / {COHORT} per cohort"
        f"  render {s.render:.1f}/sub",
        f"{'test calls (ms)':<17} judge side, per submission: "
        + "   ".join(f"{kind} {ms:.0f}" for kind, ms in r.calls_ms.items()),
        f"{'correctness':<17} {r.correctness}",
        f"{'machine':<17} {os.cpu_count()} cores, load average {r.load[0]:.1f} before, "
        f"{r.load[1]:.1f} after (anything above 0 is other work sharing the cores); CPU probe "
        f"{r.probe[0]:.0f} ms before, {r.probe[1]:.0f} ms after (a fixed pure-Python loop: "
        "on a shared host it slows when neighbours take the CPU, and so does everything above)",
        f"{'targets':<17} {r.big.size} in < {target_s:.0f} s: {_yes(r.big.seconds < target_s)}   "
        f">= {TARGET_SPEEDUP:.0f}x baseline: {_yes(speedup >= TARGET_SPEEDUP)}   "
        f"peak independent of size: {_yes(peak_ok)} "
        f"({_mib(r.big.peak_tree)} vs {_mib(r.small.peak_tree)}, "
        f"{growth / 1024:+.0f} KiB per extra submission)",
    ])


# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------


def _say(text: str) -> None:
    print(f"[bench] {text}", file=sys.stderr, flush=True)


@contextmanager
def workspace(keep: Path | None) -> Iterator[Path]:
    """Where classes and outputs go: --keep DIR (left in place) or a temp folder."""
    if keep is None:
        with tempfile.TemporaryDirectory(prefix="grader-bench-") as tmp:
            yield Path(tmp)
        return
    if keep.exists() and any(keep.iterdir()):
        sys.exit(f"--keep {keep}: the folder is not empty; choose a new or empty one")
    keep.mkdir(parents=True, exist_ok=True)
    yield keep.resolve()


def graded(root: Path, name: str, size: int, args: argparse.Namespace) -> tuple[
        list[Student], GradeTiming, str]:
    """Build a class of `size`, grade it timed, and check the results."""
    students = build_class(root / f"class-{name}", size, args.seed)
    _say(f"grading {size} submissions with {args.jobs} jobs ...")
    # Timed with nothing watching, then again with the memory sampler: reading smaps_rollup of
    # some forty processes every 50 ms takes CPU from the run it measures.
    timed = time_grade(root / f"class-{name}", root / f"out-{name}", args.jobs, size, False)
    watched = time_grade(root / f"class-{name}", root / f"out-{name}-memory", args.jobs, size)
    for run in (timed, watched):
        if run.exit_code != 0:
            sys.exit(f"grade exited with {run.exit_code} on the class of {size}:\n{run.output}")
    run = replace(watched, seconds=timed.seconds, cpu_seconds=timed.cpu_seconds)
    _say(f"  {run.seconds:.1f} s, peak tree PSS {_mib(run.peak_tree)}")
    return students, run, check_results(root / f"out-{name}", students)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=500, help="submissions in the class")
    parser.add_argument("--jobs", type=int, default=2, help="grade --jobs, and naive workers")
    parser.add_argument("--baseline-sample", type=int, default=20,
                        help="submissions the naive baseline runs (then extrapolated)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the synthetic class")
    parser.add_argument("--keep", type=Path, help="keep classes and outputs in this folder")
    args = parser.parse_args(argv)
    if args.size < 10 or args.jobs < 1 or args.baseline_sample < 1:
        parser.error("--size must be at least 10, --jobs and --baseline-sample at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with workspace(args.keep) as root:
        _say("warm-up run (fills the page cache; not timed)")
        build_class(root / "class-warmup", 4, args.seed + 1)  # under 10: no hostile ones
        time_grade(root / "class-warmup", root / "out-warmup", args.jobs, 4)
        load_before, probe_before = os.getloadavg()[0], cpu_probe()
        students, big, correctness = graded(root, str(args.size), args.size, args)
        small_size = max(10, args.size // 5)
        _, small, small_check = graded(root, str(small_size), small_size, args)
        correctness += f"\n{'':<17} {small_check}"
        _say(f"naive baseline on {args.baseline_sample} submissions, sequential then parallel")
        naive = time_naive(naive_sample(students, args.baseline_sample), root / "naive",
                           args.jobs, args.seed)
        _say("per-stage costs")
        stages = measure_stages(students, root / f"out-{args.size}")
        tests_per_sub, calls_ms = results_stats(root / f"out-{args.size}", students)
        load = (load_before, os.getloadavg()[0])
        probe = (probe_before, cpu_probe())
        print(table(Report(args, students, big, small, naive, stages, tests_per_sub, calls_ms,
                           correctness, load, probe)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
