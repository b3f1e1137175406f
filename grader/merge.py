"""`grade merge`: the outputs of a class graded in slices (`grade run --shard k/N`) on any number
of machines, written as a single run would have written them.

Each slice's folder says in .parts/complete.json what it was graded with and which submissions
it holds; merge refuses folders that disagree on anything that decides a result, and reads the
results from their parts one at a time.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from grader.errors import UsageError
from grader.outputs import OutputOptions, write_outputs
from grader.parts import COMPLETE_FILE, PARTS_DIR, PartHeader, PartIndex, header_from_json
from grader.pipeline import read_run
from grader.records import GradeRun
from grader.reports.gradebook import Gradebook

@dataclass(frozen=True)
class Finished:
    """A folder whose run or shard ran to its end."""

    folder: Path
    """The folder given to merge."""
    header: PartHeader
    """What its results were graded with."""
    ids: tuple[str, ...]
    """The submissions it is responsible for, sorted."""


@dataclass(frozen=True)
class MergeReport:
    """What merge wrote."""

    run: GradeRun
    """The merged results, read from the parts."""
    warnings: tuple[str, ...]
    """Differences that do not change a result (the isolation of some slices)."""
    book: Gradebook
    """Every submission's totals, gathered while the outputs were written."""


def read_finished(folder: Path) -> Finished:
    """The folder's completion record; UsageError if its run did not finish."""
    path = folder / PARTS_DIR / COMPLETE_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        header = header_from_json(json.dumps(data["header"]))
        ids = tuple(str(i) for i in data["ids"])
    except FileNotFoundError:
        raise UsageError(f"{folder}: no finished run here (no {PARTS_DIR}/{COMPLETE_FILE}); "
                         "run its `grade run ... --shard k/N` again, it resumes") from None
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"{path}: cannot be read ({exc})") from None
    return Finished(folder, header, ids)


def difference(a: PartHeader, b: PartHeader) -> str | None:
    """The first thing that decides a result and differs between a and b, in words."""
    if a.grader_version != b.grader_version:
        return f"grader version {b.grader_version}, not {a.grader_version}"
    if a.seed != b.seed:
        return f"seed {b.seed}, not {a.seed}"
    if a.course != b.course:
        return "another version of the course (suites, reference or checks differ)"
    for key in sorted(set(a.settings) | set(b.settings)):
        if a.settings.get(key) != b.settings.get(key):
            return f"option {key} = {b.settings.get(key)!r}, not {a.settings.get(key)!r}"
    if a.listing != b.listing:
        return (f"another class listing ({b.count} submissions, not {a.count})"
                if a.count != b.count else "another class listing (other submission ids)")
    return None


def check_agreement(first: Finished, other: Finished) -> None:
    """UsageError, naming the difference, unless other was graded as first was."""
    what = difference(first.header, other.header)
    if what is not None:
        raise UsageError(f"cannot merge {other.folder} with {first.folder}: it was graded "
                         f"with {what}")


def check_slices(found: Sequence[Finished]) -> None:
    """UsageError unless the folders agree and hold every slice of one class exactly once."""
    for item in found[1:]:
        check_agreement(found[0], item)
    labels = [item.header.shard for item in found]
    if "" in labels and len(found) > 1:
        raise UsageError(f"{found[labels.index('')].folder} holds a whole run, not a shard; "
                         "merge the folders of one `--shard k/N` split")
    totals = {label.split("/")[1] for label in labels if label}
    if len(totals) > 1:
        raise UsageError(f"the folders come from different splits ({', '.join(sorted(labels))})")
    seen: dict[str, Path] = {}
    for item in found:
        if item.header.shard in seen:
            raise UsageError(f"shard {item.header.shard} is given twice: "
                             f"{seen[item.header.shard]} and {item.folder}")
        seen[item.header.shard] = item.folder
    if totals:
        total = int(totals.pop())
        missing = [f"{k}/{total}" for k in range(1, total + 1) if f"{k}/{total}" not in seen]
        if missing:
            raise UsageError(f"shard {', '.join(missing)} missing: give merge all {total} "
                             "shard folders")


def merge(folders: Sequence[Path], out_dir: Path, output: OutputOptions) -> MergeReport:
    """Write the outputs of the finished slices in `folders` into out_dir."""
    found = [read_finished(folder) for folder in folders]
    check_slices(found)
    index = PartIndex()
    for item in found:
        index.add_folder(item.folder / PARTS_DIR, accept=item.header)
    ids = sorted(sid for item in found for sid in item.ids)
    absent = [sid for sid in ids if sid not in index.lines]
    if absent:
        raise UsageError(f"no result for {absent[0]} in the parts "
                         f"({len(absent)} missing): rerun its shard")
    if len(ids) != found[0].header.count:
        raise UsageError(f"the shards hold {len(ids)} submissions, the class has "
                         f"{found[0].header.count}")
    run = read_run(index, ids, found[0].header.seed)
    book = write_outputs(run, out_dir, output).book
    kinds = sorted({"+".join(h.isolation) for h in index.headers if h.isolation})
    warnings = ((f"the shards ran student code with different isolation: {'; '.join(kinds)}",)
                if len(kinds) > 1 else ())
    return MergeReport(run=run, warnings=warnings, book=book)
