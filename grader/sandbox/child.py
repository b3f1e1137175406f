"""The sandbox child: isolates itself, then loads student modules from text and answers calls.

Everything here runs in a process that student code can take over, so nothing it sends is trusted:
the judge validates each answer as plain data (grader.sandbox.protocol.decode_value).
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import io
import json
import os
import socket
import sys
import traceback
import types
import warnings
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Sequence

import numpy as np

from grader.sandbox import isolation, protocol, view, standins

#: How much of what a call prints is sent back (the rest is counted, not kept).
STDOUT_CAP = 4096
#: How many warnings of one call are sent back.
WARNINGS_CAP = 5
#: Most bytes of arrays one batch of calls may send back.
MAP_BYTES = 16 << 20

Fingerprint = tuple[object, ...] | None
"""An array argument's shape, dtype and bytes (None for any other argument)."""
Call = tuple[list[object], dict[str, object], list[Fingerprint] | None]
"""A call's positional and keyword arguments, and the arguments' fingerprints if known."""


@dataclass(frozen=True)
class PlannedBatch:
    """Calls of one function, decoded by the worker once for every child it forks."""

    module: str
    """The student's module."""
    function: str
    """The function called."""
    calls: tuple[tuple[list[object], dict[str, object], list[Fingerprint]], ...]
    """Each call's arguments (see fresh_calls for the copies a call gets) and their
    fingerprints."""
    mutable: tuple[tuple[tuple[int, ...], bool], ...]
    """Per call: which positional arguments could be changed in place, and whether any
    keyword argument could."""

    def fresh_calls(self) -> Iterator[Call]:
        """Each call with copies of the arguments it could change: a call that changes an
        input never changes what the next call or child gets."""
        for (args, kwargs, before), (positions, keywords) in zip(self.calls, self.mutable):
            fresh = list(args)
            for n in positions:
                fresh[n] = _fresh(args[n])
            # **kwargs hands the function a dict of its own: only values it could change
            # need copies.
            yield fresh, ({k: _fresh(v) for k, v in kwargs.items()} if keywords else kwargs), before


#: Planned batches by index, filled in the worker (see prepare) and inherited by each fork.
PLANS: dict[int, PlannedBatch] = {}


def prepare(first: int, frames: list[bytes]) -> None:
    """Decode map requests (frames as grader.sandbox.answers.map_request makes them) in the
    worker, as PLANS[first], PLANS[first + 1], ...: a child then spends no time decoding them.

    The frames come from the judge, not from a student."""
    for index, frame in enumerate(frames, start=first):
        header, blobs = protocol.decode_frame(frame)
        calls, mutable = [], []
        for one in header["calls"]:
            args, kwargs, _ = _decoded(one, blobs)
            calls.append((args, kwargs, [_fingerprint(a) for a in args]))
            mutable.append((tuple(n for n, a in enumerate(args) if _fresh(a) is not a),
                            any(_fresh(v) is not v for v in kwargs.values())))
        PLANS[index] = PlannedBatch(str(header["module"]), str(header["function"]), tuple(calls),
                                    tuple(mutable))


def _fresh(value: Any) -> Any:
    """A copy of planned arguments a call may change in place: arrays and the lists, tuples
    and dicts that hold them (numbers and strings cannot change)."""
    if type(value) is np.ndarray:
        return value.copy()
    if type(value) is list or type(value) is tuple:
        return type(value)(_fresh(v) for v in value)
    if type(value) is dict:
        return {k: _fresh(v) for k, v in value.items()}
    return value


class CappedWriter(io.TextIOBase):
    """A stdout stand-in that keeps the first STDOUT_CAP characters and counts the rest."""

    def __init__(self) -> None:
        self.kept: list[str] = []
        self.size = 0

    def write(self, text: str) -> int:
        if self.size < STDOUT_CAP:
            self.kept.append(str(text)[: STDOUT_CAP - self.size])
        self.size += len(text)
        return len(text)

    def take(self) -> str:
        """Return what was printed since the last take, with a note if some was dropped."""
        text = "".join(self.kept)
        if self.size > STDOUT_CAP:
            text += f"\n... ({self.size - STDOUT_CAP} more characters not shown)"
        self.kept, self.size = [], 0
        return text


class SubmissionFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves the student's modules from source text, so `import helpers` works between them."""

    def __init__(self, sources: dict[str, str]) -> None:
        protected = set(sys.stdlib_module_names) | {"numpy", "grader"}
        self.sources = {k: v for k, v in sources.items() if k not in protected}

    def find_spec(self, fullname: str, path: Sequence[str] | None = None,
                  target: types.ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if fullname in self.sources:
            return importlib.machinery.ModuleSpec(fullname, self, origin=f"{fullname}.py")
        return None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        name = module.__name__
        module.__file__ = f"{name}.py"
        standins.run_module(module, self.sources[name], self.sources.get(name + standins.FALLBACK))


def run(chan: socket.socket, sources: dict[str, str], plan: isolation.Plan) -> None:
    """Child entry point: isolate, say hello with the isolation steps, then serve calls."""
    isolation.set_name("grade-student")
    devnull = os.open(os.devnull, os.O_RDWR)
    for std in (0, 1, 2):
        os.dup2(devnull, std)
    try:
        applied = isolation.isolate(plan)
    except OSError as exc:
        protocol.send_frame(chan, {"hello": False, "error": f"isolation failed: {exc}"})
        return
    protocol.send_frame(chan, {"hello": True, "isolation": applied.steps,
                               "pid": applied.host_pid})
    out = CappedWriter()
    sys.stdout = sys.stderr = out
    finder = SubmissionFinder(sources)
    sys.meta_path.insert(0, finder)
    standins.install(finder, finder.sources)
    sys.path[:] = view.python_path(sys.path)
    while True:
        try:
            header, blobs = protocol.recv_frame(chan)
        except (EOFError, ConnectionError, protocol.ProtocolError):
            return
        op = header.get("op")
        if op == "run":
            _run_steps(chan, header.get("steps"), out, finder)
        elif op in ("call", "map", "load", "planned"):
            protocol.send_frame(chan, *_respond(str(op), header, blobs, out, finder))
        else:
            return


def _respond(op: str, header: dict[str, Any], blobs: list[bytes], out: CappedWriter,
             finder: SubmissionFinder) -> tuple[dict[str, Any], list[bytes]]:
    """The reply to one request, and the arrays it refers to."""
    reply_blobs: list[bytes] = []
    try:
        if op == "call":
            reply = _call(header, blobs, out, finder, reply_blobs)
        elif op == "load":
            reply = {k: v for k, v in _load(str(header["module"]), finder).items()
                     if k != "module"}
            reply["stdout"] = out.take()
        elif op == "planned":
            reply = _planned(header, out, finder, reply_blobs)
        else:
            reply = _map(header, blobs, out, finder, reply_blobs)
    except BaseException as exc:  # noqa: BLE001 - e.g. the student replaced a builtin we use
        reply_blobs = []
        reply = _fail("exception", "your code broke Python itself while the "
                      f"result was sent back ({type(exc).__name__})")
    return reply, reply_blobs


def _run_steps(chan: socket.socket, steps: object, out: CappedWriter,
               finder: SubmissionFinder) -> None:
    """Answer several requests in a row, one frame each, read by the judge step after step
    (each within its own limit): a submission's planned calls cost one round trip. The
    batches of a module that failed to import are skipped, as the judge would not ask them."""
    failed: set[str] = set()
    for step in steps if isinstance(steps, list) else []:
        op, arg = step if isinstance(step, list) and len(step) == 2 else ("", None)
        batch = PLANS.get(arg) if op == "planned" else None  # type: ignore[arg-type]
        if op == "load":
            reply, blobs = _respond("load", {"module": arg}, [], out, finder)
            if not reply.get("ok"):
                failed.add(str(arg))
        elif batch is not None and batch.module in failed:
            reply, blobs = {"skipped": True}, []
        elif op == "planned":
            reply, blobs = _respond("planned", {"index": arg}, [], out, finder)
        else:
            reply, blobs = _fail("unknown_step", f"no such step {op!r}"), []
        protocol.send_frame(chan, reply, blobs)


def _errstate() -> np.errstate:
    """Floating-point trouble warns (and is reported as an advisory) instead of passing silently."""
    return np.errstate(divide="warn", over="warn", invalid="warn", under="ignore")


def _map(header: dict[str, Any], blobs: list[bytes], out: CappedWriter,
         finder: SubmissionFinder, reply_blobs: list[bytes]) -> dict[str, Any]:
    """Run a batch of calls sent with the request."""
    calls = (_decoded(one, blobs) for one in header["calls"])
    return _batch(str(header["module"]), str(header["function"]), calls, out, finder,
                  reply_blobs)


def _planned(header: dict[str, Any], out: CappedWriter, finder: SubmissionFinder,
             reply_blobs: list[bytes]) -> dict[str, Any]:
    """Run a batch of calls the worker decoded before this child was forked (see prepare)."""
    batch = PLANS.get(header.get("index"))  # type: ignore[arg-type]
    if batch is None:
        return _fail("unknown_plan", "no such planned batch")
    return _batch(batch.module, batch.function, batch.fresh_calls(), out, finder, reply_blobs)


def _batch(module_name: str, function: str, calls: Iterable[Call], out: CappedWriter,
           finder: SubmissionFinder, reply_blobs: list[bytes]) -> dict[str, Any]:
    """Answer calls one after the other; give up (the judge then calls one by one) once the
    answers grow past MAP_BYTES, so big answers never add up to more than one call's worth of
    memory."""
    results: list[dict[str, Any]] = []
    size = 0
    # One warnings and one errstate context for the whole batch (entering them was a sixth of
    # a call's cost); each call keeps the warnings it raised.
    with warnings.catch_warnings(record=True) as caught, _errstate():
        warnings.simplefilter("always")
        # Imported (or found missing or broken) once for the whole batch; what the import
        # prints or warns goes with the first call, as it would on its own.
        loaded = _load(module_name, finder)
        for args, kwargs, before in calls:
            count = len(reply_blobs)
            results.append(_answer(loaded, module_name, function, args, kwargs, before, out,
                                   reply_blobs, caught, 0 if not results else len(caught)))
            size += sum(len(blob) for blob in reply_blobs[count:])
            if size > MAP_BYTES:
                reply_blobs.clear()
                return _fail("too_big", f"the answers of one batch passed {MAP_BYTES} bytes")
    # The answers travel as the last blob, which the judge decodes only when a test reads one.
    reply_blobs.append(json.dumps(results, allow_nan=False).encode())
    return {"count": len(results)}


def _call(header: dict[str, Any], blobs: list[bytes], out: CappedWriter,
          finder: SubmissionFinder, reply_blobs: list[bytes]) -> dict[str, Any]:
    """Run one call; its answer's arrays are appended to reply_blobs (shared by a whole map)."""
    args, kwargs, before = _decoded(header, blobs)
    with warnings.catch_warnings(record=True) as caught, _errstate():
        warnings.simplefilter("always")
        module_name = str(header["module"])
        return _answer(_load(module_name, finder), module_name, str(header["function"]), args,
                       kwargs, before, out, reply_blobs, caught, 0)


def _decoded(call: dict[str, Any], blobs: list[bytes]) -> Call:
    args = [protocol.decode_value(a, blobs) for a in call["args"]]
    kwargs = {str(k): protocol.decode_value(v, blobs) for k, v in call["kwargs"].items()}
    return args, kwargs, None


def _answer(loaded: dict[str, Any], module_name: str, function: str, args: list[object],
            kwargs: dict[str, object], before: list[Fingerprint] | None, out: CappedWriter,
            reply_blobs: list[bytes], caught: Any, start: int) -> dict[str, Any]:
    """One call into `loaded` (what _load gave), inside the warnings and errstate contexts;
    `caught`: the list the warnings context records into, this call's from `start` on."""
    reply = _invoke(loaded, module_name, function, args, kwargs, before, reply_blobs)
    # Left out when empty, as is `after` when nothing changed (most answers): the judge reads
    # a missing one as empty, and holds a cohort's answers as sent until its last test.
    printed = out.take()
    if printed:
        reply["stdout"] = printed
    if len(caught) > start:
        reply["warnings"] = [_warning_text(w) for w in caught[start:start + WARNINGS_CAP]]
    return reply


def _load(module_name: str, finder: SubmissionFinder) -> dict[str, Any]:
    """Import the student's module (once); {"ok": True, "module": ...} or a failure."""
    if module_name not in finder.sources:
        return _fail("missing_module", f"{module_name}.py was not found in your submission")
    try:
        return {"ok": True, "module": __import__(module_name)}
    except BaseException as exc:  # noqa: BLE001 - the student's import may raise anything
        sys.modules.pop(module_name, None)
        return _fail("import_error", _describe(exc, f"importing {module_name}.py"))


def _invoke(loaded: dict[str, Any], module_name: str, function: str, args: list[object],
            kwargs: dict[str, object], before: list[Fingerprint] | None,
            blobs: list[bytes]) -> dict[str, Any]:
    if not loaded["ok"]:
        return dict(loaded)  # each answer a dict of its own: stdout and warnings are added
    func = getattr(loaded["module"], function, None)
    if not callable(func):
        return _fail("missing_function", f"{module_name}.py defines no function {function}()")
    if before is None:
        before = [_fingerprint(a) for a in args]
    try:
        result = func(*args, **kwargs)
    except NotImplementedError:
        return _fail("not_implemented", f"{function}() is not implemented yet "
                     "(it still raises NotImplementedError)")
    except MemoryError:
        return _fail("memory", f"{function}() ran out of memory")
    except BaseException as exc:  # noqa: BLE001 - SystemExit, KeyboardInterrupt and friends too
        return _fail("exception", _describe(exc, f"calling {function}()"))
    return _encode_answer(result, args, before, blobs)


def _fingerprint(arg: object) -> Fingerprint:
    """Shape, dtype and bytes of an array argument, to tell afterwards whether it was changed."""
    if type(arg) is not np.ndarray:
        return None
    return (arg.shape, arg.dtype.str, arg.tobytes())


def _encode_answer(result: object, args: list[object], before: list[Fingerprint],
                   blobs: list[bytes]) -> dict[str, Any]:
    try:
        spec = protocol.encode_value(result, blobs)
    except protocol.TooBig as exc:  # its size, dtype and shape, for the judge to put in words
        return {**_fail("too_big", "returned too many values"), **exc.fields}
    except protocol.UnsupportedValue as exc:
        return _fail("bad_return", f"returned {exc}")
    except BaseException as exc:  # noqa: BLE001 - a hostile object can raise while inspected
        return _fail("bad_return", f"returned a value that could not be read ({type(exc).__name__})")
    # Only arguments the call changed travel back: the judge mirrors those into its own arrays.
    after: list[object] = []
    for arg, old in zip(args, before):
        changed = old is not None and type(arg) is np.ndarray and _fingerprint(arg) != old
        after.append(protocol.encode_value(arg, blobs) if changed else None)
    if any(a is not None for a in after):
        return {"ok": True, "result": spec, "after": after}
    return {"ok": True, "result": spec}


def _fail(kind: str, message: str) -> dict[str, Any]:
    return {"ok": False, "kind": kind, "message": message}


def _describe(exc: BaseException, doing: str) -> str:
    """One readable paragraph: the exception and where in the student's files it was raised."""
    try:
        if isinstance(exc, SyntaxError):
            line = (exc.text or "").strip()
            cell = standins.place(exc.filename, exc.lineno)
            spot = cell[0] if cell else f"{exc.filename} line {exc.lineno}"
            return f"SyntaxError in {spot}: {exc.msg}" + (f"\n    {line}" if line else "")
        frames = [f for f in traceback.extract_tb(exc.__traceback__)
                  if f.filename.endswith(".py") and "/" not in f.filename]
        where = f" ({frames[-1].filename} line {frames[-1].lineno}: {frames[-1].line})" if frames else ""
        cell = standins.place(frames[-1].filename, frames[-1].lineno) if frames else None
        where = f" ({cell[0]}: {cell[1]})" if cell else where
        text = str(exc)[:500]
        return f"{type(exc).__name__} while {doing}{where}" + (f": {text}" if text else "")
    except BaseException:  # noqa: BLE001 - str() of a hostile exception may raise
        return f"an exception while {doing}"


def _warning_text(w: warnings.WarningMessage) -> str:
    try:
        return f"{w.category.__name__}: {str(w.message)[:200]}"
    except BaseException:  # noqa: BLE001
        return "a warning"
