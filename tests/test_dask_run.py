"""Packages of a class graded on a Dask cluster (grader.dask_run), with a stand-in for
`grade run --shard k/N` so that nothing is graded: clusters of two worker processes on the
loopback interface, every wait bounded so that a hang fails instead of stalling the suite."""

from __future__ import annotations

import functools
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

distributed = pytest.importorskip("distributed")
import dask  # noqa: E402  (installed with distributed)
import psutil  # noqa: E402  (a dependency of distributed)

from grader.dask_run import (  # noqa: E402
    DaskPlan, DaskRunError, DaskUnavailable, install_hint, part_dir, run_packages, shard_command)
from grader.errors import UsageError  # noqa: E402

T = TypeVar("T")
LIMIT = 60.0
"""Seconds any one run may take before the test fails."""

# Stands in for `grade run`: notes each start (its worker's pid inside, so a test can kill that
# worker), sleeps, then writes its part. A rerun of a package sleeps only briefly.
FAKE_SHARD = """\
import os, sys, time
from pathlib import Path
part, k, pause, failing = Path(sys.argv[1]), sys.argv[2], float(sys.argv[3]), sys.argv[4]
root = part.parent
rerun = any(root.glob(f"started-{k}-*"))
note = root / f".note-{k}-{os.getpid()}"
note.write_text(str(os.getppid()))
note.replace(root / f"started-{k}-{os.getpid()}")  # whole when seen
if k == failing:
    print("Traceback: not this line", file=sys.stderr)
    print("grade: error: --exercise nope: the course has no such exercise", file=sys.stderr)
    sys.exit(2)
time.sleep(0.2 if rerun else pause)
(part / ".parts").mkdir(parents=True, exist_ok=True)
(part / ".parts" / f"done-{k}").write_text("")
"""


def fake_command(script: Path, pauses: dict[int, float], failing: int,
                 plan: DaskPlan, k: int) -> list[str]:
    """The stand-in's command for package k; runs on the worker, as shard_command does."""
    return [sys.executable, str(script), str(part_dir(plan, k)), str(k),
            str(pauses.get(k, 0.3)), str(failing)]


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "fake_shard.py"
    path.write_text(FAKE_SHARD)
    return path


@pytest.fixture(autouse=True)
def no_processes_left(tmp_path: Path) -> Iterator[None]:
    """Fails a test after which a worker, a nanny or a stand-in shard is still running."""
    me = psutil.Process()
    before = {p.pid for p in me.children(recursive=True)}
    yield
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        left = [p for p in _alive(me) if p.pid not in before] + _shards(tmp_path)
        if not left:
            return
        time.sleep(0.1)
    pytest.fail(f"processes left behind: {[(p.pid, p.cmdline()) for p in left]}")


def _alive(me: psutil.Process) -> list[psutil.Process]:
    # multiprocessing's resource tracker lives as long as this interpreter, whoever started it.
    return [p for p in me.children(recursive=True)
            if p.status() != psutil.STATUS_ZOMBIE
            and not any("resource_tracker" in part for part in p.cmdline())]


def _shards(tmp_path: Path) -> list[psutil.Process]:
    """Stand-in shards still running anywhere (an orphan is no longer our child)."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        if any(str(tmp_path) in part for part in proc.info["cmdline"] or ()):
            found.append(proc)
    return found


def within(seconds: float, work: Callable[[], T]) -> T:
    """work(), or a failed test when it takes longer than seconds (the thread is left behind)."""
    outcome: list[T] = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            outcome.append(work())
        except BaseException as exc:  # re-raised in the test's thread
            error.append(exc)
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        pytest.fail(f"still running after {seconds} s")
    if error:
        raise error[0]
    return outcome[0]


def running(pid: int, wait: float = 5.0) -> bool:
    """Whether pid still runs after up to wait seconds (a zombie has stopped running)."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return False
        except psutil.NoSuchProcess:
            return False
        time.sleep(0.05)
    return True


def plan_for(tmp_path: Path, packages: int = 2, **kwargs: object) -> DaskPlan:
    fields: dict[str, object] = {"source": tmp_path / "class", "parts_root": tmp_path / "parts",
                                 "packages": packages, "workers": 2, "retries": 2}
    fields.update(kwargs)
    return DaskPlan(**fields)  # type: ignore[arg-type]


def starts(plan: DaskPlan, k: int) -> list[Path]:
    return sorted(plan.parts_root.glob(f"started-{k}-*"))


def test_every_package_is_graded_and_reported_once(tmp_path: Path, script: Path) -> None:
    plan = plan_for(tmp_path, 5)
    done: list[tuple[int, Path]] = []
    command = functools.partial(fake_command, script, {}, 0)
    parts = within(LIMIT, lambda: run_packages(plan, lambda k, p: done.append((k, p)), command))
    assert parts == [tmp_path / "parts" / f"{k:05d}-of-00005" for k in range(1, 6)]
    assert sorted(done) == list(zip(range(1, 6), parts))
    for k, part in enumerate(parts, 1):
        assert (part / ".parts" / f"done-{k}").exists()
        assert len(starts(plan, k)) == 1


def kill_worker_of_package_1(plan: DaskPlan, work: Callable[[], object]
                             ) -> tuple[list[BaseException], Path]:
    """Run work in a thread, SIGKILL the worker running package 1 as soon as that package has
    started, and return what work raised once it is over, and that start's file."""
    raised: list[BaseException] = []

    def target() -> None:
        try:
            work()
        except BaseException as exc:  # returned to the test's thread
            raised.append(exc)
    runner = threading.Thread(target=target, daemon=True)
    runner.start()
    deadline = time.monotonic() + LIMIT
    while not starts(plan, 1) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert starts(plan, 1), "package 1 never started"
    first = starts(plan, 1)[0]
    os.kill(int(first.read_text()), signal.SIGKILL)
    runner.join(LIMIT)
    assert not runner.is_alive(), "still running after the worker was killed"
    return raised, first


