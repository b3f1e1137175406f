#!/usr/bin/env python3
"""Rendering cost per submission, a base git revision against this tree, side by side.

    python bench/render.py --base REV [--size 500] [--rounds 3] [--seed 1]

One synthetic class (bench.py's builder) is graded once by the base revision; its results.json
is then read and every output written again (pages, index.html, grades.csv, results.json) by
each version in turn, in alternating rounds, each in a fresh process started in that version's
tree (`python -c` with the tree first on sys.path). The time of `write_all` alone is taken, not
the reading of results.json nor the imports. The table shows the median ms per submission of each
version and the ratio new/base.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]
import bench  # noqa: E402
import compare  # noqa: E402

# Runs in each version's tree: the time of writing every output of one run, in ms per submission.
TIMER = """
import sys, tempfile, time
from pathlib import Path
from grader.outputs import OutputOptions, write_all
from grader.reports.results_json import read_results_json
run = read_results_json(Path(sys.argv[1]))
with tempfile.TemporaryDirectory(prefix="bench-render-") as work:
    started = time.perf_counter()
    write_all(run, Path(work), OutputOptions(jobs=1))
    print(1000 * (time.perf_counter() - started) / len(run.submissions))
"""


def render_ms(tree: Path, results: Path) -> float:
    done = subprocess.run([sys.executable, "-c", TIMER, str(results)], cwd=tree,
                          env=compare._env(), check=True, capture_output=True, text=True)
    return float(done.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", required=True, metavar="REV")
    parser.add_argument("--size", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-render-"))
    class_dir = work / "class"
    bench.build_class(class_dir, args.size, args.seed)
    with compare.base_worktree(args.base, work) as base_path:
        base = compare.make_tree("base", base_path, args.base)
        out = work / "out"
        print(f"grading {args.size} submissions with {args.base}...", file=sys.stderr)
        compare.grade_once(base, class_dir, out, 2)
        trees = {"base": base_path, "new": HERE.parent}
        times: dict[str, list[float]] = {label: [] for label in trees}
        render_ms(base_path, out / "results.json")  # warm-up: page cache, .pyc files
        render_ms(HERE.parent, out / "results.json")
        for n in range(args.rounds):
            for label, tree in trees.items():
                times[label].append(render_ms(tree, out / "results.json"))
                print(f"round {n + 1} {label}: {times[label][-1]:.2f} ms", file=sys.stderr)
    base_ms, new_ms = (statistics.median(times[k]) for k in ("base", "new"))
    print(f"rendering every output of {args.size} submissions, one process, ms per submission "
          f"(median of {args.rounds}):")
    print(f"  base {args.base}: {base_ms:.2f}  ({' '.join(f'{t:.2f}' for t in times['base'])})")
    print(f"  this tree: {new_ms:.2f}  ({' '.join(f'{t:.2f}' for t in times['new'])})")
    print(f"  new/base: x{new_ms / base_ms:.3f}")


if __name__ == "__main__":
    main()
