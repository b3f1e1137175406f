"""`grade gradescope-package`: the autograder zip uploaded to Gradescope.

Gradescope wants setup.sh and run_autograder at the root of the zip and unpacks the whole zip into
/autograder/source (Autograder Specifications). Next to the two scripts the zip carries one
wheel of the grader: the package with its course material under grader/_course/ (exercises,
reference solutions and hidden suites, which stay on Gradescope's side, templates, schemas and
these scripts). setup.sh pip-installs that wheel, so nothing is built on Gradescope: no build
backend, no build hook, no source tree.

The wheel is assembled here with zipfile, from whatever grader is running: an installed one
(its package folder already holds _course/) or a source checkout (an editable install, or
`python -m grader` in a clone), whose course folders sit beside the package and are mapped to
where an installed wheel keeps them. Either way the zip has the same three members.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import importlib.metadata
import re
import tomllib
import zipfile
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import grader
from grader import paths
from grader.atomic import write_bytes_atomic
from grader.errors import UsageError

#: The distribution the grader is installed as.


@functools.cache
def dist_name() -> str:
    """The distribution that installed this grader, whatever it is called (looked up only when
    a package is built: it scans every installed distribution)."""
    return (importlib.metadata.packages_distributions().get("grader") or ["grade"])[0]
#: The scripts Gradescope runs; kept in gradescope/ of the checkout, _course/gradescope/ of a wheel.
SCRIPTS = ("setup.sh", "run_autograder")
#: Folders of a checkout that an installed grader keeps under grader/_course/.
COURSE_FOLDERS = ("exercises", "reference", "templates", "schemas", "gradescope")
#: zipfile cannot store dates before 1980; a fixed one makes the zip depend on contents only.
ZIP_DATE = (2020, 1, 1, 0, 0, 0)
_SKIPPED_DIRS = frozenset({"__pycache__"})


@dataclass(frozen=True)
class Project:
    """What the wheel's metadata says about the grader."""

    name: str
    version: str
    summary: str
    requires_python: str
    requires: tuple[str, ...]
    """Runtime requirements (Requires-Dist), extras left out."""
    scripts: tuple[tuple[str, str], ...]
    """Console scripts: (name, "module:function")."""


def project_root() -> Path | None:
    """The source checkout the grader runs from, or None for an installed wheel."""
    root = paths.course_root()
    return root if (root / "pyproject.toml").is_file() and (root / "grader").is_dir() else None


def checkout_project(root: Path) -> Project:
    """The project as a checkout's pyproject.toml declares it (the version is the package's)."""
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return Project(name=project["name"], version=grader.__version__,
                   summary=project.get("description", ""),
                   requires_python=project.get("requires-python", ""),
                   requires=tuple(project.get("dependencies", ())),
                   scripts=tuple(sorted(project.get("scripts", {}).items())))


def installed_project() -> Project:
    """The project as the installed distribution's metadata describes it."""
    try:
        dist = importlib.metadata.distribution(dist_name())
    except importlib.metadata.PackageNotFoundError as exc:
        raise UsageError(f"the {dist_name()} distribution is not installed; install it "
                         "(pip install .) or run from the course's repository") from exc
    meta = dist.metadata
    # A requirement whose marker names an extra belongs to that extra (tests, tools), not to
    # what `grade` needs to run.
    requires = tuple(r for r in dist.requires or () if "extra" not in r.partition(";")[2])
    scripts = tuple(sorted((ep.name, ep.value) for ep in dist.entry_points
                           if ep.group == "console_scripts"))
    return Project(name=meta["Name"], version=grader.__version__,
                   summary=_field(meta, "Summary"),
                   requires_python=_field(meta, "Requires-Python"),
                   requires=requires, scripts=scripts)


def _field(meta: importlib.metadata.PackageMetadata, key: str) -> str:
    """A metadata field, or "" where the distribution does not set it."""
    values = meta.get_all(key) or []
    return str(values[0]) if values else ""


def _walk(base: Path, skip: frozenset[str] = _SKIPPED_DIRS) -> dict[str, Path]:
    """Relative POSIX path -> file for every regular file below base; no caches, no hidden
    files, no symlinks (a link could point anywhere on the instructor's machine)."""
    found: dict[str, Path] = {}
    for path in sorted(base.rglob("*")):
        relative = path.relative_to(base)
        if any(part in skip or part.startswith(".") for part in relative.parts):
            continue
        if path.is_file() and not path.is_symlink() and path.suffix not in (".pyc", ".pyo"):
            found[relative.as_posix()] = path
    return found


