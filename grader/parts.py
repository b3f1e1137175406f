"""Part files: a run's results on disk, one submission per line, written as each shard finishes.

A part is a JSON Lines file in OUT/.parts: a header line saying what the results were computed
with (grader version, seed, course, options, class listing, isolation), then one line per
submission: its id, the hash of what it was graded from, and its result in results.json layout.
Parts are written atomically, so a run killed at any moment leaves only whole parts; they are its
checkpoints. Everything downstream (results.json, grades.csv, the pages, a merge of shards) reads
results back from parts one at a time, through `PartResults`, so no process holds a whole class.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from grader.atomic import AtomicFile, write_text_atomic
from grader.records import Curve, Entry, SubmissionResult, TestOutcome
from grader.reports.results_json import _submission_from_dict, submission_json
from grader.rows import Rows

PARTS_DIR = ".parts"
#: Written into a folder's .parts once its run (or shard) has finished: what merge looks for.
COMPLETE_FILE = "complete.json"
PART_FORMAT = 1
_DECODER = json.JSONDecoder()
_ID_PREFIX = '{"id": '
_CONTENT = ', "content": "'
_RESULT = '", "result": '


@dataclass(frozen=True)
class PartHeader:
    """What every result in one part was computed with."""

    grader_version: str
    """Version of the grader that wrote the part."""
    seed: int
    """Seed of the random test inputs."""
    course: str
    """Hash of the course material and the judge (suites, reference, checks)."""
    settings: dict[str, object]
    """The grading options that decide a result (exercises, timeouts, memory, plots)."""
    listing: str
    """Hash of the whole class's sorted submission ids (a shard's class, not its slice)."""
    count: int
    """How many submissions the whole class has."""
    shard: str = ""
    """'k/N' when the part belongs to the k-th of N slices of the class; '' for a whole run."""
    isolation: tuple[str, ...] = ()
    """Isolation steps the shard's sandbox reported (empty when nothing ran in a sandbox)."""
    maxima: dict[str, float] = field(default_factory=dict)
    """Points available per exercise, as far as this part's results show them."""
    written: int = 0
    """When the part was written (ns since the epoch): the newest result of an id wins."""

    def key(self) -> tuple[object, ...]:
        """What must be equal for results to be reused or merged together."""
        return (self.grader_version, self.seed, self.course,
                json.dumps(self.settings, sort_keys=True))


def header_to_json(header: PartHeader) -> str:
    """The part's first line."""
    data = {"format": PART_FORMAT, "grader_version": header.grader_version, "seed": header.seed,
            "course": header.course, "settings": header.settings, "listing": header.listing,
            "count": header.count, "shard": header.shard, "isolation": list(header.isolation),
            "maxima": header.maxima, "written": header.written}
    return json.dumps(data, sort_keys=True, ensure_ascii=False)


