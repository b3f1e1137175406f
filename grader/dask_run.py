"""Grading a class on a Dask cluster: one task per package (`grade run --shard k/N`).

Each task runs its package as a subprocess of the worker rather than inside it: Dask's worker
processes are daemonic, and the sandbox must fork children of its own. The part folders are
written to storage every worker shares, and the caller merges them as they arrive.

dask and distributed are an optional extra, imported only when a cluster is asked for.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import signal
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from grader import part_store
from grader.errors import ClusterError, ExitCode, UsageError

STDERR_LINES = 20
"""How many of a failed package's last stderr lines are kept."""

# Runs first in the package's process and then becomes the package's command (exec keeps the
# setting): the kernel kills it when its worker dies, so a lost worker leaves no grading run
# behind to race the retry that writes the same part folder. prctl(1, 9) is
# PR_SET_PDEATHSIG with SIGKILL; a parent already gone before that is caught by the pid check.
_LAUNCHER = """\
import ctypes, os, sys
if sys.platform.startswith("linux"):
    ctypes.CDLL(None).prctl(1, 9, 0, 0, 0)
if os.getppid() != int(sys.argv[1]):
    os._exit(1)
os.execvp(sys.argv[2], sys.argv[2:])
"""


def install_hint() -> str:
    """The command that installs the dask extra of the distribution this grader came from."""
    from grader.gradescope_package import dist_name  # scans the installed distributions
    return f'pip install "{dist_name()}[dask]"'


@dataclass(frozen=True)
class DaskPlan:
    """A class split into packages (shards) and the cluster that grades them."""

    source: Path
    """The class folder; every worker must see it at this same path (shared storage)."""
    parts_root: Path
    """Shared folder that holds one part folder per package (see part_dir); with parts_url,
    this host's copy of the store."""
    packages: int
    """How many packages the class is split into: the N of `--shard k/N`."""
    grade_args: tuple[str, ...] = ()
    """Grading options given to every package as they are (--seed, --timeout, --exercise...)."""
    scheduler: str | None = None
    """A running scheduler's address (tcp://HOST:PORT); None starts a cluster on this host."""
    workers: int = 2
    """Worker processes of the cluster started on this host (unused with a scheduler)."""
    parts_url: str | None = None
    """An fsspec URL where the packages keep their parts when the workers share no folder
    (grader.part_store)."""
    retries: int = 2
    """How often a package is rerun when its worker dies or its process is killed by a signal.
    Dask counts a worker's death against every package queued on it, started or not. With a
    scheduler of one's own, worker deaths are counted by that scheduler's setting
    distributed.scheduler.allowed-failures instead."""


CommandBuilder = Callable[[DaskPlan, int], list[str]]
"""(plan, k) -> the command that grades package k; called on the worker that runs it."""


class DaskUnavailable(UsageError):
    """Dask was asked for but is not installed; the message says how to install it."""


