"""`grade handout`: students get the stubs, READMEs and public checks, and nothing private."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grader import handout, paths
from grader.errors import UsageError

REPO = Path(__file__).resolve().parents[1]


def grade(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "grader", *map(str, args)], capture_output=True,
                          text=True, timeout=120)


def _public_text() -> str:
    """Everything under exercises/: what a student may legitimately see."""
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(paths.exercises_dir().rglob("*"))
                     if p.is_file() and p.suffix in (".py", ".md"))


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def hidden_test_names() -> set[str]:
    """Every test function of the hidden suites that the public checks do not share."""
    public = _public_text()
    names = {m for p in paths.suites_dir().glob("*.py")
             for m in re.findall(r"def (test_\w+)", p.read_text(encoding="utf-8"))}
    return {n for n in names if not re.search(rf"\b{n}\b", public)}


def hidden_literals() -> set[str]:
    """String literals (titles, case names) and number lists only the hidden suites hold."""
    public, squashed = _public_text(), _squash(_public_text())
    found: set[str] = set()
    for path in paths.suites_dir().glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value.strip()
                if len(text) >= 12 and "\n" not in text and text not in public:
                    found.add(text)
            elif isinstance(node, ast.List) and len(node.elts) >= 3 and all(
                    isinstance(e, (ast.Constant, ast.UnaryOp)) for e in node.elts):
                literal = _squash(ast.unparse(node))
                if literal not in squashed:
                    found.add(literal)
    return found


def reference_lines() -> set[str]:
    """Lines of the reference solutions that the stubs do not contain."""
    public = _public_text()
    lines = {line.strip() for p in paths.reference_dir().glob("*.py")
             for line in p.read_text(encoding="utf-8").splitlines()}
    return {line for line in lines if len(line) >= 20 and line not in public}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, bytes]]:
    """The handout written as a folder and as a zip, each read back as path -> bytes."""
    base = tmp_path_factory.mktemp("handout")
    folder, archive = base / "handout", base / "activations-handout.zip"
    for out in (folder, archive):
        done = grade("handout", "--out", out)
        assert done.returncode == 0, done.stderr
    from_folder = {p.relative_to(folder).as_posix(): p.read_bytes()
                   for p in folder.rglob("*") if p.is_file()}
    with zipfile.ZipFile(archive) as zipped:
        names = zipped.namelist()
        assert all(n.startswith("activations-handout/") for n in names)
        from_zip = {n.split("/", 1)[1]: zipped.read(n) for n in names}
    return {"folder": from_folder, "zip": from_zip}


@pytest.mark.parametrize("kind", ["folder", "zip"])
def test_students_get_every_exercise(built: dict[str, dict[str, bytes]], kind: str) -> None:
    files = built[kind]
    assert b"grade check" in files["README.md"] and b"pip install" in files["README.md"]
    for folder in paths.exercises_dir().iterdir():
        stub = folder / f"{folder.name}.py"
        if not stub.is_file():
            continue
        where = f"exercises/{folder.name}"
        assert files[f"{where}/{folder.name}.py"] == stub.read_bytes()
        assert f"{where}/README.md" in files and f"{where}/conftest.py" in files
        assert any(re.fullmatch(rf"{where}/test_\w+_public\.py", n) for n in files)
    assert not [n for n in files if "__pycache__" in n or "/." in n or n.endswith(".pyc")]


@pytest.mark.parametrize("kind", ["folder", "zip"])
def test_nothing_private_reaches_the_handout(built: dict[str, dict[str, bytes]],
                                             kind: str) -> None:
    files = built[kind]
    text = "\n".join(data.decode("utf-8") for data in files.values())
    squashed = _squash(text)
    names, literals, lines = hidden_test_names(), hidden_literals(), reference_lines()
    assert names and literals and lines  # the checks below must have something to look for
    assert not [n for n in names if re.search(rf"\b{n}\b", text)]
    assert not [lit for lit in literals if lit in text or _squash(lit) in squashed]
    assert not [line for line in lines if line in text]
    private = {p.read_bytes() for p in paths.reference_dir().rglob("*.py") if p.stat().st_size}
    assert not [n for n, data in files.items() if data in private]
    hidden_suites = {p.name for p in paths.suites_dir().glob("*.py")}
    assert not [n for n in files if n.rsplit("/", 1)[-1] in hidden_suites or "reference" in n]
    assert not re.search(r"""visibility\s*=\s*["']hidden""", text)


def test_zip_is_reproducible(tmp_path: Path) -> None:
    first, second = tmp_path / "a" / "h.zip", tmp_path / "b" / "h.zip"
    handout.write_handout(first)
    handout.write_handout(second)
    assert first.read_bytes() == second.read_bytes()