def test_a_package_whose_worker_is_killed_is_rerun(tmp_path: Path, script: Path) -> None:
    plan = plan_for(tmp_path, 4)
    done: list[int] = []
    # Package 1 sleeps long enough on its first run for the kill to land while it runs.
    command = functools.partial(fake_command, script, {1: 30.0}, 0)
    raised, first = kill_worker_of_package_1(
        plan, lambda: run_packages(plan, lambda k, p: done.append(k), command))
    assert raised == []
    assert sorted(done) == [1, 2, 3, 4]
    assert len(starts(plan, 1)) == 2
    # The killed run died with its worker rather than finishing beside its rerun.
    assert not running(int(first.name.rsplit("-", 1)[1]))


def test_without_retries_a_lost_package_is_an_error(tmp_path: Path, script: Path) -> None:
    plan = plan_for(tmp_path, 4, retries=0)
    command = functools.partial(fake_command, script, {1: 30.0}, 0)
    raised, _ = kill_worker_of_package_1(
        plan, lambda: run_packages(plan, lambda k, p: None, command))
    # Dask also counts the death against a package that was only queued on that worker.
    assert len(raised) == 1 and isinstance(raised[0], DaskRunError)
    assert re.fullmatch(r"package \d of 4 was lost with its worker once \(the last worker: "
                        r"tcp://127\.0\.0\.1:\d+\)", str(raised[0]))


def test_a_failing_package_raises_its_exit_code_and_last_stderr_line(
        tmp_path: Path, script: Path) -> None:
    plan = plan_for(tmp_path, 3)
    # Package 1 is still running when package 2 fails: the error does not wait for it, and
    # closing the cluster stops it (see no_processes_left).
    command = functools.partial(fake_command, script, {1: 30.0}, 2)
    with pytest.raises(DaskRunError) as caught:
        within(20, lambda: run_packages(plan, lambda k, p: None, command))
    error = caught.value
    assert str(error) == ("package 2 of 3 exited with code 2: grade: error: --exercise nope: "
                          "the course has no such exercise")
    assert (error.package, error.exit_code) == (2, 2)
    assert error.stderr_tail[0] == "Traceback: not this line"
    # An exit code is the package's own answer: it is not rerun.
    assert len(starts(plan, 2)) == 1


def test_a_scheduler_of_ones_own_is_used_and_left_running(tmp_path: Path, script: Path) -> None:
    command = functools.partial(fake_command, script, {}, 0)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        plan = plan_for(tmp_path, 3, scheduler=cluster.scheduler_address, workers=0)
        parts = within(LIMIT, lambda: run_packages(plan, lambda k, p: None, command))
        assert all((p / ".parts").is_dir() for p in parts)
        with distributed.Client(cluster) as client:
            assert len(client.scheduler_info()["workers"]) == 2


def test_an_unreachable_scheduler_is_a_usage_error(tmp_path: Path) -> None:
    plan = plan_for(tmp_path, 2, scheduler="tcp://127.0.0.1:1")
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        with pytest.raises(UsageError, match="cannot reach the Dask scheduler at tcp://127.0"):
            within(LIMIT, lambda: run_packages(plan, lambda k, p: None))


def test_without_dask_the_error_says_how_to_install_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # what `import` sees when it is missing
    with pytest.raises(DaskUnavailable) as caught:
        run_packages(plan_for(tmp_path, 2), lambda k, p: None)
    assert isinstance(caught.value, UsageError)
    assert 'pip install "activations-grader[dask]"' in str(caught.value)
    assert install_hint() == 'pip install "activations-grader[dask]"'


def test_the_shard_command_grades_package_k_into_its_part(tmp_path: Path) -> None:
    plan = plan_for(tmp_path, 12, grade_args=("--seed", "7", "--exercise", "relu"))
    assert shard_command(plan, 3) == [
        sys.executable, "-m", "grader", "run", str(tmp_path / "class"),
        "--out", str(tmp_path / "parts" / "00003-of-00012"), "--shard", "3/12", "--parts-only",
        "--quiet", "--seed", "7", "--exercise", "relu"]


@pytest.mark.parametrize("field, value", [("packages", 0), ("retries", -1), ("workers", 0)])
def test_an_impossible_plan_is_refused_before_any_cluster(
        tmp_path: Path, field: str, value: int) -> None:
    with pytest.raises(UsageError, match=f"not {value}"):
        run_packages(plan_for(tmp_path, **{field: value}), lambda k, p: None)


def test_with_a_store_the_parts_travel_through_it(tmp_path: Path, script: Path) -> None:
    store = tmp_path / "store"
    plan = plan_for(tmp_path, 3, parts_url=f"file://{store}")
    done: list[int] = []
    command = functools.partial(fake_command, script, {}, 0)
    parts = within(LIMIT, lambda: run_packages(plan, lambda k, p: done.append(k), command))
    assert sorted(done) == [1, 2, 3]
    for k, part in enumerate(parts, 1):
        # Graded in the worker's own folder, published to the store, fetched here.
        assert sorted(p.name for p in (store / part.name / ".parts").iterdir()) == [f"done-{k}"]
        assert sorted(p.name for p in (part / ".parts").iterdir()) == [f"done-{k}"]
    assert not starts(plan, 1) and not list(tmp_path.glob("**/started-*"))