class DaskRunError(Exception):
    """A package failed for good; the message is one line, the details are attributes."""

    def __init__(self, message: str, *, package: int, exit_code: int | None = None,
                 stderr_tail: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.package = package
        """The failed package, 1-based (the k of --shard k/N)."""
        self.exit_code = exit_code
        """Its command's exit code; None when it did not exit by itself (killed, lost)."""
        self.stderr_tail = stderr_tail
        """The last lines its command wrote to stderr."""


class PackageKilled(Exception):
    """A package's process was killed by a signal; raised on the worker so that Dask retries it
    (a signal is the host's doing, an exit code the package's own and would come again)."""


@dataclass(frozen=True)
class PackageResult:
    """How a package's command ended, as its worker sends it back."""

    package: int
    """The package, 1-based."""
    exit_code: int
    """The command's exit code (0 when its part folder is complete)."""
    stderr_tail: tuple[str, ...]
    """The last lines the command wrote to stderr."""


def part_dir(plan: DaskPlan, k: int) -> Path:
    """The part folder package k writes (1-based k)."""
    return plan.parts_root / f"{k:05d}-of-{plan.packages:05d}"


def shard_command(plan: DaskPlan, k: int) -> list[str]:
    """The command that grades package k, with the interpreter of the worker that runs it: its
    parts only, since the merge renders every page from them."""
    return [sys.executable, "-m", "grader", "run", str(plan.source),
            "--out", str(part_dir(plan, k)), "--shard", f"{k}/{plan.packages}", "--parts-only",
            "--quiet", *plan.grade_args]


def run_packages(plan: DaskPlan, on_done: Callable[[int, Path], None],
                 command: CommandBuilder = shard_command) -> list[Path]:
    """Grade every package of plan on its cluster; call on_done(k, part folder) as each one
    finishes, in the order they finish, and return the part folders in package order.

    Raises DaskRunError for a package that failed (the others are cancelled), DaskUnavailable
    without the dask extra, UsageError for a plan that cannot run."""
    _check(plan)
    # Workers resolve relative paths against their own folder, which is not ours.
    plan = replace(plan, source=plan.source.absolute(), parts_root=plan.parts_root.absolute())
    dist = _distributed()
    store = part_store.open_store(plan.parts_url) if plan.parts_url else None
    try:  # here rather than on a worker: this host merges the parts, so it must see them too
        plan.parts_root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create the parts folder {plan.parts_root}: "
                         f"{exc.strerror or exc}") from exc
    with _client(dist, plan) as client:
        futures = {client.submit(_run_package, plan, k, command, pure=False,
                                 retries=plan.retries, key=_key(plan, k)): k
                   for k in range(1, plan.packages + 1)}
        try:
            for future in dist.as_completed(list(futures)):
                k = futures[future]
                _raise_if_failed(dist, future, plan, k)
                if store is not None:
                    _fetch(store, plan, k)
                on_done(k, part_dir(plan, k))
        except BaseException:
            # Queued packages would otherwise still run on a cluster that outlives this call.
            client.cancel(list(futures))
            raise
    return [part_dir(plan, k) for k in range(1, plan.packages + 1)]


def _fetch(store: part_store.PartStore, plan: DaskPlan, k: int) -> None:
    """This host's copy of package k's parts, from the store its worker published them to."""
    try:
        found = store.fetch(part_dir(plan, k).name, part_dir(plan, k))
    except OSError as exc:
        raise DaskRunError(f"package {k} of {plan.packages}: its parts could not be fetched "
                           f"from {plan.parts_url}: {exc.strerror or exc}", package=k) from exc
    if not found:
        raise DaskRunError(f"package {k} of {plan.packages} finished, but {plan.parts_url} "
                           "holds no parts of it", package=k)


def _check(plan: DaskPlan) -> None:
    if plan.packages < 1:
        raise UsageError(f"the class must be split into at least 1 package, not {plan.packages}")
    if plan.retries < 0:
        raise UsageError(f"retries must be 0 or more, not {plan.retries}")
    if plan.scheduler is None and plan.workers < 1:
        raise UsageError(f"a local cluster needs at least 1 worker, not {plan.workers}")


def _distributed() -> Any:
    # Any: distributed is only partly typed, and the default install has no dask at all.
    try:
        return importlib.import_module("distributed")
    except ImportError as exc:
        raise DaskUnavailable(f"grading on a Dask cluster needs the dask extra: {install_hint()} "
                              f"({exc})") from exc


@contextlib.contextmanager
def _client(dist: Any, plan: DaskPlan) -> Iterator[Any]:
    """A client of plan's scheduler, or of a cluster on this host that is closed afterwards."""
    if plan.scheduler is not None:
        try:
            client = dist.Client(plan.scheduler)
        except (OSError, ValueError) as exc:  # unreachable, or not an address
            raise UsageError(f"cannot reach the Dask scheduler at {plan.scheduler}: {exc}") from exc
        with client:
            yield client
        return
    # Bound to the loopback interface: nothing else on the network can submit work to it.
    # Logs silenced: a lost package is reported as a DaskRunError, not twice.
    cluster = dist.LocalCluster(
        n_workers=plan.workers, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None, silence_logs=logging.CRITICAL,
        scheduler_kwargs={"allowed_failures": plan.retries})
    with cluster, dist.Client(cluster) as client:
        yield client


