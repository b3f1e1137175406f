"""The bundled course's mistake corpus, for the tests: one mistaken submission per pitfall.

The corpus is course content (reference/mistakes/, described in its mistakes.toml and read by
grader.course_check): each case folder holds one exercise module in which the `broken` functions
carry the mistake and every other function is correct. Graded, the module must lose points on
tests of the broken functions only, and at least one failing test must report the pitfall. The
folder `correct/` holds every module written correctly in the lesson's plain style; it must earn
full marks.
"""

from __future__ import annotations

from pathlib import Path

from grader import paths
from grader.course_check import Mistake, load_mistakes

#: Folder holding one sub-folder per case, plus correct/.
MISTAKES_DIR = paths.reference_dir() / "mistakes"

#: Sub-folder with the correct submission.
CORRECT = "correct"

#: Every case of the corpus, by name.
CASES: dict[str, Mistake] = load_mistakes(paths.course_root())


def folder(name: str) -> Path:
    """The submission folder of a case (or of CORRECT)."""
    return MISTAKES_DIR / name
