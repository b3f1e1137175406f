"""How much memory student code may hold at once, across every running child of a run.

Each submission is limited to `--memory` of address space, but many submissions near that limit
at once could still exhaust the host. A judge runs one child at a time; the idle children of its
cohort are restarted once together they hold more than one submission's limit (see
grader.judge.cohort); every child also has a private scratch tmpfs. So one judge's children hold
at most two submissions' limits plus the scratch of the child at work, and a run holds that many
times its judges. Admission control: a run starts only as many judges as the host's available
memory covers, and says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from grader.sandbox.view import SCRATCH_BYTES

#: Share of the available memory student code may take: the rest is the grader's and the host's.
USABLE_SHARE = 0.8


@dataclass(frozen=True)
class MemoryBound:
    """The memory a run's student code may hold at once, and the judges that admits."""

    jobs: int
    """Judges to start: as many as asked, or fewer where memory would not cover them."""
    asked: int
    """Judges asked for (--jobs)."""
    per_judge: int
    """Bytes the children of one judge may hold at once."""
    available: int | None
    """Bytes the host reported available when the run started (None where unknown)."""

    @property
    def total(self) -> int:
        """Bytes all running children may hold together."""
        return self.jobs * self.per_judge

    def describe(self) -> str:
        """One line for the run summary."""
        text = (f"memory: student code may hold up to {_gib(self.total)} at once "
                f"({self.jobs} judge(s) x {_gib(self.per_judge)})")
        if self.available is not None:
            text += f"; {_gib(self.available)} available"
        if self.jobs < self.asked:
            text += f"; {self.asked - self.jobs} fewer judge(s) than --jobs {self.asked}, to fit"
        return text


def per_judge(memory_bytes: int) -> int:
    """What one judge's children may hold together (see the module docstring)."""
    return 2 * memory_bytes + SCRATCH_BYTES


def admit(jobs: int, memory_bytes: int, available: int | None = None) -> MemoryBound:
    """The judges a run may start so that its children fit in the available memory."""
    if available is None:
        available = available_bytes()
    each = per_judge(memory_bytes)
    fit = jobs if available is None else max(1, min(jobs, int(available * USABLE_SHARE) // each))
    return MemoryBound(jobs=fit, asked=jobs, per_judge=each, available=available)


def available_bytes() -> int | None:
    """MemAvailable from /proc/meminfo (Linux); None elsewhere."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _gib(size: int) -> str:
    return f"{size / (1 << 30):.1f} GiB"