def package_files(root: Path | None) -> dict[str, Path]:
    """Wheel path -> file for the grader package and its course material.

    root: the checkout (see project_root), or None when the grader is installed.
    """
    package = Path(grader.__file__).resolve().parent
    if root is None:
        files = {f"grader/{rel}": path for rel, path in _walk(package).items()}
    else:
        # A checkout's grader/_course, if any, is a leftover of some build: the course folders
        # beside the package are the ones to ship.
        skip = _SKIPPED_DIRS | {"_course"}
        files = {f"grader/{rel}": path for rel, path in _walk(package, skip).items()}
        for folder in COURSE_FOLDERS:
            if not (root / folder).is_dir():
                raise UsageError(f"{root / folder} is missing; run from a complete checkout")
            files.update({f"grader/_course/{folder}/{rel}": path
                          for rel, path in _walk(root / folder).items()})
        files["grader/_course/course.toml"] = root / "course.toml"
    if not any(name.startswith("grader/_course/reference/suites/") for name in files):
        raise UsageError("this grader has no reference solutions or hidden suites (a student "
                         "build); install the instructor's build to package it for Gradescope")
    return files


def _record_hash(data: bytes) -> str:
    """A RECORD hash: sha256, urlsafe base64 without padding (the wheel specification)."""
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return f"sha256={digest.decode('ascii')}"


def _stem(project: Project) -> str:
    """Name-version as wheel and dist-info names write them (the binary distribution format:
    runs of -_. in the name become one _, a - in the version becomes _)."""
    return f"{re.sub(r'[-_.]+', '_', project.name).lower()}-{project.version.replace('-', '_')}"


def wheel_name(project: Project) -> str:
    """The wheel's file name: pure Python, any Python 3 (Requires-Python narrows it)."""
    return f"{_stem(project)}-py3-none-any.whl"


def dist_info(project: Project) -> dict[str, bytes]:
    """The *.dist-info files but RECORD: METADATA, WHEEL and entry_points.txt."""
    folder = f"{_stem(project)}.dist-info"
    metadata = ["Metadata-Version: 2.1", f"Name: {project.name}", f"Version: {project.version}"]
    if project.summary:
        metadata.append(f"Summary: {project.summary}")
    if project.requires_python:
        metadata.append(f"Requires-Python: {project.requires_python}")
    metadata += [f"Requires-Dist: {requirement}" for requirement in project.requires]
    wheel = ["Wheel-Version: 1.0", f"Generator: {project.name} gradescope-package",
             "Root-Is-Purelib: true", "Tag: py3-none-any"]
    scripts = ["[console_scripts]", *(f"{name} = {target}" for name, target in project.scripts)]
    return {f"{folder}/METADATA": _lines(metadata), f"{folder}/WHEEL": _lines(wheel),
            f"{folder}/entry_points.txt": _lines(scripts)}


def _lines(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode("utf-8")


def build_wheel(project: Project, files: dict[str, Path]) -> bytes:
    """The wheel's bytes: files, the dist-info and a RECORD that lists them with their hashes."""
    contents = {name: path.read_bytes() for name, path in files.items()}
    contents.update(dist_info(project))
    record_name = f"{_stem(project)}.dist-info/RECORD"
    record = [f"{name},{_record_hash(data)},{len(data)}" for name, data in sorted(contents.items())]
    contents[record_name] = _lines([*record, f"{record_name},,"])
    # RECORD last, as installers expect to find it after what it describes.
    order = sorted(set(contents) - {record_name}) + [record_name]
    return zip_members({name: (contents[name], 0o644) for name in order}, keep_order=True)


def scripts_folder(root: Path | None) -> Path:
    """Where setup.sh and run_autograder are: gradescope/ of a checkout, or of _course/."""
    return (root if root is not None else paths.course_root()) / "gradescope"


def package_members(root: Path | None) -> dict[str, tuple[bytes, int]]:
    """Zip path -> (contents, Unix mode) for every member of the autograder zip."""
    project = checkout_project(root) if root is not None else installed_project()
    members: dict[str, tuple[bytes, int]] = {}
    for script in SCRIPTS:
        path = scripts_folder(root) / script
        if not path.is_file():
            raise UsageError(f"{path} is missing; it is part of the grader")
        members[script] = (path.read_bytes(), 0o755)
    members[wheel_name(project)] = (build_wheel(project, package_files(root)), 0o644)
    return members


def zip_members(members: dict[str, tuple[bytes, int]], *, keep_order: bool = False) -> bytes:
    """A deterministic zip; each Unix mode goes in external_attr, so the scripts stay executable.

    keep_order: write members in the dict's order rather than sorted by name.
    """
    buffer = BytesIO()
    names = list(members) if keep_order else sorted(members)
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in names:
            data, mode = members[name]
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.external_attr = (0o100000 | mode) << 16
            info.create_system = 3  # Unix: unzip honours the mode bits only from Unix archives
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


def build_package(out: Path, root: Path | None = None) -> list[str]:
    """Write the autograder zip to out; return the member names.

    root: a checkout to package; by default the grader that is running (see project_root).
    """
    if out.suffix.lower() != ".zip":
        raise UsageError(f"--out {out}: Gradescope expects a .zip file")
    members = package_members(root if root is not None else project_root())
    out.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(out, zip_members(members))
    return sorted(members)
