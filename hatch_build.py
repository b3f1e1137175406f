"""Wheel build hook: ships the course material inside the package.

The reference solutions and hidden suites go in only for the instructor's build. Set
GRADER_STUDENT_BUILD=1 to build the wheel students install for `grade check`: the same
grader, the exercises and templates, and nothing of reference/.
"""

from __future__ import annotations

import os
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class CourseMaterialHook(BuildHookInterface):  # type: ignore[misc]
    """Adds exercises/, templates/, schemas/ and (unless a student build) reference/."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        folders = ["exercises", "templates", "schemas"]
        if os.environ.get("GRADER_STUDENT_BUILD") != "1":
            folders.append("reference")
        for folder in folders:
            build_data["force_include"][folder] = f"grader/_course/{folder}"
