#!/usr/bin/env python3
"""Side-by-side benchmark of two versions of the grader: a base git revision against this tree.

    python bench/compare.py --base REV [--size 500] [--jobs 2] [--rounds 3] [--seed 1]

Why side by side: the host's speed drifts by a quarter from hour to hour, so two benchmarks run
at different times compare the hours more than the code. Here both versions run in one session,
on one class, interleaved, and the CPU probe is read before and after to show any drift.

Method:
1. One synthetic class is written with bench.py's builder (same seed, same class as bench.py).
2. The base revision is checked out as a throwaway detached `git worktree` in a temp folder;
   "new" is this working tree, uncommitted edits included. Each version runs as
   `python -m grader CLASS --out OUT --jobs N --no-timings -q` with its tree as the current
   folder: with -m the current folder comes first on sys.path, so each run imports its own
   `grader` (its judges and sandbox workers then put that same package first on their path).
   Each tree's `grader.__file__` is printed at the start; the script stops if both are the same.
   `--isolation-minimum limits` is passed only to a version whose `run --help` lists it.
3. One untimed warm-up run of each (page cache, and the .pyc files of the fresh worktree), then
   --rounds timed rounds of base, new. Every run writes into a new output folder, since a rerun
   into the same folder would reuse the previous results. Wall time is taken around the
   process; CPU time (user + system of the whole tree) comes from os.wait4 on it, the same
   counter as getrusage(RUSAGE_CHILDREN) but scoped to that one command.
4. Peak PSS of the process tree comes from one more run of each, watched by bench.py's sampler.
   The timed rounds run unwatched: the sampler reads /proc of some forty processes every 50 ms
   and takes CPU from the run it measures (bench.py separates them for the same reason).
5. grades.csv of the last timed run of each must be byte-identical, else exit code 1.

The table shows medians per version and the ratio new/base of throughput (submissions/s).
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# bench.py is reused as a module (class builder, tree memory sampler, CPU probe); it imports
# `grader` itself, which the repository root provides even without an editable install.
sys.path[:0] = [str(HERE), str(ROOT)]
import bench  # noqa: E402

# The most throughput the isolation may cost, as a share of the base's.
TARGET_COST = 0.10
ISOLATION_OPTION = "--isolation-minimum"


@dataclass(frozen=True)
class Tree:
    """One version of the grader: a source tree and how to call its grade command."""

    label: str
    path: Path
    rev: str
    """What the tree holds, for the table."""
    extra: tuple[str, ...]
    """Options only this version knows."""


@dataclass(frozen=True)
class Run:
    """One grade run of one version."""

    seconds: float
    cpu_seconds: float
    peak_pss: int
    """Bytes; 0 when the run was not watched."""
    out: Path


def _say(text: str) -> None:
    print(f"[compare] {text}", file=sys.stderr, flush=True)


def _git(*args: str) -> str:
    # --no-optional-locks: others work in this repository; a read must not take its index lock.
    return subprocess.run(["git", "--no-optional-locks", "-C", str(ROOT), *args], check=True,
                          capture_output=True, text=True).stdout.strip()


def _env() -> dict[str, str]:
    """The caller's environment minus what would put another `grader` before the cwd's."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONSAFEPATH")}


@contextmanager
def base_worktree(rev: str, parent: Path) -> Iterator[Path]:
    """A detached worktree of rev under parent, removed (with its .pyc files) on the way out."""
    path = parent / "base-tree"
    _git("worktree", "add", "--detach", str(path), rev)
    try:
        yield path
    finally:
        try:
            _git("worktree", "remove", "--force", str(path))
        except subprocess.CalledProcessError as err:
            _say(f"could not remove the worktree {path}: {err.stderr.strip()}")


def grader_file(tree: Path) -> str:
    """Which grader package a Python started in tree imports (the cwd comes first on sys.path)."""
    return subprocess.run([sys.executable, "-c", "import grader; print(grader.__file__)"],
                          cwd=tree, env=_env(), check=True, capture_output=True,
                          text=True).stdout.strip()


