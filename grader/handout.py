"""`grade handout`: what students receive, built from exercises/ and nothing else.

Files are picked from an allowlist (the stub, README.md, conftest.py and the visible tests of each
exercise course.toml lists, and the Python modules of exercises/shared/, the course's code that
those tests import) rather than by leaving things out, so a file added to the course later stays
private until someone decides to hand it out. Every file is then checked against the reference
material before anything is written.
"""

from __future__ import annotations

import ast

import re
import zipfile
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from grader import course, paths
from grader.atomic import write_bytes_atomic
from grader.errors import UsageError

EXERCISES_FOLDER = "exercises"
#: The course's own code for its tests (detectors, checks), beside the exercise folders: not an
#: exercise, handed out with them, importable by name wherever the tests run (see
#: grader.judge.runner and grader.judge.local).
SHARED_FOLDER = "shared"
#: A fixed timestamp makes the same course material give a byte-identical zip.
ZIP_DATE = (2020, 1, 1, 0, 0, 0)
_HIDDEN_MARK = re.compile(rb"""visibility\s*=\s*["']hidden["']""")

#: A course's own paragraph for the handout's README (exercises/<this>), if it has one.
HANDOUT_NOTE = "handout-note.md"

STUDENT_README = """\
# {title}: your exercises

One folder per exercise in `exercises/`. Each holds:

- `README.md`: what to build and the rules your code is graded on;
- `<exercise>.py`: the file you complete (keep its name: the grader looks for it);
- `test_<exercise>_public.py` and `conftest.py`: the public checks.

`exercises/shared/` holds code the public checks share; you do not need to change it.

## Install the grader (once)

You need Python 3.11 or newer. In a terminal:

```
python3 -m venv .venv
. .venv/bin/activate          # Windows: .venv\\Scripts\\activate
pip install {wheel}-*.whl
```

Install the student wheel your course hands out with this folder (it holds the grader, the
exercises and the public checks; the solutions and hidden tests stay with your instructor).

## Check your work

From this folder (or any exercise folder inside it):

```
grade check
```

It runs the public checks on your code in the same sandbox the course's grader uses and prints,
for every function, whether it passed, and for each failure what went wrong and a hint. It also
writes a feedback page with plots to `feedback/feedback.html`; `grade check --open` opens it in
your browser. Only the exercises you have a file for are checked.

`grade check` exits with 1 when a check fails, 0 otherwise (functions you have not started yet
do not count), so a script or CI job can stop on it.
{note}
You can also run `pytest` inside an exercise folder: the same public checks, without the sandbox.

The public checks are the lesson's own examples and are worth a small part of each exercise's
points. Grading adds hidden tests on more inputs (other shapes, integers, very large values,
random data), so passing every public check is a good start, not a guarantee.
"""


@dataclass(frozen=True)
class Handout:
    """The handout's files, by path inside it, and what was left out."""

    files: dict[str, bytes]
    """Relative POSIX path -> contents."""
    skipped: tuple[str, ...]
    """Exercise folders left out, with the reason."""


def exercise_files(folder: Path) -> dict[str, bytes]:
    """The files of one exercise folder a student receives, by name."""
    wanted = {f"{folder.name}.py", "README.md", "conftest.py"}
    picked: dict[str, bytes] = {}
    for path in sorted(folder.iterdir()):
        visible_test = path.name.startswith("test_") and path.name.endswith("_public.py")
        # Links are never followed: one could point into reference/.
        if (path.name in wanted or visible_test) and path.is_file() and not path.is_symlink():
            picked[path.name] = path.read_bytes()
    return picked


