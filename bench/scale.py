#!/usr/bin/env python3
"""How `grade` scales with the class: peak memory and throughput for classes of two sizes, and
the Dask executor against a single run on the same class, all in one session.

    python bench/scale.py [--sizes 1000 10000] [--jobs 2] [--base REV] [--dask-size 1000]
                          [--no-dask]

For each size, one synthetic class (bench.py's builder, same seed) is graded once by the installed
`grade` (or `python -m grader`) with `--no-timings --quiet`, watched by bench.py's sampler: the
peak PSS of the whole process tree, the largest PSS any single process reached (by kind: grade,
judge, sandbox worker, sandbox child), ru_maxrss of the tree (the largest single process) and
submissions per second. The results are checked like bench.py checks them (full marks exactly for
the correct students), else exit code 1.

With --base REV, each class is also graded by that git revision (a throwaway worktree, run as
`python -m grader` from it, as bench/compare.py does), right after this tree's run, so the two
are measured in the same session on the same class; grades.csv must be the same.

Then, unless --no-dask, the class of --dask-size is graded with `--executor dask` on a local
cluster of --jobs worker processes (each package of submissions runs `grade run --shard k/N` in a
subprocess of a worker) and its results.json is compared with the single run's: it must be the
same. The table states the Dask path's overhead against the single run.

The memory target of the scale-out work: the larger class's largest process and tree within 15%
of the smaller's. Submissions per second should not drop with size. The tree's peak is given
twice: over every sampling pass, and over the steady passes only, those that found the same
processes before and after reading them (bench.tree_sample): a pass during which the sandbox
worker forked a child can count the pages they share twice, and a longer run has more such
passes to pick its maximum from.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]
import bench  # noqa: E402
import compare  # noqa: E402

T = TypeVar("T")


@dataclass(frozen=True)
class Measured:
    """One watched run of grade."""

    label: str
    size: int
    seconds: float
    cpu_seconds: float
    peak_tree: int
    steady_tree: int
    """The tree's peak over the passes in which no process started or ended."""
    steady_share: float
    """The share of passes that were steady."""
    largest_process: int
    largest: str
    at_peak: str
    """Which processes held the memory when the tree's total peaked."""
    max_rss: int


def watched(label: str, command: list[str], size: int, cwd: Path | None = None) -> Measured:
    """Run command once (in cwd: another version's tree), sampling its process tree; exit 1 if
    it fails."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, cwd=cwd,
                                env=compare._env() if cwd else None)
        sampler = bench.TreeSampler(proc.pid)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        sampler.stopped.set()
        sampler.join()
        if os.waitstatus_to_exitcode(status) != 0:
            log.seek(0)
            sys.exit(f"{label} failed:\n{log.read().decode('utf-8', 'replace')[-3000:]}")
    largest = max((sizes[0] for sizes in sampler.largest.values()), default=0)
    return Measured(label, size, seconds, usage.ru_utime + usage.ru_stime, sampler.peak,
                    sampler.steady_peak, sampler.steady_passes / max(1, sampler.passes),
                    largest, bench.describe_levels(sampler.largest),
                    bench.describe_levels(sampler.at_peak), usage.ru_maxrss * 1024)


def in_child(work: Callable[..., T], *args: object) -> T:
    """work(*args) in a forked process: this process never holds a class's sources or its
    results.json. A grade started from a process that did would count that process's size in
    ru_maxrss (the kernel keeps the high-water mark of the memory it replaces at exec)."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as pool:
        return pool.submit(work, *args).result()


def build_class(class_dir: Path, size: int, seed: int) -> list[bench.Student]:
    """bench.build_class, with what check_results reads of each student (not its files)."""
    return [replace(s, files={}) for s in bench.build_class(class_dir, size, seed)]


def grade_run(class_dir: Path, out_dir: Path, jobs: int, *extra: str) -> list[str]:
    return [*bench.grade_command(), str(class_dir), "--out", str(out_dir), "--jobs", str(jobs),
            "--no-timings", "--quiet", *extra]


def row(m: Measured) -> str:
    return (f"| {m.label} | {m.size} | {m.seconds:.1f} | {m.size / m.seconds:.1f} | "
            f"{m.cpu_seconds / m.size * 1000:.0f} | {m.peak_tree / bench.MIB:.0f} | "
            f"{m.steady_tree / bench.MIB:.0f} ({m.steady_share:.0%}) | "
            f"{m.largest_process / bench.MIB:.0f} | {m.max_rss / bench.MIB:.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dask-size", type=int, default=1000)
    parser.add_argument("--no-dask", action="store_true")
    parser.add_argument("--base", metavar="REV", help="also grade each class with this revision")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    with contextlib.ExitStack() as stack:
        base = (compare.make_tree("base", stack.enter_context(
            compare.base_worktree(args.base, work)), args.base) if args.base else None)
        measured, outs = measure_sizes(work, args, base)
        report(measured, args, work, outs, base)


