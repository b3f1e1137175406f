"""Entry point of a judge process: runs pytest over shards of submissions, one session each.

Started by the engine as `python -I` with a clean environment, so neither the caller's
environment nor anything in a submission or the current folder can configure pytest. A judge
serves shards one after the other (manifest paths on stdin, one exit code per line on the
control pipe), keeping its imports, its sandbox worker and the learnt calls between them: a
shard then costs its tests, not a Python start-up.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import sys
from pathlib import Path
from typing import Callable, Iterator

import pytest
from pytest_jsonreport.plugin import JSONReport

from grader.atomic import write_text_atomic
from grader.handout import EXERCISES_FOLDER, SHARED_FOLDER
from grader.judge.manifest import Manifest
from grader.judge.plugin import Carried, JudgePlugin
from grader.sandbox import isolation
from grader.sandbox.client import Sandbox, SandboxConfig

JUDGE_INI = Path(__file__).with_name("judge.ini")


def pytest_args(manifest: Manifest) -> list[str]:
    """The fixed command line: pinned rootdir and ini, no conftest, no cache, no autoloaded plugins."""
    return [
        "-c", str(JUDGE_INI), "--rootdir", manifest.rootdir, "--noconftest",
        "-p", "no:cacheprovider", "-p", "no:stepwise", "-p", "pytest_jsonreport.plugin",
        "-p", "no:logging", "-p", "no:warnings", "-p", "no:faulthandler",
        # Both plugins collect garbage five times at the end of every session (a tenth of a
        # second in a judge), to report exceptions that nobody here would read.
        "-p", "no:unraisableexception", "-p", "no:threadexception",
        # Plugins for fixtures and features the suites do not use: each one loaded costs every
        # session its registration and every test its hook calls.
        *(arg for name in _UNUSED_PLUGINS for arg in ("-p", f"no:{name}")),
        # -s: student output never reaches this process, so there is nothing to capture.
        "-q", "-s", "--no-header", "--tb=no", "-rN",
        # --json-report-omit takes several values: the option after it ends the list.
        "--json-report-omit", "collectors", "log", "traceback", "streams", "warnings", "keywords",
        # The report is saved by run_shard(): the plugin's own json.dump runs the pure-Python
        # encoder.
        "--json-report-file=none",
        *manifest.suites,
    ]


_UNUSED_PLUGINS = ("junitxml", "pastebin", "doctest", "tmpdir", "monkeypatch",
                   "recwarn", "setuponly", "setupplan", "debugging", "unittest", "subtests",
                   "python_path")


class Judge:
    """What a judge keeps from one shard to the next."""

    def __init__(self, make_sandbox: Callable[[SandboxConfig], Sandbox] = Sandbox) -> None:
        self.make_sandbox = make_sandbox
        self.sandbox: Sandbox | None = None
        self.carried = Carried()

    def run_shard(self, manifest: Manifest) -> int:
        """Run one shard and save its report; return pytest's exit code."""
        config = SandboxConfig(timeout=manifest.timeout,
                               submission_timeout=manifest.submission_timeout,
                               memory_bytes=manifest.memory_bytes,
                               hide=manifest.hide, workdir=manifest.workdir)
        if self.sandbox is None or self.sandbox.config != config:
            self.close()
            self.sandbox = self.make_sandbox(config)
            self.sandbox.start()  # warms up while pytest collects
        plugin = JudgePlugin(manifest, self.sandbox, self.carried)
        self.carried = plugin.carried
        report = JSONReport()
        shared = Path(manifest.rootdir) / EXERCISES_FOLDER / SHARED_FOLDER
        with _pytest_environment(), _importable(shared):
            code = int(pytest.main(pytest_args(manifest), plugins=[plugin, report]))
        if report.report is not None:
            # json.dumps takes the C encoder (json.dump never does). Atomic: a judge killed
            # midway leaves no report. Not flushed to disk: the run reads it back and deletes it.
            write_text_atomic(Path(manifest.report), json.dumps(report.report, default=str),
                              durable=False)
        return code

    def close(self) -> None:
        """Stop the sandbox worker."""
        if self.sandbox is not None:
            self.sandbox.close()
            self.sandbox = None


@contextlib.contextmanager
def _pytest_environment() -> Iterator[None]:
    """No plugin loaded from installed packages, no options from the environment: the judge
    process is started that way, a judge run inside another program (a student's own check)
    gets it here."""
    saved = {name: os.environ.get(name) for name in _PYTEST_VARIABLES}
    for name in _PYTEST_VARIABLES:
        os.environ.pop(name, None)
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


_PYTEST_VARIABLES = ("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "PYTEST_ADDOPTS", "PYTEST_PLUGINS")


@contextlib.contextmanager
def _importable(folder: Path) -> Iterator[None]:
    """The course's shared code (detectors, checks) importable by name while its tests run.

    First on sys.path, as pytest puts a test file's own folder. Taken off again afterwards, for
    a judge run inside another program (a student's own check); the modules stay imported, as
    the suites that use them do.
    """
    entry = str(folder)
    added = folder.is_dir() and entry not in sys.path
    if added:
        sys.path.insert(0, entry)
    try:
        yield
    finally:
        if added and entry in sys.path:
            sys.path.remove(entry)


def serve(control_fd: int) -> int:
    """Run each shard whose manifest path arrives on stdin; answer its exit code on control_fd."""
    isolation.die_with_parent()
    isolation.set_name("grade-judge")
    judge = Judge()
    try:
        with open(control_fd, "w", encoding="utf-8", closefd=True) as control:
            for line in sys.stdin:
                code = judge.run_shard(Manifest.load(Path(line.rstrip("\n"))))
                sys.stdout.flush()
                control.write(f"{code}\n")
                control.flush()
                _settle()
    finally:
        judge.close()
    return 0


def _settle() -> None:
    """Free the shard's reference cycles (pytest's session, items and reports) now, and set
    aside what outlived them: left to the collector, cycles of many shards pile up between its
    rare full collections and the judge's heap keeps growing with the class. Frozen objects
    are out of later collections' sight, so each one scans only what the next shard made."""
    gc.collect()
    gc.freeze()


def main(argv: list[str]) -> int:
    """Run the shard described by the manifest at argv[0]; return pytest's exit code."""
    isolation.die_with_parent()
    judge = Judge()
    try:
        return judge.run_shard(Manifest.load(Path(argv[0])))
    finally:
        judge.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
