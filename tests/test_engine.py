"""The engine's sharing out of a class: shards, judges that serve several of them, a judge that dies.

Submissions are built in tmp_path and graded by the real engine on the activations exercise,
with small limits.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import threading
from pathlib import Path

import pytest

from grader import submissions
from grader.engine import GradeOptions, Judges, _split, grade_submissions
from grader.records import GradeRun, Submission
from tests.procs import processes
from tests.test_cli import CORRECT_ACTIVATIONS

MISTAKES = {
    "max_not_maximum": ("np.maximum(0, z)", "np.max(z)"),
    "abs_relu": ("np.maximum(0, z)", "np.abs(z)"),
}


def build_class(folder: Path, size: int) -> list[Submission]:
    """`size` submissions: correct ones (each file a little different) and two kinds of mistake."""
    kinds = [None, *MISTAKES]
    for n in range(size):
        kind = kinds[n % len(kinds)]
        text = CORRECT_ACTIVATIONS + f"\n# student {n}\n"
        if kind is not None:
            text = text.replace(*MISTAKES[kind])
        (folder / f"s{n:02d}").mkdir(parents=True)
        (folder / f"s{n:02d}" / "activations.py").write_text(text)
    return submissions.discover(folder, folder.parent / "unpack")


def options(**changes: object) -> GradeOptions:
    base = GradeOptions(jobs=2, exercises=("activations",), timeout=1.0, memory_bytes=512 << 20,
                        plots=False)
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def outcomes(run: GradeRun) -> dict[str, list[tuple[str, str, float, str]]]:
    return {s.id: [(t.id, t.outcome, t.score, t.message) for t in s.tests] for s in run.submissions}


@pytest.mark.parametrize("size", [1, 15, 16, 17, 100, 500, 2001])
@pytest.mark.parametrize("jobs", [1, 2, 8])
def test_shards_are_whole_cohorts_in_order_and_shrink_towards_the_end(size: int, jobs: int) -> None:
    subs = [Submission(id=str(n), sources={}) for n in range(size)]
    shards = _split(subs, GradeOptions(jobs=jobs, cohort_size=16, shard_size=64))
    assert [s for shard in shards for s in shard] == subs
    sizes = [len(shard) for shard in shards]
    assert all(n % 16 == 0 for n in sizes[:-1]) and 0 < sizes[-1] <= 64
    assert sizes == sorted(sizes, reverse=True)
    if size >= 2 * jobs * 64:
        # A big class: the first shards are full, the last ones one or two cohorts.
        assert sizes[0] == 64 and sizes[-2] <= 32


def test_judges_serving_many_small_shards_agree_with_one_large_shard(tmp_path: Path) -> None:
    found = build_class(tmp_path / "subs", 9)
    one = grade_submissions(found, options(jobs=1, shard_size=64))
    many = grade_submissions(found, options(jobs=2, shard_size=2, cohort_size=1))
    assert outcomes(many) == outcomes(one)
    scores = {s.id: s.score for s in many.submissions}
    assert scores["s00"] == scores["s03"] == max(scores.values())
    assert scores["s01"] < scores["s00"] and scores["s02"] < scores["s00"]


def _judges() -> list[int]:
    """Judge processes started by this test process."""
    mine = str(os.getpid())
    found = []
    for proc in processes():
        if b"runner.serve" not in proc.cmdline:
            continue
        try:
            stat = Path(f"/proc/{proc.pid}/stat").read_text()
        except OSError:
            continue
        if stat.rsplit(")", 1)[1].split()[1] == mine:
            found.append(proc.pid)
    return found


def test_a_judge_that_dies_costs_only_its_shard(tmp_path: Path) -> None:
    found = build_class(tmp_path / "subs", 6)
    killed = threading.Event()

    def kill_the_judge(_sid: str) -> None:
        # The first submission is done: its judge is midway through the first shard.
        if not killed.is_set():
            for pid in _judges():
                os.kill(pid, signal.SIGKILL)
            killed.set()

    run = grade_submissions(found, options(jobs=1, shard_size=2, cohort_size=1),
                            on_done=kill_the_judge)
    assert killed.is_set()
    status = {s.id: (s.status, s.error) for s in run.submissions}
    lost = {sid for sid, (state, _) in status.items() if state == "error"}
    assert lost == {"s00", "s01"}
    assert "could not finish the batch" in str(status["s00"][1])
    # A new judge took the shards that were left.
    assert all(s.tests for s in run.submissions if s.id not in lost)
    assert _judges() == []


def test_judges_started_before_the_class_is_read_are_used_or_ended(tmp_path: Path) -> None:
    found = build_class(tmp_path / "subs", 3)
    with Judges(options(jobs=4), expected=1) as judges:
        assert len(_judges()) == 1  # one submission: one judge, whatever --jobs says
    with Judges(options(jobs=2), expected=500) as judges:
        assert len(_judges()) == 2  # a class of 500 keeps both busy
        # It turned out to be three submissions: one shard, one judge; the other is ended.
        run = judges.grade(found)
        workdir = judges.workdir
    assert [(s.id, s.status) for s in run.submissions] == [
        ("s00", "graded"), ("s01", "graded"), ("s02", "graded")]
    assert outcomes(run) == outcomes(grade_submissions(found, options(jobs=1)))
    assert _judges() == [] and not workdir.exists()


SLEEPY = CORRECT_ACTIVATIONS.replace("def relu(z):\n", "def relu(z):\n    import time\n    time.sleep(0.2)\n")


def test_ctrl_c_stops_the_run_without_starting_more_shards(tmp_path: Path) -> None:
    for n in range(6):
        (tmp_path / "subs" / f"s{n}").mkdir(parents=True)
        (tmp_path / "subs" / f"s{n}" / "activations.py").write_text(SLEEPY + f"# {n}\n")
    found = submissions.discover(tmp_path / "subs", tmp_path / "unpack")
    done: list[str] = []

    def interrupt(sid: str) -> None:
        done.append(sid)
        if len(done) == 1:
            os.kill(os.getpid(), signal.SIGINT)  # what Ctrl-C does to this process

    with pytest.raises(KeyboardInterrupt):
        grade_submissions(found, options(jobs=1, shard_size=1, cohort_size=1), on_done=interrupt)
    # The shard that was running finished; none of the four left was started.
    assert len(done) <= 2
    assert _judges() == []


def test_ctrl_c_on_the_command_is_one_line_and_exit_130(tmp_path: Path) -> None:
    import subprocess
    import sys
    import time

    for n in range(3):
        (tmp_path / "subs" / f"s{n}").mkdir(parents=True)
        (tmp_path / "subs" / f"s{n}" / "activations.py").write_text(SLEEPY + f"# {n}\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "grader", str(tmp_path / "subs"), "--out", str(tmp_path / "out"),
         "--exercise", "activations", "--timeout", "1", "--memory", "512M", "--no-plots"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    assert proc.stderr is not None
    proc.stderr.readline()  # the first submission graded: the run is well under way
    began = time.monotonic()
    os.killpg(proc.pid, signal.SIGINT)  # a terminal sends Ctrl-C to the whole process group
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert err.strip().splitlines()[-1] == "grade: interrupted before the run finished"
    assert "Traceback" not in err
    assert time.monotonic() - began < 30
    assert not (tmp_path / "out" / "results.json").exists()
