"""A fast, sandboxed autograder for NumPy courses: the course is a folder it loads."""

__version__ = "0.1.0"
