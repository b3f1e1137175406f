"""Allows `python -m grader`."""

from grader.launch import main

main()