def shared_files(folder: Path, handed_out: dict[str, bytes]) -> dict[str, bytes]:
    """The course's shared modules a student receives, by name: those the handed-out files
    import, and what those import in turn. Nothing else: a module the grader alone uses (a
    plot's transform, say) may compute what an exercise asks for."""
    if not folder.is_dir() or folder.is_symlink():
        return {}
    available = {path.stem: path for path in sorted(folder.glob("*.py"))
                 if path.is_file() and not path.is_symlink()}
    picked: dict[str, bytes] = {}
    todo = [data for name, data in handed_out.items() if name.endswith(".py")]
    while todo:
        for name in _imported(todo.pop()):
            if name in available and f"{name}.py" not in picked:
                picked[f"{name}.py"] = available[name].read_bytes()
                todo.append(picked[f"{name}.py"])
    return dict(sorted(picked.items()))


def _imported(source: bytes) -> set[str]:
    """Top-level module names a Python file imports (none if it does not parse)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def collect() -> Handout:
    """Every file of the handout, checked against the reference material."""
    files = {"README.md": student_readme().encode("utf-8")}
    skipped: list[str] = []
    source = paths.exercises_dir()
    # Only the exercises the course lists: any other folder (shared/, drafts) is no exercise.
    for name in sorted(course.exercises()):
        folder = source / name
        if folder.is_symlink():
            continue
        picked = exercise_files(folder)
        if f"{name}.py" not in picked:
            skipped.append(f"{name}: no {name}.py stub")
            continue
        files.update({f"{EXERCISES_FOLDER}/{name}/{n}": d for n, d in picked.items()})
    shared = shared_files(source / SHARED_FOLDER, files)
    files.update({f"{EXERCISES_FOLDER}/{SHARED_FOLDER}/{n}": d for n, d in shared.items()})
    _refuse_private(files)
    return Handout(files=files, skipped=tuple(skipped))


def student_readme() -> str:
    """The handout's README: how to install the grader and check one's work, with the course's
    title, its wheel's name and its own note (exercises/handout-note.md) if it has one."""
    taught = course.current()
    note_file = paths.exercises_dir() / HANDOUT_NOTE
    note = note_file.read_text(encoding="utf-8").strip() if note_file.is_file() else ""
    return STUDENT_README.format(title=taught.title, wheel=taught.product.replace("-", "_"),
                                 note=f"\n{note}\n" if note else "")


def _refuse_private(files: dict[str, bytes]) -> None:
    """Raise UsageError when a handout file is, or marks itself as, private material."""
    private = {
        p.read_bytes() for p in paths.reference_dir().rglob("*.py")
        if p.is_file() and p.stat().st_size > 0
    }
    for name, data in files.items():
        if data in private:
            raise UsageError(f"{name} is a copy of a file in reference/; it was not handed out")
        if name.endswith(".py") and _HIDDEN_MARK.search(data):
            raise UsageError(f"{name} holds hidden tests (visibility=\"hidden\"); "
                             "move them to reference/suites/")


def write_handout(out: Path) -> tuple[Path, Handout]:
    """Write the handout to the folder out, or to a zip when out ends in .zip."""
    _refuse_inside_course(out)
    handout = collect()
    if out.suffix.lower() == ".zip":
        out.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(out, zip_bytes(handout.files, root=out.stem))
    else:
        write_folder(handout.files, out)
    return out, handout


def _refuse_inside_course(out: Path) -> None:
    target = out.resolve()
    for private in (paths.exercises_dir(), paths.reference_dir()):
        base = private.resolve()
        if target == base or base in target.parents:
            raise UsageError(f"{out} is inside the course material {private}; choose another place")


def write_folder(files: dict[str, bytes], out: Path) -> None:
    """Write files under out, which must be missing or empty (an old handout is not merged)."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UsageError(f"{out} already exists and is not an empty folder; "
                         "remove it or choose another")
    for name, data in sorted(files.items()):
        target = out.joinpath(*name.split("/"))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def zip_bytes(files: dict[str, bytes], *, root: str) -> bytes:
    """A deterministic zip of files, all under the folder root (unzipping makes one folder)."""
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(files.items()):
            info = zipfile.ZipInfo(f"{root}/{name}", date_time=ZIP_DATE)
            info.external_attr = 0o100644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()