def measure_sizes(work: Path, args: argparse.Namespace, base: compare.Tree | None,
                  ) -> tuple[list[Measured], dict[int, Path]]:
    measured: list[Measured] = []
    outs: dict[int, Path] = {}
    for size in args.sizes:
        class_dir = work / f"class-{size}"
        students = in_child(build_class, class_dir, size, args.seed)
        out = outs[size] = work / f"out-{size}"
        print(f"grading {size} submissions...", file=sys.stderr)
        measured.append(watched("grade", grade_run(class_dir, out, args.jobs), size))
        print(f"  {in_child(bench.check_results, out, students)}", file=sys.stderr)
        if base is not None:
            print(f"grading {size} submissions with {base.rev}...", file=sys.stderr)
            base_out = work / f"base-out-{size}"
            command = [sys.executable, "-m", "grader", str(class_dir), "--out", str(base_out),
                       "--jobs", str(args.jobs), "--no-timings", "-q", *base.extra]
            measured.append(watched(f"base {base.rev}", command, size, cwd=base.path))
            if compare.grades_differ(base_out / "grades.csv", out / "grades.csv"):
                sys.exit(f"grades.csv of {base.rev} and of this tree differ ({work})")
    return measured, outs


def report(measured: list[Measured], args: argparse.Namespace, work: Path,
           outs: dict[int, Path], base: compare.Tree | None) -> None:
    lines = ["| run | submissions | wall s | submissions/s | CPU ms per submission | "
             "peak tree PSS MiB | steady passes' peak (share of passes) | largest process PSS MiB | "
             "ru_maxrss MiB |", "|---|---|---|---|---|---|---|---|---|", *map(row, measured)]
    for label in dict.fromkeys(m.label for m in measured):
        mine = [m for m in measured if m.label == label]
        if len(mine) > 1:
            small, large = mine[0], mine[-1]
            lines.append(f"\n{label}: largest process, {large.size} vs {small.size}: "
                         f"x{large.largest_process / small.largest_process:.3f}; tree PSS "
                         f"x{large.peak_tree / small.peak_tree:.3f} (steady passes "
                         f"x{large.steady_tree / small.steady_tree:.3f}); submissions/s "
                         f"x{(large.size / large.seconds) / (small.size / small.seconds):.3f}")
    if base is not None:
        for size in args.sizes:
            new, old = (next(m for m in measured if m.size == size and m.label == label)
                        for label in ("grade", f"base {base.rev}"))
            lines.append(f"\n{size}: this tree against {base.rev}: submissions/s "
                         f"x{old.seconds / new.seconds:.3f}, largest process "
                         f"x{new.largest_process / old.largest_process:.3f}, tree PSS "
                         f"x{new.peak_tree / old.peak_tree:.3f} (steady passes "
                         f"x{new.steady_tree / old.steady_tree:.3f})")
    for m in measured:
        lines.append(f"\n{m.label} {m.size}: largest per kind: {m.largest}; at the tree's peak: "
                     f"{m.at_peak}")
    if not args.no_dask:
        lines += dask_comparison(work, args, measured, outs)
    print("\n".join(lines))


def dask_comparison(work: Path, args: argparse.Namespace, measured: list[Measured],
                    outs: dict[int, Path]) -> list[str]:
    size = args.dask_size
    class_dir = work / f"class-{size}"
    if size not in outs:
        students = in_child(build_class, class_dir, size, args.seed)
        out = outs[size] = work / f"out-{size}"
        measured.append(watched("grade", grade_run(class_dir, out, args.jobs), size))
        in_child(bench.check_results, out, students)
    single = next(m for m in measured if m.size == size and m.label == "grade")
    out = work / f"dask-{size}"
    print(f"grading {size} submissions on a local Dask cluster...", file=sys.stderr)
    dask = watched("grade --executor dask", grade_run(class_dir, out, args.jobs,
                                                      "--executor", "dask"), size)
    same = (json.loads((out / "results.json").read_text())
            == json.loads((outs[size] / "results.json").read_text()))
    if not same:
        sys.exit(f"the Dask run's results.json differs from the single run's ({out})")
    return ["\n| run | submissions | wall s | submissions/s | CPU ms per submission | "
            "peak tree PSS MiB | steady passes' peak (share of passes) | largest process PSS MiB | "
            "ru_maxrss MiB |", "|---|---|---|---|---|---|---|---|---|", row(single), row(dask),
            f"\nDask path against the single run on the same class: wall x"
            f"{dask.seconds / single.seconds:.3f} ({dask.seconds - single.seconds:+.1f} s), CPU x"
            f"{dask.cpu_seconds / single.cpu_seconds:.3f}; results.json identical"]


if __name__ == "__main__":
    main()