def known_extras(tree: Path) -> tuple[str, ...]:
    """`--isolation-minimum limits` if this version's `run --help` lists the option.

    Only the limits level is asked for, so a version that probes the host's isolation still
    grades where the host cannot give it more; the isolation it did apply is in results.json.
    """
    shown = subprocess.run([sys.executable, "-m", "grader", "run", "--help"], cwd=tree,
                           env=_env(), check=True, capture_output=True, text=True).stdout
    return (ISOLATION_OPTION, "limits") if ISOLATION_OPTION in shown else ()


def make_tree(label: str, path: Path, rev: str) -> Tree:
    return Tree(label=label, path=path, rev=rev, extra=known_extras(path))


def grade_once(tree: Tree, class_dir: Path, out: Path, jobs: int, watch: bool = False) -> Run:
    """Run one version's grade command into out (a new folder); exits if grade fails."""
    cmd = [sys.executable, "-m", "grader", str(class_dir), "--out", str(out), "--jobs", str(jobs),
           "--no-timings", "-q", *tree.extra]
    with tempfile.TemporaryFile() as log:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=tree.path, env=_env(), stdin=subprocess.DEVNULL,
                                stdout=log, stderr=subprocess.STDOUT)
        sampler = bench.TreeSampler(proc.pid)
        if watch:
            sampler.start()
        # wait4: this command's own rusage, covering every descendant reaped inside its tree.
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        sampler.stopped.set()
        if watch:
            sampler.join()
        if proc.returncode != 0:
            log.seek(0)
            tail = log.read().decode("utf-8", "replace")[-4000:]
            sys.exit(f"{tree.label} ({tree.rev}) grade exited with {proc.returncode}:\n{tail}")
    return Run(seconds=seconds, cpu_seconds=usage.ru_utime + usage.ru_stime,
               peak_pss=sampler.peak, out=out)


def timed_rounds(trees: list[Tree], class_dir: Path, work: Path, args: argparse.Namespace,
                 ) -> tuple[dict[str, list[Run]], dict[str, Run]]:
    """Warm-up, the alternating timed rounds, then one watched run of each for memory."""
    for tree in trees:
        _say(f"warm-up: {tree.label}")
        grade_once(tree, class_dir, work / f"out-{tree.label}-warmup", args.jobs)
    runs: dict[str, list[Run]] = {tree.label: [] for tree in trees}
    for n in range(1, args.rounds + 1):
        for tree in trees:  # interleaved, so a drift of the host touches both alike
            run = grade_once(tree, class_dir, work / f"out-{tree.label}-{n}", args.jobs)
            runs[tree.label].append(run)
            _say(f"round {n}/{args.rounds} {tree.label}: {run.seconds:.2f} s")
    memory: dict[str, Run] = {}
    for tree in trees:
        _say(f"memory run (watched, not timed): {tree.label}")
        memory[tree.label] = grade_once(tree, class_dir, work / f"out-{tree.label}-memory",
                                        args.jobs, watch=True)
    return runs, memory


def grades_differ(base: Path, new: Path) -> list[str]:
    """The unified diff of two grades.csv files, empty when they are identical."""
    a, b = (p.read_text(encoding="utf-8").splitlines() for p in (base, new))
    return list(difflib.unified_diff(a, b, str(base), str(new), lineterm=""))


def isolation_of(out: Path) -> str:
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    return str(results.get("isolation", "?"))


def _row(tree: Tree, runs: list[Run], memory: Run, size: int) -> str:
    wall = statistics.median(r.seconds for r in runs)
    cpu = statistics.median(r.cpu_seconds for r in runs)
    walls = " ".join(f"{r.seconds:.2f}" for r in runs)
    return (f"{tree.label:<8} {tree.rev:<22} {wall:8.2f} {size / wall:8.1f} "
            f"{1000 * cpu / size:10.1f} {memory.peak_pss / bench.MIB:9.0f}   {walls}")


