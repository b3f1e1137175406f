"""Entry point of a judge process: runs pytest once over a shard of submissions.

Started by the engine as `python -I` with a clean environment, so neither the caller's
environment nor anything in a submission or the current folder can configure pytest.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from grader.judge.manifest import Manifest
from grader.judge.plugin import JudgePlugin
from grader.sandbox import isolation

JUDGE_INI = Path(__file__).with_name("judge.ini")


def pytest_args(manifest: Manifest) -> list[str]:
    """The fixed command line: pinned rootdir and ini, no conftest, no cache, no autoloaded plugins."""
    return [
        "-c", str(JUDGE_INI), "--rootdir", manifest.rootdir, "--noconftest",
        "-p", "no:cacheprovider", "-p", "no:stepwise", "-p", "pytest_jsonreport.plugin",
        "-p", "no:logging", "-p", "no:warnings", "-p", "no:faulthandler",
        # -s: student output never reaches this process, so there is nothing to capture.
        "-q", "-s", "--no-header", "--tb=no", "-rN",
        # --json-report-omit takes several values: the option after it ends the list.
        "--json-report-omit", "collectors", "log", "traceback", "streams", "warnings", "keywords",
        "--json-report", f"--json-report-file={manifest.report}",
        *manifest.suites,
    ]


def main(argv: list[str]) -> int:
    """Run the shard described by the manifest at argv[0]; return pytest's exit code."""
    isolation.die_with_parent()
    manifest = Manifest.load(Path(argv[0]))
    plugin = JudgePlugin(manifest)
    code = pytest.main(pytest_args(manifest), plugins=[plugin])
    return int(code)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
