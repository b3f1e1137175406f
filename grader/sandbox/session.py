"""One submission's session with its sandbox child: calls, batches of calls fetched ahead, and
the kill of the child's whole process tree when a limit is hit or the submission is done.

Every limit is enforced from here, never trusted to the child: the per-call deadline, the size of
an answer, the number of time-outs a function may cost, and the submission's whole time budget
(every wait on its children added up, see Session._waiting).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import socket
import time
from typing import TYPE_CHECKING, Any, Callable, Iterator

from grader.records import CallResult
from grader.sandbox import protocol
from grader.sandbox.answers import (Batch, MapRequest, encode_call, map_request, missing_module,
                                    to_result)

if TYPE_CHECKING:
    from grader.sandbox.client import Sandbox

#: A function that ran out of time this often is not called again for this submission.
TIMEOUTS_BEFORE_SKIP = 2
HELLO_TIMEOUT = 10.0


class BudgetSpent(TimeoutError):
    """The submission's whole time budget ran out while waiting on its child (then ended).

    A TimeoutError, so every handler of a time-out also stops on it; those that must tell the
    two apart catch it first.
    """


class Session:
    """Calls into one submission's child, respawning it after a kill."""

    def __init__(self, sandbox: Sandbox, sources: dict[str, str], slot: int = 0) -> None:
        self.sandbox = sandbox
        self.sources = sources
        self.slot = slot
        self.pid: int | None = None
        self.student_pid: int | None = None
        self.steps: tuple[str, ...] = ()
        """Isolation steps of the current child."""
        """Host pid of the process running the student's code (see _ensure_child)."""
        self.baseline = 0
        self.chan: socket.socket | None = None
        self.timeouts: dict[tuple[str, str], int] = {}
        self.loaded: set[str] = set()
        """Modules the current child has imported."""
        self.imported: set[str] = set()
        """Modules some child of this session has imported without trouble."""
        self.spent = 0.0
        """Seconds spent waiting on this submission's children, every exchange added up."""

    def _ensure_child(self) -> socket.socket:
        if self.chan is not None:
            return self.chan
        if self.out_of_time():  # no child is forked for a submission with no time left
            raise BudgetSpent()
        self.pid, chan = self.sandbox.spawn(self.sources, self.slot)
        self.loaded = set()
        try:
            with self._waiting(HELLO_TIMEOUT) as until:
                hello, _ = protocol.recv_frame(chan, deadline=until())
        except BudgetSpent:
            chan.close()
            raise
        except (EOFError, TimeoutError, protocol.ProtocolError, OSError) as exc:
            self._end()
            raise RuntimeError(f"the sandbox could not start: {exc}") from None
        if not hello.get("hello"):
            self._end()
            raise RuntimeError(str(hello.get("error", "the sandbox could not start")))
        steps = tuple(str(s) for s in hello.get("isolation", ()))
        self.steps = steps
        if self.sandbox.isolation is None:
            self.sandbox.isolation = steps
        self.chan = chan
        # The process that runs the student's code: in a PID namespace not the one forked
        # (that one waits for it), so its host pid comes with the hello, sent before any
        # student code ran.
        host_pid = hello.get("pid")
        self.student_pid = host_pid if isinstance(host_pid, int) and host_pid > 0 else self.pid
        self.baseline = _resident_bytes(self.student_pid)
        return chan

    def resident_growth(self) -> int:
        """Bytes of memory the child holds beyond what it had when it started (0 if unknown).

        Read by the judge from /proc, never asked of the child, which could lie. What the child
        wrote into its scratch tmpfs (its /tmp, /dev/shm) is memory too, held outside its
        address space: counted as well.
        """
        if self.pid is None or self.student_pid is None:
            return 0
        scratch = _scratch_bytes(self.student_pid) if "scratch" in self.steps else 0
        return max(0, _resident_bytes(self.student_pid) - self.baseline) + scratch

    def call(self, module: str, function: str, args: tuple[object, ...],
             kwargs: dict[str, object]) -> CallResult:
        """Call module.function(*args, **kwargs) in the child; never raises for student behaviour."""
        limit = self.sandbox.config.timeout
        if module not in self.sources:  # known here already: no need to ask the child
            return missing_module(module)
        if self.out_of_time():
            return self._out_of_budget("not run")
        if self.timeouts.get((module, function), 0) >= TIMEOUTS_BEFORE_SKIP:
            return CallResult(ok=False, kind="timeout", message=(
                f"not run: your {function}() already ran out of time "
                f"({limit:g} s) {TIMEOUTS_BEFORE_SKIP} times"))
        if module not in self.loaded and module in self.imported:
            # A fresh child after a kill, for a module that imported fine before: import it on
            # its own budget, so the call is not granted (and a hang does not cost) a second one.
            self._load(module)
        blobs: list[bytes] = []
        header = {"op": "call", "module": module, "function": function,
                  **encode_call(args, kwargs, blobs)}
        # The first call into a module also runs its import, which gets a budget of its own.
        budget = limit if module in self.loaded else 2 * limit
        try:
            reply, reply_blobs = self._exchange(protocol.encode_frame(header, blobs), budget)
        except BudgetSpent:  # not the function's own limit: not counted against it
            return self._out_of_budget(f"your {function}() was stopped")
        except TimeoutError:
            self._timed_out(module, function)
            return CallResult(ok=False, kind="timeout",
                              message=f"your {function}() did not return within {limit:g} s")
        except (EOFError, ConnectionError, BrokenPipeError):
            return self._died(function)
        except protocol.ProtocolError as exc:
            self._end()
            return CallResult(ok=False, kind="bad_return",
                              message=f"your {function}() sent back something unreadable: {exc}")
        self.loaded.add(module)
        self.imported.add(module)
        return to_result(reply, reply_blobs, function, self.sandbox.config.memory_bytes)

    def call_many(self, module: str, function: str,
                  calls: list[tuple[tuple[object, ...], dict[str, object]]]) -> Batch | None:
        """Make several calls of one function in a single round trip, or return None.

        The whole batch gets one call's time limit. None means the batch gave no answer (too
        slow, a crash, nothing to ask): the child has been restarted, and the caller makes the
        calls one by one, so a hang or crash is still pinned on the exact call, with the usual
        per-call limit.
        """
        return self.fetch(map_request(module, function, calls))

    def fetch(self, request: MapRequest) -> Batch | None:
        """call_many with calls encoded ahead (the same request goes to every submission)."""
        module = request.module
        if not self._askable(request):
            return None
        # The import first, with its own budget: the batch then gets one call's limit, and a
        # hang in the batch costs no more than a hang in a single call.
        if module not in self.loaded and not self._load(module):
            return None
        digest = hashlib.blake2b(digest_size=16)
        try:
            reply, reply_blobs = self._exchange(self.sandbox.request_frame(request),
                                                self.sandbox.config.timeout, digest)
            batch = self._batch(request, reply, reply_blobs, digest)
        except BudgetSpent:  # the calls made one by one then answer "not run" at once
            return None
        except TimeoutError:
            # The function spent a whole call's limit on this batch: that counts as running
            # out of time once, so a function that hangs is not waited for more than without
            # batches.
            self._timed_out(module, request.function)
            return None
        except (EOFError, OSError, KeyError, TypeError, protocol.ProtocolError):
            self._end()
            return None
        self.loaded.add(module)
        return batch

    def _batch(self, request: MapRequest, reply: dict[str, Any], blobs: list[bytes],
               digest: Any) -> Batch:
        """The child's answers to `request`; ProtocolError (or KeyError) if they do not fit it."""
        # The answers themselves (the last blob) are decoded when a test reads one.
        if reply["count"] != request.count or not blobs:
            raise protocol.ProtocolError("wrong number of answers")
        return Batch(request.function, request.count, blobs[-1], blobs[:-1],
                     self.sandbox.config.memory_bytes, digest.digest())

    def fetch_many(self, requests: list[MapRequest]) -> list[Batch | None]:
        """fetch() of each request, in one round trip when the worker holds them all decoded:
        the child then imports each module and answers each batch in turn, a frame per step,
        and each step gets the limit it would get on its own."""
        if not requests:
            return []
        if self.out_of_time():
            return [None] * len(requests)
        self.sandbox.start()  # a worker started now is sent the plan before it forks
        if any(self.sandbox.planned_index(r) is None for r in requests):
            return [self.fetch(r) for r in requests]
        found: list[Batch | None] = [None] * len(requests)
        todo = list(range(len(requests)))
        while todo:  # each pass leaves out the step that failed: it ends
            todo = self._run([n for n in todo if self._askable(requests[n])], requests, found)
        return found

    def _askable(self, request: MapRequest) -> bool:
        return (request.module in self.sources and request.count > 0 and not self.out_of_time()
                and self.timeouts.get((request.module, request.function), 0) < TIMEOUTS_BEFORE_SKIP)

    def _run(self, todo: list[int], requests: list[MapRequest],
             found: list[Batch | None]) -> list[int]:
        """Ask the child for the batches `todo`; fill `found`; return the batches left to ask
        a new child after a step timed out or the child died (none if all went well)."""
        steps: list[tuple[str, int]] = []  # ("load", n) or ("batch", n)
        loading: set[str] = set()
        for n in todo:
            module = requests[n].module
            if module not in self.loaded and module not in loading:
                loading.add(module)
                steps.append(("load", n))
            steps.append(("batch", n))
        if not steps:
            return []
        wire = [["load", requests[n].module] if kind == "load"
                else ["planned", self.sandbox.planned_index(requests[n])] for kind, n in steps]
        try:
            chan = self._ensure_child()
        except BudgetSpent:  # nothing more is asked (see _askable)
            return []
        try:
            with self._waiting(self.sandbox.config.timeout) as until:
                chan.settimeout(_seconds_to(until()))
                chan.sendall(protocol.encode_frame({"op": "run", "steps": wire}))
        except OSError:  # BudgetSpent too (a TimeoutError)
            self._end()
            return []
        failed: set[str] = set()
        for position, (kind, n) in enumerate(steps):
            if not self._step(chan, kind, requests[n], found, n, failed):
                return [m for k, m in steps[position + 1:]
                        if k == "batch" and requests[m].module not in failed]
        return []

    def _step(self, chan: socket.socket, kind: str, request: MapRequest,
              found: list[Batch | None], n: int, failed: set[str]) -> bool:
        """Read the child's answer to one step of a run; False if the child had to be ended."""
        module, limit = request.module, self.sandbox.config.timeout
        digest = hashlib.blake2b(digest_size=16) if kind == "batch" else None
        budget = 2 * limit if kind == "load" else limit
        try:
            with self._waiting(budget) as until:
                reply, blobs = protocol.recv_frame(chan, deadline=until(), digest=digest)
            if kind == "batch" and not reply.get("skipped"):
                found[n] = self._batch(request, reply, blobs, digest)
        except BudgetSpent:  # the child is ended; nothing more is asked (see _askable)
            return False
        except TimeoutError:
            if kind == "batch":  # counted as for fetch()
                self._timed_out(module, request.function)
            else:
                failed.add(module)
                self._end()
            return False
        except (EOFError, OSError, KeyError, TypeError, protocol.ProtocolError):
            if kind == "load":
                failed.add(module)
            self._end()
            return False
        if kind == "load" and not self._imported(module, reply):
            failed.add(module)
        return True

    def _load(self, module: str) -> bool:
        """Import `module` in the child; False if that did not work (calls will say why)."""
        try:
            reply, _ = self._exchange(protocol.encode_frame({"op": "load", "module": module}),
                                      2 * self.sandbox.config.timeout)
        except (TimeoutError, EOFError, OSError, protocol.ProtocolError):
            self._end()
            return False
        return self._imported(module, reply)

    def _imported(self, module: str, reply: dict[str, Any]) -> bool:
        """Whether the child's reply to an import says it went well (noted if so)."""
        if reply.get("ok") is not True:
            return False
        self.loaded.add(module)
        self.imported.add(module)
        return True

    def _exchange(self, frame: bytes, budget: float,
                  digest: Any = None) -> tuple[dict[str, Any], list[bytes]]:
        """Send one request (an encoded frame) to the child and read its answer, all within
        `budget` seconds."""
        chan = self._ensure_child()
        with self._waiting(budget) as until:
            # Bounds the send too: a child that stops reading cannot stall us.
            chan.settimeout(_seconds_to(until()))
            chan.sendall(frame)
            return protocol.recv_frame(chan, deadline=until(), digest=digest)

    @contextlib.contextmanager
    def _waiting(self, budget: float) -> Iterator[Callable[[], float]]:
        """Wait on the child: yields until(), the deadline of a read starting now (`budget`
        seconds, cut to what is left of the submission's budget). The time spent inside is
        added to self.spent; a time-out at the submission's deadline becomes BudgetSpent, and
        the child is ended.
        """
        total = self.sandbox.config.submission_timeout
        start = time.monotonic()
        end = start + total - self.spent
        cut = False
        try:
            yield lambda: min(time.monotonic() + budget, end)
        except TimeoutError:
            # Named after the limit that actually ran out, the function's or the submission's.
            if time.monotonic() < end:
                raise
            cut = True
            self._end()
            raise BudgetSpent() from None
        finally:
            # max(): float rounding must not leave a submission cut short a sliver of time.
            self.spent = max(self.spent + time.monotonic() - start, total if cut else 0.0)

    def out_of_time(self) -> bool:
        """Whether the submission has used up its whole time budget (its child is then ended)."""
        if self.spent < self.sandbox.config.submission_timeout:
            return False
        self._end()
        return True

    def _out_of_budget(self, fate: str) -> CallResult:
        """The answer of a call the submission's time budget stopped or kept from running."""
        total = self.sandbox.config.submission_timeout
        return CallResult(ok=False, kind="timeout", message=(
            f"{fate}: your submission used up its whole time budget ({total:g} s) "
            "across all its calls"))

    def _timed_out(self, module: str, function: str) -> None:
        """Kill the child that ran out of time, and count it against the function."""
        self._end()
        self.timeouts[(module, function)] = self.timeouts.get((module, function), 0) + 1

    def _died(self, function: str) -> CallResult:
        status = self._end()
        sig = status.get("signal")
        if sig is not None and sig == getattr(signal, "SIGXCPU", None):
            text = "used up its CPU time budget and was stopped"
        elif sig is not None:
            name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
            text = f"crashed the Python process (killed by {name})"
        else:
            text = f"ended the Python process (exit code {status.get('exit')}, e.g. os._exit)"
        return CallResult(ok=False, kind="crash", message=f"while running {function}(), your code {text}")

    def _end(self) -> dict[str, Any]:
        status: dict[str, Any] = {}
        if self.chan is not None:
            self.chan.close()
            self.chan = None
        if self.pid is not None:
            status = self.sandbox.kill(self.pid, self.slot)
            self.pid = None
        return status

    def close(self) -> None:
        """Kill the child and everything it left running."""
        self._end()


def _seconds_to(deadline: float) -> float:
    """A socket timeout reaching `deadline` (never 0 or less: 0 would make the socket
    non-blocking, and a negative one is refused)."""
    return max(1e-3, deadline - time.monotonic())


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _scratch_bytes(pid: int) -> int:
    """Bytes in use on the child's root, its scratch tmpfs (0 if it cannot be looked at)."""
    try:
        found = os.statvfs(f"/proc/{pid}/root")
    except OSError:
        return 0
    return (found.f_blocks - found.f_bfree) * found.f_frsize


def _resident_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return 0
