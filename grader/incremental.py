"""Incremental regrades: reuse the results of submissions that have not changed since the last run.

A result is reused only when everything it was computed from is unchanged: the submission's
content (sources, discovery notes, error), the course material and the judge (exercises/,
reference/, grader/judge/ and the grader's version), and the options that change what a test
sees (seed, exercises, timeouts, memory, plots). Those hashes live in OUT/.grade-cache.json beside
results.json, together with a digest of each stored result, so a results.json edited or left
half-updated by an interrupted run is never mistaken for the one the cache describes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from grader import __version__, paths
from grader.atomic import write_text_atomic
from grader.engine import GradeOptions
from grader.records import GradeRun, Submission, SubmissionResult
from grader.reports.results_json import RESULTS_FILENAME, read_results_json, submission_json

CACHE_FILENAME = ".grade-cache.json"
CACHE_FORMAT = 2
_JUDGE_DIR = Path(__file__).resolve().parent / "judge"


@dataclass(frozen=True)
class Cache:
    """What OUT/.grade-cache.json records about the results.json beside it."""

    run_key: str
    """Hash of the course material, the judge and the grading options."""
    entries: dict[str, tuple[str, str]]
    """Submission id -> (content hash, digest of its stored result)."""


@dataclass(frozen=True)
class Previous:
    """The last run's outputs, as far as they can be trusted."""

    cache: Cache | None
    run: GradeRun | None
    notes: tuple[str, ...] = ()
    """Why earlier outputs were ignored, for the instructor."""


@dataclass(frozen=True)
class Split:
    """Which submissions keep their earlier result and which are graded again."""

    reuse: tuple[SubmissionResult, ...]
    regrade: tuple[Submission, ...]
    key_changed: bool = False
    """True when a cache existed but was made with other material or options."""


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


def run_key(options: GradeOptions) -> str:
    """Hash of the suites, reference, judge and the options that decide a result."""
    digest = hashlib.sha256()
    # The judge's checks write the messages and hints: changing them changes results too.
    for folder in (paths.exercises_dir(), paths.reference_dir(), _JUDGE_DIR):
        _tree_hash(folder, digest)
    digest.update(_digest({
        "version": __version__, "seed": options.seed, "exercises": list(options.exercises),
        "timeout": options.timeout, "submission_timeout": options.submission_timeout,
        "memory": options.memory_bytes, "plots": options.plots,
    }).encode())
    return digest.hexdigest()


def result_digest(result: SubmissionResult, memo: dict[tuple[object, ...], str] | None = None) -> str:
    """Hash of a result as results.json stores it, durations left out (`memo`: JSON of tests
    and curves already written, shared between the submissions of a class)."""
    text = submission_json(result, False, {} if memo is None else memo)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def split(found: list[Submission], previous: Previous, key: str) -> Split:
    """Reuse each submission whose content, result and run key match the cache; regrade the rest."""
    cache, old = previous.cache, previous.run
    if cache is None or old is None or cache.run_key != key:
        changed = cache is not None and old is not None
        return Split(reuse=(), regrade=tuple(found), key_changed=changed)
    stored = {r.id: r for r in old.submissions}
    memo: dict[tuple[object, ...], str] = {}
    reuse: list[SubmissionResult] = []
    regrade: list[Submission] = []
    for submission in found:
        entry = cache.entries.get(submission.id)
        result = stored.get(submission.id)
        if (entry is not None and result is not None and entry[0] == content_key(submission)
                and entry[1] == result_digest(result, memo)):
            reuse.append(result)
        else:
            regrade.append(submission)
    return Split(reuse=tuple(reuse), regrade=tuple(regrade))


def merge(plan: Split, fresh: GradeRun | None, old: GradeRun | None) -> GradeRun:
    """One run of the reused and the freshly graded results, sorted by id as the engine sorts."""
    base = fresh if fresh is not None else old
    if base is None:
        raise ValueError("merge needs a fresh run or the previous one")
    results = sorted([*plan.reuse, *(fresh.submissions if fresh else ())], key=lambda r: r.id)
    # A run that only held unreadable submissions started no sandbox and knows no isolation.
    ran = fresh is not None and any(r.status == "graded" for r in fresh.submissions)
    source = fresh if ran or old is None else old
    assert source is not None
    return GradeRun(grader_version=base.grader_version, seed=base.seed,
                    isolation=source.isolation, submissions=tuple(_fill_max(results)),
                    warnings=source.warnings)


def _fill_max(results: list[SubmissionResult]) -> list[SubmissionResult]:
    """Give unreadable submissions the class's points available, as a full run does.

    The engine takes that total from whichever submissions it ran; a partial regrade of only
    unreadable submissions ran none, so it is taken from the reused results instead.
    """
    available = max((r.max_score for r in results if r.status == "graded"), default=0.0)
    return [dataclasses.replace(r, max_score=available)
            if r.status == "error" and r.max_score < available else r for r in results]


def build_cache(run: GradeRun, found: list[Submission], key: str) -> Cache:
    """The cache describing run, as written to results.json."""
    results = {r.id: r for r in run.submissions}
    memo: dict[tuple[object, ...], str] = {}
    return Cache(run_key=key, entries={
        s.id: (content_key(s), result_digest(results[s.id], memo))
        for s in found if s.id in results})


def cache_to_json(cache: Cache) -> str:
    """The cache file's text."""
    data = {"format": CACHE_FORMAT, "run_key": cache.run_key,
            "submissions": {k: {"content": c, "result": r}
                            for k, (c, r) in sorted(cache.entries.items())}}
    return json.dumps(data, indent=1, sort_keys=True) + "\n"


def cache_from_json(text: str) -> Cache:
    """Parse the cache file; ValueError for anything but the layout cache_to_json writes."""
    data = json.loads(text)
    if not isinstance(data, dict) or data.get("format") != CACHE_FORMAT:
        raise ValueError("unknown format")
    key, subs = data.get("run_key"), data.get("submissions")
    if not isinstance(key, str) or not isinstance(subs, dict):
        raise ValueError("run_key or submissions missing")
    entries: dict[str, tuple[str, str]] = {}
    for sub_id, entry in subs.items():
        if not (isinstance(entry, dict) and isinstance(entry.get("content"), str)
                and isinstance(entry.get("result"), str)):
            raise ValueError(f"bad entry for {sub_id!r}")
        entries[str(sub_id)] = (entry["content"], entry["result"])
    return Cache(run_key=key, entries=entries)


def load_previous(out_dir: Path) -> Previous:
    """The cache and results.json in out_dir; anything unreadable is ignored with a note."""
    cache_path, results_path = out_dir / CACHE_FILENAME, out_dir / RESULTS_FILENAME
    if not cache_path.is_file():
        return Previous(cache=None, run=None)
    try:
        cache = cache_from_json(cache_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return Previous(None, None, (f"ignored {cache_path} ({_reason(exc)}); "
                                     "every submission is graded again",))
    try:
        run = read_results_json(results_path)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return Previous(None, None, (f"ignored the earlier {results_path} ({_reason(exc)}); "
                                     "every submission is graded again",))
    return Previous(cache=cache, run=run)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or type(exc).__name__
    if isinstance(exc, json.JSONDecodeError):
        return "not valid JSON"
    return str(exc) or type(exc).__name__


def save_cache(out_dir: Path, cache: Cache) -> Path:
    """Write OUT/.grade-cache.json atomically, after results.json (see the module docstring)."""
    path = out_dir / CACHE_FILENAME
    write_text_atomic(path, cache_to_json(cache))
    return path
