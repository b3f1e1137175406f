#!/usr/bin/env python3
"""Latency of one submission graded end to end, against one naive pytest process.

    python bench/latency.py [--rounds 5] [--seed 1]

A course platform (Gradescope, GitHub Classroom, a CI job) grades one submission per run, so what
counts there is the time from starting the command to having the results. This grades one
correct synthetic submission (bench.py's builder) with:

- `naive`: one `python -m pytest` process over the visible and hidden suites of the core
  exercises, the submission imported directly (bench.py's baseline: no sandbox, no reports);
- `grade run`: the `grade` command on that one folder, the same exercises, with and without plots,
  writing every output (results.json, grades.csv, the pages);
- `grade check`: a student's own check in a handout folder holding the same files (visible tests
  only, one feedback page).

Each command runs `--rounds` times, interleaved so that the host's drift touches all alike; the
table shows median wall time and CPU time of the command's whole process tree (os.wait4), and
each one's ratio to the naive process (target: at most 1.5x).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bench  # noqa: E402

TARGET_RATIO = 1.5
GRADE = [sys.executable, "-m", "grader"]


@dataclass
class Timings:
    """Wall and CPU seconds of each run of one command."""

    label: str
    """What ran."""
    wall: list[float] = field(default_factory=list)
    """Wall-clock seconds per run."""
    cpu: list[float] = field(default_factory=list)
    """User + system CPU seconds of the command's process tree per run."""


def run_timed(cmd: list[str], cwd: Path, timings: Timings, ok: tuple[int, ...] = (0,)) -> None:
    """Run cmd once; add its wall and CPU time to timings (exit if it failed)."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    error = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
    if proc.returncode not in ok:
        sys.exit(f"{timings.label} failed (exit {proc.returncode}):\n{error[-2000:]}")
    timings.wall.append(wall)
    timings.cpu.append(usage.ru_utime + usage.ru_stime)


def one_correct(folder: Path, seed: int) -> bench.Student:
    """One correct synthetic submission, written to folder/<id>."""
    rng = random.Random(seed)
    student = bench.make_student(1, "correct", 0, rng, bench.extra_mistakes())
    target = folder / student.id
    target.mkdir(parents=True)
    for name, text in student.files.items():
        (target / name).write_text(text, encoding="utf-8")
    return student


def handout_with(student: bench.Student, folder: Path) -> Path:
    """A handout folder whose stubs of the core exercises are replaced by the student's files."""
    handout = folder / "handout"
    subprocess.run([*GRADE, "handout", "--out", str(handout)], check=True,
                   stdout=subprocess.DEVNULL)
    for name, text in student.files.items():
        exercise = handout / "exercises" / Path(name).stem
        if exercise.is_dir():
            (exercise / name).write_text(text, encoding="utf-8")
    return handout


Command = Callable[[], list[str]]
"""Makes the argv of one run (a grade run gets a fresh output folder each time)."""


def commands(work: Path, student: bench.Student,
             seed: int) -> list[tuple[Timings, Command, Path, tuple[int, ...]]]:
    """Each timed command with its working folder and accepted exit codes."""
    naive = bench.prepare_naive(student, work / "naive", seed)
    naive_cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir",
                 str(naive), "-c", str(naive / "pytest.ini"), str(naive)]
    exercises = [arg for name in bench.CORE for arg in ("--exercise", name)]
    one = work / "class" / student.id
    handout = handout_with(student, work)
    runs = work / "runs"

    def grade_run(*extra: str) -> Command:
        # A fresh output folder each time: a rerun into the same one would reuse its result.
        return lambda: [*GRADE, str(one), "--out", str(Path(tempfile.mkdtemp(dir=runs))),
                        "--seed", str(seed), *exercises, *extra]

    runs.mkdir()
    return [
        (Timings("naive pytest"), lambda: naive_cmd, naive, (0, 1)),
        (Timings("grade run"), grade_run(), work, (0,)),
        (Timings("grade run --no-plots"), grade_run("--no-plots"), work, (0,)),
        (Timings("grade check"), lambda: [*GRADE, "check", str(handout)], handout, (0, 1)),
    ]


def report(all_timings: list[Timings]) -> str:
    """The table: medians, and each command's ratio to the naive process."""
    naive = all_timings[0]
    base_wall, base_cpu = statistics.median(naive.wall), statistics.median(naive.cpu)
    lines = [f"{'command':24} {'wall s':>7} {'cpu s':>7} {'wall x':>7} {'cpu x':>7}  runs (wall s)"]
    for t in all_timings:
        wall, cpu = statistics.median(t.wall), statistics.median(t.cpu)
        lines.append(f"{t.label:24} {wall:7.2f} {cpu:7.2f} {wall / base_wall:7.2f} "
                     f"{cpu / base_cpu:7.2f}  {' '.join(f'{w:.2f}' for w in t.wall)}")
    for t in all_timings[1:]:
        ratio = statistics.median(t.wall) / base_wall
        lines.append(f"{t.label}: {ratio:.2f}x the naive process's wall time "
                     f"(target <= {TARGET_RATIO}x): {'yes' if ratio <= TARGET_RATIO else 'NO'}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed runs of each command")
    parser.add_argument("--seed", type=int, default=1, help="seed of the submission and tests")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="latency-") as tmp:
        work = Path(tmp)
        student = one_correct(work / "class", args.seed)
        plan = commands(work, student, args.seed)
        probe = bench.cpu_probe()
        for timings, cmd, cwd, ok in plan:  # one warm-up each (file cache, bytecode)
            run_timed(cmd(), cwd, Timings("warm-up"), ok)
        for _ in range(args.rounds):
            for timings, cmd, cwd, ok in plan:
                run_timed(cmd(), cwd, timings, ok)
        print(f"one correct submission, exercises {', '.join(bench.CORE)}; {args.rounds} "
              f"round(s); CPU probe {probe:.0f} ms before, "
              f"{bench.cpu_probe():.0f} ms after")
        print(report([t for t, *_ in plan]))
        shutil.rmtree(work / "runs", ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
