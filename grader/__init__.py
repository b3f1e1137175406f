"""Autograder for the NumPy activation-functions lesson."""

__version__ = "0.1.0"
