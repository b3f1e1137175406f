"""One student's folder graded as one submission, however its exercises are arranged.

`grade check` and `grade gradescope` always hold one student's work. discover() reads a folder
whose subfolders hold the exercises (the handout's exercises/<name>/<name>.py, or a repository
with one folder per exercise) as a class of several submissions, so its findings are folded
back into one here.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from grader import submissions
from grader.records import Submission


def discover_one(folder: Path, submission_id: str) -> Submission:
    """The work in folder as a single submission named submission_id.

    UsageError (from discover) when the folder is missing or holds nothing gradable.
    """
    # discover() reads archives in memory and writes nothing; the folder only satisfies its API.
    with tempfile.TemporaryDirectory(prefix=f"grader-{os.getpid()}-unpack-") as unpack:
        found = submissions.discover(folder, Path(unpack))
    return as_single(found, submission_id)


def as_single(found: list[Submission], submission_id: str) -> Submission:
    """Fold the entries discover() found in one student's folder into one submission.

    Entries without usable modules (a feedback/ folder written by an earlier check, notes, data)
    are dropped when another entry has some. When two entries hold the same module, the first
    entry in id order wins and the student is told which copy was graded.
    """
    usable = [s for s in found if s.error is None and s.sources]
    if not usable:
        first = found[0] if found else None
        error = first.error if first is not None else "no exercise files found"
        return Submission(submission_id, {}, first.problems if first else (), submission_id, error)
    if len(usable) == 1 and len(found) == 1:
        only = usable[0]
        return Submission(submission_id, dict(only.sources), only.problems, only.origin, None)
    sources: dict[str, str] = {}
    owner: dict[str, str] = {}
    notes: list[str] = []
    for entry in usable:
        notes.extend(entry.problems)
        for module, text in entry.sources.items():
            if module in sources:
                notes.append(f"{module}.py was found in both {owner[module]}/ and "
                             f"{entry.origin}/; the copy in {owner[module]}/ was graded")
                continue
            sources[module] = text
            owner[module] = entry.origin
    return Submission(submission_id, sources, tuple(notes), submission_id, None)