def test_existing_folder_is_not_overwritten(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("mine")
    done = grade("handout", "--out", tmp_path / "out")
    # Refused with one line (by the command's own check of --out, or by the handout's).
    assert done.returncode == 2 and "empty" in done.stderr.splitlines()[-1]
    assert (tmp_path / "out" / "notes.txt").read_text() == "mine"


def _fake_course(root: Path, public_test: str) -> None:
    (root / "course.toml").write_text('[course]\ntitle = "T"\nexercises = ["activations"]\n')
    ex = root / "exercises" / "activations"
    ex.mkdir(parents=True)
    (ex / "activations.py").write_text("def relu(z):\n    raise NotImplementedError\n")
    (ex / "test_activations_public.py").write_text(public_test)
    (root / "reference" / "suites").mkdir(parents=True)
    (root / "reference" / "activations.py").write_text("def relu(z):\n    return z * (z > 0)\n")


def test_hidden_tests_in_exercises_are_refused(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_course(tmp_path, 'import pytest\npytestmark = pytest.mark.grade(visibility="hidden")\n')
    monkeypatch.setattr(paths, "course_root", lambda: tmp_path)
    with pytest.raises(UsageError, match="hidden tests"):
        handout.write_handout(tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_reference_copy_in_exercises_is_refused(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_course(tmp_path, "def test_x(student):\n    pass\n")
    reference = (tmp_path / "reference" / "activations.py").read_bytes()
    (tmp_path / "exercises" / "activations" / "activations.py").write_bytes(reference)
    monkeypatch.setattr(paths, "course_root", lambda: tmp_path)
    with pytest.raises(UsageError, match="copy of a file in reference"):
        handout.write_handout(tmp_path / "out.zip")
    assert not (tmp_path / "out.zip").exists()


def test_only_allowlisted_files_are_picked(tmp_path: Path) -> None:
    folder = tmp_path / "activations"
    folder.mkdir()
    for name in ("activations.py", "README.md", "conftest.py", "test_activations_public.py",
                 "test_activations.py", "solution.py", "notes.txt"):
        (folder / name).write_text(name)
    assert sorted(handout.exercise_files(folder)) == [
        "README.md", "activations.py", "conftest.py", "test_activations_public.py"]


def test_public_tests_carry_their_expected_values() -> None:
    """The student's wheel has no reference/: a public test may not ask for it (the `reference`
    fixture) nor import it; its expected values are written in the test."""
    tests = sorted(paths.exercises_dir().glob("*/test_*_public.py"))
    assert tests
    for path in tests:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                assert "reference" not in {a.arg for a in node.args.args}, (path.name, node.name)
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                modules = [node.module or ""] if isinstance(node, ast.ImportFrom) else [
                    a.name for a in node.names]
                assert not [m for m in modules if m.split(".")[0] == "reference"], path.name


@pytest.mark.parametrize("kind", ["folder", "zip"])
def test_the_course_code_the_public_tests_import_is_handed_out(
        built: dict[str, dict[str, bytes]], kind: str) -> None:
    shared = paths.exercises_dir() / handout.SHARED_FOLDER
    for name in ("activation_detectors.py", "activation_checks.py"):  # the public tests import them
        assert built[kind][f"exercises/shared/{name}"] == (shared / name).read_bytes()
    # What only the grader uses stays out: the plots' transform computes an exercise's answer.
    assert "exercises/shared/activation_plots.py" not in built[kind]


def test_only_the_exercises_the_course_lists_and_its_shared_code_are_picked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_course(tmp_path, "from course_checks import check\n\n\ndef test_x(student):\n    pass\n")
    drafts = tmp_path / "exercises" / "drafts"
    drafts.mkdir()
    (drafts / "drafts.py").write_text("def gelu(z):\n    raise NotImplementedError\n")
    shared = tmp_path / "exercises" / "shared"
    shared.mkdir()
    (shared / "course_checks.py").write_text("from course_detectors import DETECTORS\n")
    (shared / "course_detectors.py").write_text("DETECTORS = ()\n")
    (shared / "course_plots.py").write_text("def answer(p):\n    return p\n")  # grader-only
    (shared / "notes.txt").write_text("not code")
    monkeypatch.setattr(paths, "course_root", lambda: tmp_path)
    built = handout.collect()
    assert sorted(built.files) == [
        "README.md", "exercises/activations/activations.py",
        "exercises/activations/test_activations_public.py",
        "exercises/shared/course_checks.py", "exercises/shared/course_detectors.py"]
    assert built.skipped == ()


def _plain_pytest(folder: Path) -> subprocess.CompletedProcess[str]:
    """`pytest` as a student runs it in an exercise folder: none of this run's settings."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTEST_ADDOPTS")}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                          cwd=folder, env=env, capture_output=True, text=True, timeout=120)


def test_plain_pytest_in_a_handout_exercise_finds_the_course_code(tmp_path: Path) -> None:
    handout.write_handout(tmp_path / "handout")
    exercises = tmp_path / "handout" / "exercises"
    for name in ("activations", "linear_collapse"):
        shutil.copy(paths.reference_dir() / f"{name}.py", exercises / name / f"{name}.py")
        done = _plain_pytest(exercises / name)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    # An error raised by the student's code is recognised by the course's patterns too.
    relu = exercises / "activations" / "activations.py"
    relu.write_text(relu.read_text() + "\n\ndef relu(z):\n    return z if z > 0 else 0\n")
    done = _plain_pytest(exercises / "activations")
    assert done.returncode == 1 and "What went wrong" in done.stdout, done.stdout[-3000:]
    # An if on an array, named as such (not a guess about np.max, which this code never uses).
    assert "Hint: Decide entry by entry with np.where(" in done.stdout
