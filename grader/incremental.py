"""What decides whether an earlier result can be reused: the hashes a part records.

A result is reused only when everything it was computed from is unchanged: the submission's
content (sources, discovery notes, error), the course material and the judge (exercises/,
reference/, grader/judge/ and the grader's version), and the options that change what a test
sees (seed, exercises, timeouts, memory, plots). Parts (grader.parts) carry these in their
header and on each submission's line.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from grader import paths
from grader.engine import GradeOptions
from grader.records import Submission

_JUDGE_DIR = Path(__file__).resolve().parent / "judge"


def _digest(data: object) -> str:
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def content_key(submission: Submission) -> str:
    """Stable hash of everything discovery read from a submission."""
    return _digest({"sources": submission.sources, "problems": list(submission.problems),
                    "error": submission.error})


def _tree_hash(folder: Path, digest: hashlib._Hash) -> None:
    """Feed every file below folder into digest, by path; caches and hidden files excluded."""
    if not folder.is_dir():
        return
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(p == "__pycache__" or p.startswith(".") for p in relative.parts):
            continue
        if path.is_file():
            digest.update(f"{folder.name}/{relative.as_posix()}\0".encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())


def course_key() -> str:
    """Hash of the course in use (suites, reference, exercises) and of the judge."""
    digest = hashlib.sha256()
    # The judge's checks write the messages and hints: changing them changes results too.
    for folder in (paths.exercises_dir(), paths.reference_dir(), _JUDGE_DIR):
        _tree_hash(folder, digest)
    return digest.hexdigest()


def settings(options: GradeOptions) -> dict[str, object]:
    """The options that change what a test sees (not jobs, not the folders hidden)."""
    return {"exercises": list(options.exercises), "timeout": options.timeout,
            "submission_timeout": options.submission_timeout, "memory": options.memory_bytes,
            "plots": options.plots}
