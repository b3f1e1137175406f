"""Wheel build hook: ships the course material inside the package.

The reference solutions and hidden suites go in only for the instructor's build. Set
GRADER_STUDENT_BUILD=1 to build the wheel students install for `grade check`: the same
grader, the exercises and templates, and nothing of reference/. In its place it carries the
reference curves of the feedback plots (grader.judge.plots.CURVES_FILE), computed here from the
reference: numbers the feedback page draws anyway, no code.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
import tempfile
import types
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


def student_build() -> bool:
    """Whether this is the wheel handed to students (no reference/)."""
    return os.environ.get("GRADER_STUDENT_BUILD") == "1"


class CourseMaterialHook(BuildHookInterface):  # type: ignore[misc]
    """Adds exercises/, templates/, schemas/ and (unless a student build) reference/."""

    PLUGIN_NAME = "custom"
    _scratch: Path | None = None

    def dependencies(self) -> list[str]:
        # The curves are computed with the reference, which needs NumPy in the build environment.
        return ["numpy>=1.26"] if student_build() else []

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        folders = ["exercises", "templates", "schemas"]
        if not student_build():
            folders.append("reference")
        for folder in folders:
            build_data["force_include"][folder] = f"grader/_course/{folder}"
        build_data["force_include"]["course.toml"] = "grader/_course/course.toml"
        if student_build() and (Path(self.root) / "reference").is_dir():
            self._scratch = Path(tempfile.mkdtemp(prefix="curves-build-"))
            curves = self._scratch / "curves.json"
            curves.write_text(json.dumps(reference_curves(Path(self.root))), encoding="utf-8")
            build_data["force_include"][str(curves)] = "grader/_course/expected/curves.json"

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None


def reference_curves(root: Path) -> dict[str, Any]:
    """The reference curve of every feedback plot root's exercise.toml files declare, from
    root's reference/ and grader/ (the source tree being built, not whatever grader the build
    environment may hold)."""
    sys.path.insert(0, str(root))
    try:
        from grader.judge import plots
    finally:
        sys.path.remove(str(root))
    loaded: dict[str, types.ModuleType] = {}

    def reference(exercise: str) -> types.ModuleType:
        if exercise not in loaded:
            path = root / "reference" / f"{exercise}.py"
            spec = importlib.util.spec_from_file_location(f"_reference_{exercise}", path)
            assert spec is not None and spec.loader is not None
            loaded[exercise] = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(loaded[exercise])
        return loaded[exercise]

    # The course is named: a GRADER_COURSE set where the wheel is built must not swap it.
    return {name: [list(x), list(values)]
            for name, (x, values) in plots.reference_curves(reference, root).items()}
