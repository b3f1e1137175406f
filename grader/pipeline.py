"""One grading run, forward only: discover -> reuse -> judge -> parts -> outputs.

Each shard's results go to a part file (grader.parts) the moment its judge is done and are let
go; the outputs are then written by reading the parts back one result at a time. Parts are also
the run's checkpoints: the same command run again into the same folder reuses every result whose
submission, course, grader and options are unchanged, so a killed run resumes where it was. A
class may be split into N slices graded anywhere (`--shard k/N`) and merged (grader.merge).
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

from grader import __version__, incremental, submissions
from grader.engine import SHARD_GRANULE, GradeOptions, Judges
from grader.errors import UsageError
from grader.outputs import OutputOptions, write_outputs, write_pages
from grader.parts import COMPLETE_FILE, PARTS_DIR, PartHeader, PartIndex, PartResults, now_ns
from grader.parts import write_complete, write_part
from grader.records import GradeRun, Submission
from grader.reports.gradebook import Gradebook
from grader.results import ShardResults, isolation_warnings, shard_results

T = TypeVar("T")


@dataclass(frozen=True)
class Shard:
    """The k-th of N slices of a class."""

    number: int
    """k, from 1."""
    total: int
    """N."""

    @property
    def label(self) -> str:
        """'k/N'."""
        return f"{self.number}/{self.total}"


def parse_shard(text: str) -> Shard:
    """'k/N' with 1 <= k <= N; UsageError otherwise."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not match or not 1 <= int(match.group(1)) <= int(match.group(2)):
        raise UsageError(f"--shard {text}: use k/N with 1 <= k <= N, e.g. 2/8")
    return Shard(int(match.group(1)), int(match.group(2)))


@dataclass(frozen=True)
class RunPlan:
    """What one `grade run` was asked to do."""

    source: Path
    """The submissions folder (or one submission)."""
    out_dir: Path
    """The output folder, which also holds the parts."""
    options: GradeOptions
    """How to grade."""
    output: OutputOptions
    """What to write."""
    force: bool = False
    """Regrade everything, reusing no part."""
    shard: Shard | None = None
    """Grade only this slice of the class, and write only its parts and pages."""
    pages: bool = True
    """Write a slice's pages (a merge writes every page from the parts anyway)."""


@dataclass(frozen=True)
class RunReport:
    """What a run did, for the summary the command prints."""

    run: GradeRun
    """The results, read back from the parts."""
    total: int
    """Submissions this run was responsible for (a shard's slice, or the class)."""
    reused: frozenset[str]
    """Ids whose results came from earlier parts."""
    notes: tuple[str, ...]
    """Parts that were ignored, and why."""
    stale: bool
    """Parts were there, but made with other material or options: nothing could be reused."""
    book: Gradebook | None
    """Every submission's totals, gathered while the outputs were written (None for a shard,
    which writes only its pages)."""


def header_for(ids: Sequence[str], options: GradeOptions, shard: Shard | None) -> PartHeader:
    """The header every part of this run carries (its `written` stamp set per part); ids are
    the whole class's, sorted."""
    listing = hashlib.sha256("\n".join(ids).encode("utf-8")).hexdigest()
    return PartHeader(grader_version=__version__, seed=options.seed,
                      course=incremental.course_key(), settings=incremental.settings(options),
                      listing=listing, count=len(ids), shard=shard.label if shard else "")


