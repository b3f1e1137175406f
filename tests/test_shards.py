"""A class graded in slices (`grade run --shard k/N`) and joined with `grade merge` gives the
outputs of a single run; merge refuses slices that were graded differently."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "examples" / "submissions"
FAST = ("--exercise", "activations", "--no-timings", "--quiet")


def grade(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "grader", *map(str, args)], capture_output=True,
                          text=True, timeout=600)


@pytest.fixture(scope="module")
def class_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """40 submissions, the sample class's six students over and over: two slices' worth (32 and 8)."""
    folder = tmp_path_factory.mktemp("shards") / "class"
    students = sorted(p for p in SAMPLE.iterdir() if p.is_dir())
    for n in range(40):
        source = students[n % len(students)]
        shutil.copytree(source, folder / f"{source.name}-{n:02d}")
    return folder


@pytest.fixture(scope="module")
def single(class_dir: Path) -> Path:
    out = class_dir.parent / "single"
    done = grade(class_dir, "--out", out, *FAST)
    assert done.returncode == 0, done.stderr
    return out


def shard_folders(class_dir: Path, base: Path, total: int, *extra: str) -> list[Path]:
    folders = []
    for k in range(1, total + 1):
        folder = base / f"part{k}"
        done = grade(class_dir, "--out", folder, "--shard", f"{k}/{total}", *FAST, *extra)
        assert done.returncode == 0, done.stderr
        folders.append(folder)
    return folders


def test_shards_merged_equal_a_single_run(class_dir: Path, single: Path, tmp_path: Path) -> None:
    folders = shard_folders(class_dir, tmp_path, 3)
    # Each slice wrote its own students' pages and no class outputs.
    pages = [sorted(p.parent.name for p in f.glob("*/feedback.html")) for f in folders]
    # In whole multiples of 32 submissions: the first of three slices of 40 is empty.
    assert [len(p) for p in pages] == [0, 32, 8] and not (folders[1] / "results.json").exists()
    merged = tmp_path / "merged"
    done = grade("merge", *folders, "--out", merged, "--no-timings")
    assert done.returncode == 0, done.stderr
    assert json.loads((merged / "results.json").read_text()) == \
        json.loads((single / "results.json").read_text())
    assert (merged / "grades.csv").read_text() == (single / "grades.csv").read_text()
    assert (merged / "index.html").read_text() == (single / "index.html").read_text()
    for page in single.glob("*/feedback.html"):
        assert (merged / page.parent.name / "feedback.html").read_text() == page.read_text()
    assert done.stdout.splitlines()[0].startswith("merged 40 submission(s) in ")


def test_merge_refuses_a_slice_graded_otherwise_and_an_incomplete_split(
        class_dir: Path, tmp_path: Path) -> None:
    folders = shard_folders(class_dir, tmp_path, 2)
    other = tmp_path / "reseeded"
    assert grade(class_dir, "--out", other, "--shard", "2/2", *FAST, "--seed", "5").returncode == 0
    refused = grade("merge", folders[0], other, "--out", tmp_path / "m")
    assert refused.returncode == 2
    assert refused.stderr == (f"grade: error: cannot merge {other} with {folders[0]}: it was "
                              "graded with seed 5, not 20261123\n")
    alone = grade("merge", folders[0], "--out", tmp_path / "m")
    assert alone.stderr == "grade: error: shard 2/2 missing: give merge all 2 shard folders\n"
    unfinished = tmp_path / "empty"
    unfinished.mkdir()
    missing = grade("merge", folders[0], unfinished, "--out", tmp_path / "m")
    assert missing.returncode == 2 and missing.stderr.startswith(
        f"grade: error: {unfinished}: no finished run here")
    assert not (tmp_path / "m" / "results.json").exists()


def test_bad_shard_values_are_one_line(class_dir: Path, tmp_path: Path) -> None:
    for text in ("0/3", "4/3", "x", "1/0"):
        done = grade(class_dir, "--out", tmp_path / "o", "--shard", text)
        assert done.returncode == 2
        assert done.stderr == (f"grade: error: --shard {text}: use k/N with 1 <= k <= N, "
                               "e.g. 2/8\n")


def test_a_shard_checks_fail_under_on_its_own_slice(class_dir: Path, tmp_path: Path) -> None:
    done = grade(class_dir, "--out", tmp_path / "o", "--shard", "3/3", "--fail-under", "100",
                 "--exercise", "activations", "--no-timings")
    assert done.returncode == 1
    line = next(x for x in done.stderr.splitlines() if x.startswith("below 100%: "))
    below = line.removeprefix("below 100%: ").split(", ")
    last_eight = sorted(p.name for p in class_dir.iterdir())[-8:]
    assert below and set(below) <= set(last_eight)


def test_parts_only_shards_write_no_pages_and_merge_to_every_page(
        class_dir: Path, single: Path, tmp_path: Path) -> None:
    folders = shard_folders(class_dir, tmp_path, 2, "--parts-only")
    assert not [p for f in folders for p in f.glob("*/feedback.html")]
    assert all(any((f / ".parts").glob("*.jsonl")) for f in folders)
    merged = tmp_path / "merged"
    done = grade("merge", *folders, "--out", merged, "--no-timings")
    assert done.returncode == 0, done.stderr
    assert json.loads((merged / "results.json").read_text()) == \
        json.loads((single / "results.json").read_text())
    pages = sorted(single.glob("*/feedback.html"))
    assert len(pages) == 40
    for page in pages:
        assert (merged / page.parent.name / "feedback.html").read_text() == page.read_text()


def test_parts_only_without_shard_is_one_line(class_dir: Path, tmp_path: Path) -> None:
    done = grade(class_dir, "--out", tmp_path / "o", "--parts-only")
    assert (done.returncode, done.stderr) == (2, "grade: error: --parts-only is for a slice "
                                              "graded with --shard K/N, whose pages the merge "
                                              "writes\n")
