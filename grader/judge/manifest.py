"""The judge's marching orders for one shard: which submissions, which suites, which limits."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from grader.records import Submission


@dataclass(frozen=True)
class Manifest:
    """Everything a judge process needs; written by the engine, read by grader.judge.runner."""

    submissions: tuple[Submission, ...]
    """The shard's submissions (those with an error are reported, not run)."""
    suites: tuple[str, ...]
    """Test files to collect (visible tests from exercises/, hidden suites from reference/)."""
    rootdir: str
    """Course root: pytest's rootdir, so nothing in a submission or the cwd is read as config."""
    report: str
    """Where pytest-json-report writes the shard's JSON."""
    seed: int
    """Seed for every random input."""
    timeout: float
    """Seconds per call."""
    memory_bytes: int
    """Memory limit per submission."""
    hide: tuple[str, ...]
    """Folders the sandbox child must not see."""
    workdir: str
    """This judge's private work folder."""
    exercises: tuple[str, ...]
    """Exercises to grade (others are deselected)."""
    submission_timeout: float = 30.0
    """Seconds per submission, all its calls together."""
    plots: bool = True
    """Whether to sample the student's functions for the feedback plots."""
    cohort_size: int = 32
    """Submissions graded side by side, each in a sandbox child of its own."""
    progress_fd: int = -1
    """File descriptor the judge writes each finished submission's id to (one per line)."""

    def dump(self, path: Path) -> None:
        """Write the manifest as JSON."""
        path.write_text(json.dumps(asdict(self)), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Manifest:
        """Read a manifest written by dump()."""
        raw = json.loads(path.read_text(encoding="utf-8"))
        subs = tuple(
            Submission(id=s["id"], sources=dict(s["sources"]), problems=tuple(s["problems"]),
                       origin=s["origin"], error=s["error"])
            for s in raw.pop("submissions")
        )
        for key in ("suites", "hide", "exercises"):
            raw[key] = tuple(raw[key])
        return cls(submissions=subs, **raw)
