"""The "Grading details" block at the foot of a student's page, in plain words.

The run records its sandbox as a list of isolation steps ('uid+pidns+netns+…') and a seed; a
student needs neither word. The block says what the sandbox kept their code from doing and why
grading again gives the same result, and keeps the recorded values for a teacher who asks.
"""

from __future__ import annotations

from dataclasses import dataclass

from grader.records import GradeRun
from grader.reports.svg_parts import safe_text

# Each sentence is said when any of its steps was recorded (see grader.sandbox.isolation).
_SANDBOX_WORDS: tuple[tuple[frozenset[str], str], ...] = (
    (frozenset({"view", "chroot"}), "It could see Python and its libraries only: none of the "
     "grader's files, the reference solutions or other students' work."),
    (frozenset({"pidns"}), "It could not see the other programs running on the grading computer."),
    (frozenset({"netns"}), "It had no network access."),
    (frozenset({"scratch"}), "What it wrote went to a scratch folder deleted after grading."),
    (frozenset({"uid", "userns", "nocaps"}), "It ran as a user with no special rights."),
    (frozenset({"rlimits", "some-rlimits"}), "Its memory, processes and file sizes were limited."),
)
TIME_LIMIT = "Each call had a time limit, so a function that never returns could not stall grading."
NO_SANDBOX = "No sandbox was recorded for this run: your code ran as a plain Python program."


@dataclass(frozen=True)
class GradingDetails:
    """How the page was graded, for the collapsed block at its foot."""

    version: str
    """The grader's version."""
    sandbox: tuple[str, ...]
    """What the sandbox did around the student's code, one plain sentence each."""
    seed: int
    """Seed of the tests' random inputs: the same seed gives the same inputs."""
    isolation: str
    """The isolation steps as the run recorded them, for a teacher who asks."""


def sandbox_sentences(isolation: str) -> tuple[str, ...]:
    """What the recorded isolation steps mean for the student's code, in plain words."""
    steps = set(isolation.split("+"))
    said = tuple(words for wanted, words in _SANDBOX_WORDS if wanted & steps)
    return (*said, TIME_LIMIT) if said else (NO_SANDBOX, TIME_LIMIT)


def grading_details(run: GradeRun) -> GradingDetails:
    return GradingDetails(safe_text(run.grader_version), sandbox_sentences(run.isolation),
                          run.seed, safe_text(run.isolation))