def table(trees: list[Tree], runs: dict[str, list[Run]], memory: dict[str, Run],
          args: argparse.Namespace, probe: tuple[float, float], same: bool) -> str:
    base, new = trees
    median_wall = {t.label: statistics.median(r.seconds for r in runs[t.label]) for t in trees}
    median_cpu = {t.label: statistics.median(r.cpu_seconds for r in runs[t.label]) for t in trees}
    ratio = median_wall[base.label] / median_wall[new.label]  # throughput new / base
    cost = 1 - ratio
    pairs = " ".join(f"{b.seconds / n.seconds:.3f}"
                     for b, n in zip(runs[base.label], runs[new.label]))
    mem = memory[new.label].peak_pss / max(1, memory[base.label].peak_pss)
    return "\n".join([
        f"class     {args.size} submissions, {args.jobs} jobs, seed {args.seed}; one warm-up "
        f"each, then {args.rounds} round(s) of base, new",
        f"{'version':<8} {'tree':<22} {'wall s':>8} {'subs/s':>8} {'cpu ms/sub':>10} "
        f"{'PSS MiB':>9}   wall s of each round",
        *(_row(t, runs[t.label], memory[t.label], args.size) for t in trees),
        f"new/base  throughput x{ratio:.3f} (per round: {pairs}), CPU per submission "
        f"x{median_cpu[new.label] / median_cpu[base.label]:.3f}, peak PSS x{mem:.3f}",
        f"isolation cost: {100 * cost:.1f}% of throughput (target <= {100 * TARGET_COST:.0f}%): "
        f"{'yes' if cost <= TARGET_COST else 'NO'}",
        *(f"isolation {t.label}: {isolation_of(runs[t.label][-1].out)}" for t in trees),
        f"grades    {'identical' if same else 'DIFFER'} (grades.csv of the last round of each)",
        f"machine   {os.cpu_count()} cores; CPU probe {probe[0]:.0f} ms before, {probe[1]:.0f} ms "
        "after (a fixed pure-Python loop: if it moved, the host's speed changed during the run)",
    ])


def new_rev() -> str:
    """HEAD's short hash, with '+edits' when tracked files differ from it."""
    dirty = _git("status", "--porcelain", "--untracked-files=no")
    return _git("rev-parse", "--short", "HEAD") + ("+edits" if dirty else "")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", required=True, help="git revision to compare this tree with")
    parser.add_argument("--size", type=int, default=500, help="submissions in the class")
    parser.add_argument("--jobs", type=int, default=2, help="grade --jobs")
    parser.add_argument("--rounds", type=int, default=3, help="timed runs of each version")
    parser.add_argument("--seed", type=int, default=1, help="seed of the synthetic class")
    args = parser.parse_args(argv)
    if args.size < 10 or args.jobs < 1 or args.rounds < 1:
        parser.error("--size must be at least 10, --jobs and --rounds at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    base_rev = _git("rev-parse", "--short", "--verify", f"{args.base}^{{commit}}")
    with tempfile.TemporaryDirectory(prefix="grader-compare-") as tmp:
        work = Path(tmp)
        class_dir = work / "class"
        bench.build_class(class_dir, args.size, args.seed)
        with base_worktree(base_rev, work) as base_path:
            for label, path in (("base", base_path), ("new", ROOT)):
                _say(f"{label} imports {grader_file(path)}")
            if grader_file(base_path) == grader_file(ROOT):
                sys.exit("both trees import the same grader package; nothing to compare")
            trees = [make_tree("base", base_path, f"{args.base} = {base_rev}"),
                     make_tree("new", ROOT, new_rev())]
            for tree in trees:
                _say(f"{tree.label} options: {' '.join(tree.extra) or '(none extra)'}")
            probe_before = bench.cpu_probe()
            runs, memory = timed_rounds(trees, class_dir, work, args)
            probe = (probe_before, bench.cpu_probe())
            diff = grades_differ(*(runs[t.label][-1].out / "grades.csv" for t in trees))
            print(table(trees, runs, memory, args, probe, not diff))
            if diff:
                print("\n".join(diff[:40]), file=sys.stderr)
    return 1 if diff else 0


if __name__ == "__main__":
    sys.exit(main())