def slice_of(found: Sequence[T], shard: Shard, granule: int) -> list[T]:
    """The shard's slice of the class sorted by id, in whole multiples of `granule` (the unit the
    engine makes its own shards and cohorts of)."""
    cohorts = -(-len(found) // max(1, granule))
    first = (shard.number - 1) * cohorts // shard.total
    last = shard.number * cohorts // shard.total
    return list(found[first * granule:last * granule])


class _Contents:
    """The content hash of each submission being judged, from when it is read until its part is
    written: a class's hashes are never all held at once."""

    def __init__(self) -> None:
        self.keys: dict[str, str] = {}
        """Submission id -> its content hash, until its result is in a part."""

    @staticmethod
    def reusable(chosen: Sequence[submissions.Pending], earlier: PartIndex) -> frozenset[str]:
        """The ids whose earlier result still holds. Each submission that has one is read to
        hash it and let go (a class is never in memory at once) and read again if it must be
        graded; with nothing earlier, each is read once, when its shard goes to a judge."""
        return frozenset(p.id for p in chosen if p.id in earlier.lines and earlier.lines[p.id]
                         .content == incremental.content_key(submissions.load(p)))

    def load(self, pending: submissions.Pending) -> Submission:
        """Read one submission, noting its hash (called from the judges' threads too)."""
        found = submissions.load(pending)
        self.keys[pending.id] = incremental.content_key(found)
        return found


class _PartSink:
    """Writes each shard's results to a part as its judge finishes; thread-safe."""

    def __init__(self, folder: Path, header: PartHeader, contents: dict[str, str],
                 after: int) -> None:
        self.folder, self.header, self.contents = folder, header, contents
        self._lock = threading.Lock()
        # Newer than every earlier part even if the clock was set back: the newest line wins.
        self._last = after

    def __call__(self, shard: list[Submission], found: ShardResults) -> None:
        rows, maxima = shard_results(shard, found)
        with self._lock:
            self._last = max(now_ns(), self._last + 1)
            header = replace(self.header, isolation=tuple(found.isolation), maxima=maxima,
                             written=self._last)
        name = f"part-{os.getpid()}-{header.written}"  # stamps are unique within a run
        write_part(self.folder, header, ((r, self.contents[r.id]) for r in rows), name)
        for r in rows:
            self.contents.pop(r.id, None)


def grade(plan: RunPlan, on_done: Callable[[str], None], *,
          on_found: Callable[[int, int], None] = lambda _total, _reused: None) -> RunReport:
    """Grade plan.source into plan.out_dir; on_found(to grade, reused) once the class is read."""
    parts_dir = plan.out_dir / PARTS_DIR
    judged = _judge(plan, parts_dir, on_done, on_found)
    index = PartIndex()
    index.add_folder(parts_dir, accept=judged.header)
    run = read_run(index, judged.ids, plan.options.seed)
    book = None
    if plan.shard is not None:
        if plan.pages:
            write_pages(run, plan.out_dir, plan.output)
    else:
        book = write_outputs(run, plan.out_dir, plan.output).book
    write_complete(parts_dir, judged.header, judged.ids)
    _prune(parts_dir, index, judged.ids)
    return RunReport(run=run, total=len(judged.ids), reused=judged.reused, notes=judged.notes,
                     stale=judged.stale, book=book)


@dataclass(frozen=True)
class _Judged:
    """What the judging half of a run leaves for its outputs: the class listing is let go."""

    header: PartHeader
    """The header of this run's parts."""
    ids: list[str]
    """The ids this run is responsible for, sorted."""
    reused: frozenset[str]
    """Ids whose results came from earlier parts."""
    notes: tuple[str, ...]
    """Parts that were ignored, and why."""
    stale: bool
    """Parts were there, but none could be reused."""


def _judge(plan: RunPlan, parts_dir: Path, on_done: Callable[[str], None],
           on_found: Callable[[int, int], None]) -> _Judged:
    """List the class, reuse what earlier parts hold and have the rest judged into parts."""
    options = plan.options
    expected = submissions.rough_count(plan.source)
    if plan.shard is not None:
        expected = -(-expected // plan.shard.total)
    # The judges start first: their imports overlap the reading of the submissions.
    with Judges(options, expected) as judges:
        found = sorted(submissions.find(plan.source), key=lambda p: p.id)
        header = header_for([p.id for p in found], options, plan.shard)
        chosen = slice_of(found, plan.shard, SHARD_GRANULE) if plan.shard else found
        earlier = PartIndex()
        if not plan.force:
            earlier.add_folder(parts_dir, accept=header)
        stale = not plan.force and not earlier.files and any(parts_dir.glob("*.jsonl"))
        reused = _Contents.reusable(chosen, earlier)
        regrade = [p for p in chosen if p.id not in reused]
        on_found(len(regrade), len(reused))
        # Until this run ends, the folder's results are not a finished whole for merge.
        (parts_dir / COMPLETE_FILE).unlink(missing_ok=True)
        if regrade:
            contents = _Contents()
            judges.grade_each(regrade, contents.load, on_done,
                              _PartSink(parts_dir, header, contents.keys, earlier.newest()))
    return _Judged(header=header, ids=[p.id for p in chosen], reused=reused,
                   notes=tuple(earlier.notes), stale=stale)


def read_run(index: PartIndex, ids: list[str], seed: int) -> GradeRun:
    """The run of the given ids as their parts hold it, read one result at a time."""
    isolation = index.isolation()
    return GradeRun(grader_version=__version__, seed=seed, isolation="+".join(isolation) or "none",
                    submissions=PartResults(index, ids),
                    warnings=isolation_warnings(list(isolation)))


def _prune(parts_dir: Path, index: PartIndex, ids: list[str]) -> None:
    """Delete the parts no result of this run comes from: other options' and superseded ones."""
    live = {index.files[index.lines[sid].part] for sid in ids if sid in index.lines}
    for path in parts_dir.glob("*.jsonl"):
        if path not in live:
            path.unlink(missing_ok=True)
