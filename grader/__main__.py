"""Allows `python -m grader`."""

from grader.cli import main

# The name users know it by in usage lines, rather than "python -m grader".
main(prog_name="grade")
