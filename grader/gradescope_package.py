"""`grade gradescope-package`: the autograder zip uploaded to Gradescope.

Gradescope wants setup.sh and run_autograder at the root of the zip and unpacks the whole zip into
/autograder/source (Autograder Specifications). The zip therefore carries the project itself, so
setup.sh can `pip3 install /autograder/source`: the grader, the course material (including the
reference solutions and hidden suites, which stay on Gradescope's side) and the templates.
"""

from __future__ import annotations

import zipfile
from io import BytesIO
from pathlib import Path

from grader import paths
from grader.atomic import write_bytes_atomic
from grader.errors import UsageError

#: Files and folders of the project that the install in setup.sh needs.
PROJECT_FILES = ("pyproject.toml", "README.md")
PROJECT_FOLDERS = ("grader", "exercises", "reference", "templates", "schemas")
#: The scripts Gradescope runs, kept in the project's gradescope/ folder.
SCRIPTS = ("setup.sh", "run_autograder")
ZIP_DATE = (2020, 1, 1, 0, 0, 0)
_SKIPPED_DIRS = frozenset({"__pycache__", "_course"})


def project_root() -> Path | None:
    """The source checkout the grader runs from, or None for an installed wheel."""
    root = paths.course_root()
    return root if (root / "pyproject.toml").is_file() and (root / "grader").is_dir() else None


def _wanted(relative: Path) -> bool:
    """Whether a file below a project folder belongs in the zip (no caches, no hidden files)."""
    if any(part in _SKIPPED_DIRS or part.startswith(".") for part in relative.parts):
        return False
    return relative.suffix not in (".pyc", ".pyo")


def package_members(root: Path) -> dict[str, tuple[bytes, int]]:
    """Zip path -> (contents, Unix mode) for every file of the autograder zip."""
    members: dict[str, tuple[bytes, int]] = {}
    for script in SCRIPTS:
        path = root / "gradescope" / script
        if not path.is_file():
            raise UsageError(f"{path} is missing; it is part of the grader's source")
        members[script] = (path.read_bytes(), 0o755)
    for name in PROJECT_FILES:
        members[name] = ((root / name).read_bytes(), 0o644)
    for folder in PROJECT_FOLDERS:
        base = root / folder
        if not base.is_dir():
            raise UsageError(f"{base} is missing; run from a complete checkout of the grader")
        for path in sorted(base.rglob("*")):
            relative = path.relative_to(root)
            if path.is_file() and not path.is_symlink() and _wanted(relative):
                members[relative.as_posix()] = (path.read_bytes(), 0o644)
    return members


def zip_members(members: dict[str, tuple[bytes, int]]) -> bytes:
    """A deterministic zip; each Unix mode goes in external_attr, so the scripts stay executable."""
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, (data, mode) in sorted(members.items()):
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.external_attr = (0o100000 | mode) << 16
            info.create_system = 3  # Unix: unzip honours the mode bits only from Unix archives
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


def build_package(out: Path, root: Path | None = None) -> list[str]:
    """Write the autograder zip to out; return the member names."""
    root = root if root is not None else project_root()
    if root is None:
        raise UsageError("gradescope-package needs the grader's source checkout (with "
                         "pyproject.toml); run it from a clone of the course's repository")
    if out.suffix.lower() != ".zip":
        raise UsageError(f"--out {out}: Gradescope expects a .zip file")
    members = package_members(root)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(out, zip_members(members))
    return sorted(members)
