"""The `grade` command's entry point: a run's first judge starts before the command line is even
imported (see grader.judge_process), so that its imports overlap the run's own start."""

from __future__ import annotations

import sys

from grader import judge_process


def main() -> None:
    """Run `grade` with sys.argv."""
    judge_process.start_early(sys.argv[1:])
    from grader.cli import main as cli_main  # after: the judge's imports overlap these

    cli_main(prog_name="grade")