def _key(plan: DaskPlan, k: int) -> str:
    # Readable on a dashboard, and unique so that two runs on one scheduler never share a task.
    return f"grade-package-{k:05d}-of-{plan.packages:05d}-{uuid.uuid4().hex[:12]}"


def _run_package(plan: DaskPlan, k: int, command: CommandBuilder) -> PackageResult:
    """Run package k's command on this worker and report how it ended; with a store, in a
    folder of this worker's own between a fetch of what the store holds and a publish."""
    if plan.parts_url is None:
        return _run_command(plan, k, command)
    store = part_store.open_store(plan.parts_url)
    name = part_dir(plan, k).name
    with tempfile.TemporaryDirectory(prefix="grade-package-") as scratch:
        here = replace(plan, parts_root=Path(scratch))
        store.fetch(name, part_dir(here, k))
        result = _run_command(here, k, command)
        if result.exit_code == 0:
            store.publish(part_dir(here, k), name)
    return result


def _run_command(plan: DaskPlan, k: int, command: CommandBuilder) -> PackageResult:
    argv = [sys.executable, "-I", "-S", "-c", _LAUNCHER, str(os.getpid()), *command(plan, k)]
    done = subprocess.run(argv, capture_output=True, stdin=subprocess.DEVNULL, check=False)
    tail = _tail(done.stderr)
    if done.returncode < 0:
        raise PackageKilled(f"package {k} of {plan.packages} was killed by "
                            f"{_signal_name(-done.returncode)}{_last_line(tail, ': ')}")
    return PackageResult(package=k, exit_code=done.returncode, stderr_tail=tail)


def _raise_if_failed(dist: Any, future: Any, plan: DaskPlan, k: int) -> None:
    """Turn a package's failure, whatever its kind, into one DaskRunError."""
    where = f"package {k} of {plan.packages}"
    if future.status == "cancelled":
        raise DaskRunError(f"{where} was cancelled by the Dask scheduler", package=k)
    if future.status == "error":
        exc = future.exception()
        if isinstance(exc, dist.KilledWorker):
            tries = exc.allowed_failures + 1
            raise DaskRunError(f"{where} was lost with its worker {_times(tries)} (the last "
                               f"worker: {exc.last_worker.address})", package=k)
        if isinstance(exc, PackageKilled):
            raise DaskRunError(f"{exc} (after {plan.retries} retries)", package=k)
        raise DaskRunError(f"{where} failed on its worker: {type(exc).__name__}: {exc}",
                           package=k)
    result: PackageResult = future.result()
    if result.exit_code != 0:
        raise DaskRunError(
            f"{where} exited with code {result.exit_code}"
            f"{_last_line(result.stderr_tail, ': ') or ' (nothing on stderr)'}",
            package=k, exit_code=result.exit_code, stderr_tail=result.stderr_tail)


def _tail(stderr: bytes) -> tuple[str, ...]:
    lines = stderr.decode("utf-8", errors="replace").splitlines()
    return tuple(line for line in lines if line.strip())[-STDERR_LINES:]


def _last_line(tail: tuple[str, ...], prefix: str) -> str:
    return f"{prefix}{tail[-1].strip()}" if tail else ""


def _times(count: int) -> str:
    return "once" if count == 1 else f"{count} times"


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


#: Where in the output folder the packages' part folders go (every worker must see it).
SHARDS_DIR = ".shards"


def package_count(submissions: int, size: int, granule: int) -> int:
    """How many packages of about `size` a class of `submissions` is cut into (slices are whole
    granules). A few hundred makes a package's fixed start (a grade process and its judges) a
    small share of its work, and a lost worker cost little."""
    return max(1, min(-(-submissions // max(1, size)), -(-submissions // max(1, granule))))


def finished_packages(plan: DaskPlan, on_done: Callable[[int, Path], None]) -> list[Path]:
    """run_packages, with a failure turned into a ClusterError for the command line."""
    try:
        return run_packages(plan, on_done)
    except DaskRunError as exc:
        code = ExitCode.ISOLATION_REFUSED if exc.exit_code == ExitCode.ISOLATION_REFUSED \
            else ExitCode.CLUSTER_FAILED
        raise ClusterError(f"{exc}; the packages that finished are kept in "
                           f"{plan.parts_root}, so the same command resumes", code) from None
