"""A cohort: the few submissions a judge grades side by side, each in a sandbox child of its own.

Every test runs once per submission of the cohort before the next test starts, so pytest's own
cost per test is shared by the whole cohort. The children of a cohort stay alive until its last
test; each runs under a uid of its own (its slot), so killing one child's process tree never
reaches a neighbour.
"""

from __future__ import annotations

import functools
import os
import types
from typing import Any, Callable

from grader.judge import plots
from grader.judge.proxy import Answers, Grouped
from grader.sandbox.client import MAX_SLOTS, Sandbox
from grader.sandbox.session import Session

#: How many tests apart the idle memory of a child is looked at.
GUARD_EVERY = 4


class Cohort:
    """The live sandbox sessions of one group of submissions."""

    def __init__(self, sandbox: Sandbox, ids: list[str], sources: dict[str, dict[str, str]],
                 memory_bytes: int, plan: dict[str, Grouped] | None = None) -> None:
        if len(ids) > MAX_SLOTS:
            raise ValueError(f"a cohort holds at most {MAX_SLOTS} submissions")
        self.ids = ids
        self._sandbox = sandbox
        self._sources = sources
        self._sessions: dict[str, Session] = {}
        self._plan = plan or {}
        self._answers: dict[str, dict[str, Answers]] = {}
        """Fetched answers by submission id, then by module."""
        self._tests: dict[str, int] = {}
        # Idle children must not add up to more than one submission's memory limit: a child
        # holding more than its share between tests is restarted before the next one. The
        # share never drops below 32 MiB (a child holds a few MiB just being alive), so under a
        # small limit a full cohort may keep up to 32 x 32 MiB.
        self.idle_share = max(32 << 20, memory_bytes // max(1, len(ids)))

    def session(self, sid: str) -> Session:
        """The session of submission `sid`; its child is forked on its first call."""
        found = self._sessions.get(sid)
        if found is None:
            found = self._sandbox.open(self._sources[sid], slot=self.ids.index(sid))
            self._sessions[sid] = found
        return found

    def answers(self, sid: str, module: str) -> Answers:
        """Answers of `sid` to the planned calls into `module`, fetched on first use (with
        those of every other planned module the submission has: one round trip for all)."""
        fetched = self._answers.setdefault(sid, {})
        if module not in fetched:
            if module in self._sources[sid]:
                self._fetch(sid, module, fetched)
            else:
                fetched[module] = Answers.for_missing(module)
        return fetched[module]

    def _fetch(self, sid: str, module: str, fetched: dict[str, Answers]) -> None:
        modules = [m for m in self._plan if m in self._sources[sid] and m not in fetched]
        if module not in modules:
            modules.append(module)
        groups = [(m, self._plan.get(m, {})) for m in modules]
        session = self.session(sid)
        batches = iter(session.fetch_many(
            [group.request for _, planned in groups for group in planned.values()]))
        for m, planned in groups:
            answers = Answers()
            answers.keep(planned, [next(batches) for _ in planned])
            fetched[m] = answers
        # Most submissions need nothing more of their child: ended now, it holds no memory
        # while the rest of the cohort is fetched. A call the plan did not foresee forks a
        # new one (which imports the modules again, each on its own time budget).
        session.close()

    def after_test(self, sid: str) -> None:
        """Restart the child of `sid` if it keeps more than its share of memory while idle.

        Looked at every few tests: reading /proc after each one was a visible cost, and a
        child's own address-space limit bounds what it can hold in between.
        """
        self._tests[sid] = count = self._tests.get(sid, 0) + 1
        found = self._sessions.get(sid)
        if count % GUARD_EVERY == 0 and found is not None and found.resident_growth() > self.idle_share:
            found.close()

    def finish(self, reference: Callable[[str], types.ModuleType], exercises: tuple[str, ...],
               want_plots: bool, progress_fd: int,
               cache: plots.PlotCache | None = None) -> dict[str, list[dict[str, Any]]]:
        """Sample the plots, kill every child, report progress; return the curves by id."""
        curves: dict[str, list[dict[str, Any]]] = {}
        for sid in self.ids:
            session = self.session(sid) if want_plots else self._sessions.get(sid)
            try:
                if want_plots and session is not None:
                    curves[sid] = plots.sample(session, reference, exercises,
                                               functools.partial(self._fetched, sid), cache)
            except Exception:  # noqa: BLE001 - a missing plot must never cost a test result
                curves[sid] = []
            finally:
                if session is not None:
                    session.close()
                # Answers decoded for the plots (or a test) are let go one submission at a time.
                self._answers.pop(sid, None)
            if progress_fd >= 0:
                os.write(progress_fd, f"{sid}\n".encode())
        self._sessions.clear()
        self._answers.clear()
        return curves

    def _fetched(self, sid: str, module: str) -> Answers | None:
        return self._answers.get(sid, {}).get(module)

    def close(self) -> None:
        """Kill every child still alive (the run is ending early)."""
        for session in self._sessions.values():
            session.close()
        self._sessions.clear()