def header_from_json(text: str) -> PartHeader:
    """Parse a part's first line; ValueError for anything else."""
    data = json.loads(text)
    if not isinstance(data, dict) or data.get("format") != PART_FORMAT:
        raise ValueError("not a part file of this grader's format")
    try:
        return PartHeader(
            grader_version=str(data["grader_version"]), seed=int(data["seed"]),
            course=str(data["course"]), settings=dict(data["settings"]),
            listing=str(data["listing"]), count=int(data["count"]), shard=str(data["shard"]),
            isolation=tuple(str(s) for s in data["isolation"]),
            maxima={str(k): float(v) for k, v in dict(data["maxima"]).items()},
            written=int(data["written"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"bad header field {exc}") from None


def part_line(result: SubmissionResult, content: str, memo: dict[tuple[object, ...], str]) -> str:
    """One submission's line: id and content hash first, so an index is read without parsing
    the result."""
    return (f'{_ID_PREFIX}{json.dumps(result.id, ensure_ascii=False)}{_CONTENT}{content}'
            f'{_RESULT}{submission_json(result, True, memo)}}}\n')


def write_part(folder: Path, header: PartHeader, rows: Iterable[tuple[SubmissionResult, str]],
               name: str) -> Path:
    """Write one part atomically (a reader sees all of it or none); rows are (result, content
    hash) sorted by id."""
    folder.mkdir(parents=True, exist_ok=True)
    memo: dict[tuple[object, ...], str] = {}
    # Line by line: a shard's part is megabytes, and never held whole (nor twice, as text and
    # as bytes) in the process that grades the class.
    with AtomicFile(folder / f"{name}.jsonl") as part:
        part.write(header_to_json(header) + "\n")
        for result, content in rows:
            part.write(part_line(result, content, memo))
        return part.commit()


def write_complete(parts_dir: Path, header: PartHeader, ids: Sequence[str]) -> None:
    """Mark a folder's run as finished, with the ids it is responsible for (for merge)."""
    data = {"header": json.loads(header_to_json(header)), "ids": list(ids)}
    parts_dir.mkdir(parents=True, exist_ok=True)
    write_text_atomic(parts_dir / COMPLETE_FILE, json.dumps(data, sort_keys=True) + "\n")


def now_ns() -> int:
    """A part's `written` stamp."""
    return time.time_ns()


@dataclass(frozen=True, slots=True)
class Location:
    """Where one submission's line sits."""

    part: int
    """Index of the part file in PartIndex.files."""
    offset: int
    """Byte offset of the line."""
    length: int
    """Byte length of the line."""
    content: str
    """Hash of what the submission was graded from."""


@dataclass
class PartIndex:
    """The parts found in some folders: their headers and, per submission id, its newest line."""

    files: list[Path] = field(default_factory=list)
    """Every part read, in the order read."""
    headers: list[PartHeader] = field(default_factory=list)
    """The header of each part in `files`."""
    lines: dict[str, Location] = field(default_factory=dict)
    """Submission id -> its newest line in any part."""
    notes: list[str] = field(default_factory=list)
    """Parts that could not be read, and why."""

    def add_folder(self, folder: Path, accept: PartHeader | None = None) -> None:
        """Index every part in folder; with `accept`, only parts made with its key."""
        if not folder.is_dir():
            return
        for path in sorted(folder.glob("*.jsonl")):
            try:
                self._add(path, accept)
            except (OSError, UnicodeDecodeError, ValueError) as exc:
                self.notes.append(f"ignored {path} ({exc})")

    def _add(self, path: Path, accept: PartHeader | None) -> None:
        with open(path, "rb") as handle:
            first = handle.readline()
            header = header_from_json(first.decode("utf-8"))
            if accept is not None and header.key() != accept.key():
                return
            number = len(self.files)
            found: list[tuple[str, Location]] = []
            offset = len(first)
            for raw in handle:
                sid, content = _line_keys(raw.decode("utf-8"))
                found.append((sid, Location(number, offset, len(raw), content)))
                offset += len(raw)
        self.files.append(path)
        self.headers.append(header)
        for sid, location in found:
            held = self.lines.get(sid)
            if held is None or self.headers[held.part].written <= header.written:
                self.lines[sid] = location

    def maxima(self) -> dict[str, float]:
        """Points available per exercise over every part."""
        best: dict[str, float] = {}
        for header in self.headers:
            for exercise, points in header.maxima.items():
                best[exercise] = max(best.get(exercise, 0.0), points)
        return best

    def isolation(self) -> tuple[str, ...]:
        """The isolation of the newest part whose submissions ran in a sandbox."""
        ran = [h for h in self.headers if h.isolation]
        return max(ran, key=lambda h: h.written).isolation if ran else ()

    def newest(self) -> int:
        """The latest `written` stamp of the parts read (0 when none)."""
        return max((h.written for h in self.headers), default=0)


def _line_keys(line: str) -> tuple[str, str]:
    """A line's id and content hash, read from its fixed start."""
    if not line.startswith(_ID_PREFIX):
        raise ValueError("a line does not start with its id")
    sid, end = _DECODER.raw_decode(line, len(_ID_PREFIX))
    start = end + len(_CONTENT)
    if not isinstance(sid, str) or line[end:start] != _CONTENT:
        raise ValueError("a line has no content hash")
    stop = line.index('"', start)
    if line[stop:stop + len(_RESULT)] != _RESULT or not line.rstrip().endswith("}"):
        raise ValueError(f"the line of {sid!r} is cut short")
    return sid, line[start:stop]


def result_from_part(data: dict[str, Any], sid: str) -> SubmissionResult:
    """A result as a part stores it. Parts are this grader's own output, written whole: read
    without results.json's field-by-field checks (a third of the time), which still name the
    bad field of a part that is not what it should be."""
    try:
        return SubmissionResult(
            id=data["id"], status=data["status"], score=float(data["score"]),
            max_score=float(data["max_score"]), tests=tuple(map(_test, data["tests"])),
            error=data["error"], problems=tuple(data["problems"]),
            curves=tuple(map(_curve, data["curves"])))
    except (KeyError, TypeError, ValueError, AttributeError):
        return _submission_from_dict(data, f"submission {sid!r}")


def _test(d: dict[str, Any]) -> TestOutcome:
    return TestOutcome(
        id=d["id"], exercise=d["exercise"], function=d["function"], name=d["name"],
        outcome=d["outcome"], score=float(d["score"]), max_score=float(d["max_score"]),
        visibility=d["visibility"], message=d["message"], hints=tuple(d["hints"]),
        pitfall=d["pitfall"], misconception=d["misconception"],
        advisories=tuple(d["advisories"]), duration=float(d["duration"]),
        comparison=tuple(Entry(index=e["index"], expected=e["expected"], got=e["got"],
                               differs=bool(e.get("differs"))) for e in d.get("comparison") or ()),
        comparison_note=str(d.get("comparison_note") or ""))


def _curve(d: dict[str, Any]) -> Curve:
    student = d["student"]
    return Curve(exercise=d["exercise"], function=d["function"], kind=d["kind"],
                 x=_series(d["x"]), reference=_series(d["reference"]),
                 student=None if student is None else _series(student), note=d["note"],
                 failed_test=d.get("failed_test", ""))


def _series(values: list[float | None]) -> tuple[float, ...]:
    """A curve's samples; JSON's nulls (non-finite values) come back as nan."""
    return tuple(math.nan if v is None else float(v) for v in values)


class _Reader:
    """Reads a submission's result back from its part, each part file opened once."""

    def __init__(self, index: PartIndex) -> None:
        self._index = index
        # A submission that could not be graded is given the class's points available (as the
        # engine gives it), which only the whole class's parts know.
        self._available = round(sum(index.maxima().values()), 6)
        self._handles: dict[int, int] = {}

    def __call__(self, sid: str) -> SubmissionResult:
        location = self._index.lines[sid]
        fd = self._handles.get(location.part)
        if fd is None:
            fd = os.open(self._index.files[location.part], os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
            self._handles[location.part] = fd
        raw = os.pread(fd, location.length, location.offset).decode("utf-8")
        result = result_from_part(json.loads(raw)["result"], sid)
        if result.status == "error" and result.max_score < self._available:
            result = replace(result, max_score=self._available)
        return result

    def close(self) -> None:
        """Close the part files this reader opened."""
        for fd in self._handles.values():
            os.close(fd)
        self._handles.clear()

    def __del__(self) -> None:
        self.close()


class PartResults(Rows[str, SubmissionResult]):
    """Results of the given ids, read from their parts when asked: one at a time in memory."""

    def __init__(self, index: PartIndex, ids: Sequence[str]) -> None:
        super().__init__(list(ids), _Reader(index))
