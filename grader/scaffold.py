"""`grade new-exercise`: a new exercise in a course folder that grades out of the box.

It writes, for exercise NAME with functions F...: the student's stub, README, conftest and public
tests (exercises/NAME/), its pitfalls and exercise description (exercises/NAME/pitfalls.toml,
exercise.toml), the reference module and a weighted hidden suite (reference/NAME.py,
reference/suites/test_NAME.py) and a mistaken example for each pitfall (reference/mistakes/NAME/),
and adds NAME to course.toml. The reference starts as a placeholder (each function returns its
input as floats) that the public test's expected values match, so the stub scores 0 and the
reference full marks until the author writes the real thing; `grade course check` says so.
A folder without course.toml becomes a new course.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from grader.errors import CourseError
from grader.pitfalls import ENGINE_PITFALLS, FILE_NAME

_NAME = re.compile(r"[a-z][a-z0-9_]*")
EXAMPLE_INPUT = "[-2.0, -0.5, 0.0, 0.5, 2.0]"


@dataclass(frozen=True)
class Scaffold:
    """What new-exercise wrote."""

    course: Path
    """The course folder."""
    files: tuple[Path, ...]
    """Every file written, relative to the course folder."""
    new_course: bool
    """Whether course.toml was created (the folder was not a course yet)."""


def new_exercise(course: Path, name: str, functions: tuple[str, ...] = ()) -> Scaffold:
    """Write the exercise `name` (with `functions`, default just one named like it) into the
    course folder; CourseError if a name is not a module name or the exercise exists."""
    functions = functions or (name,)
    for word in (name, *functions):
        if not _NAME.fullmatch(word):
            raise CourseError(f"'{word}' is not a valid name (lower case letters, digits, _)")
    if (course / "exercises" / name).exists():
        raise CourseError(f"{course / 'exercises' / name} exists already")
    new_course = not (course / "course.toml").exists()
    files = _files(name, functions)
    if new_course and not (course / "exercises" / FILE_NAME).exists():
        files[f"exercises/{FILE_NAME}"] = _engine_pitfalls()
    for relative, text in files.items():
        target = course / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    _add_to_course(course, name)
    _add_mistake(course, name, functions[0])
    written = (Path("course.toml"), *map(Path, files), Path("reference/mistakes/mistakes.toml"))
    return Scaffold(course, written, new_course)


def _files(name: str, functions: tuple[str, ...]) -> dict[str, str]:
    pitfall = f"{name}_example"
    files = {
        f"exercises/{name}/{name}.py": _stub(name, functions),
        f"exercises/{name}/README.md": _readme(name, functions),
        f"exercises/{name}/conftest.py": 'pytest_plugins = ["grader.judge.local"]\n',
        f"exercises/{name}/test_{name}_public.py": _public_tests(name, functions, pitfall),
        f"exercises/{name}/pitfalls.toml": _pitfalls(pitfall, functions[0]),
        f"exercises/{name}/exercise.toml": _exercise_toml(name),
        f"reference/{name}.py": _reference(name, functions),
        f"reference/suites/test_{name}.py": _hidden_suite(name, functions, pitfall),
        f"reference/mistakes/{pitfall}/{name}.py": _mistake(name, functions),
    }
    return files


def _add_to_course(course: Path, name: str) -> None:
    """Append `name` to course.toml's exercise list (creating the file for a new course)."""
    path = course / "course.toml"
    if not path.exists():
        path.write_text(f'[course]\ntitle = "{course.name}"\nexercises = ["{name}"]\n',
                        encoding="utf-8")
        return
    text = path.read_text(encoding="utf-8")
    found = re.search(r"(exercises\s*=\s*\[)(.*?)(\])", text, flags=re.DOTALL)
    if found is None:
        raise CourseError(f"{path}: no exercises = [...] list to add {name} to")
    items = found.group(2).rstrip()
    joined = f'{items}{"," if items.strip() and not items.endswith(",") else ""} "{name}"'
    path.write_text(text[:found.start(2)] + joined.lstrip() + text[found.end(2):],
                    encoding="utf-8")


def _add_mistake(course: Path, name: str, function: str) -> None:
    """Describe the example mistake in the course's corpus (reference/mistakes/mistakes.toml)."""
    path = course / "reference" / "mistakes" / "mistakes.toml"
    entry = (f'\n[{name}_example]\nexercise = "{name}"\nbroken = ["{function}"]\n'
             f'pitfall = "{name}_example"\n')
    with open(path, "a", encoding="utf-8") as corpus:
        corpus.write(entry)


def _signature(function: str) -> str:
    return f"def {function}(x):"


def _stub(name: str, functions: tuple[str, ...]) -> str:
    body = "".join(f'\n\n{_signature(f)}\n    """Describe what {f}(x) returns."""\n'
                   f"    raise NotImplementedError\n" for f in functions)
    return f'"""Exercise {name}: write the functions below."""\n\nimport numpy as np\n{body}'


def _reference(name: str, functions: tuple[str, ...]) -> str:
    body = "".join(f"\n\n{_signature(f)}\n    # Placeholder: replace with the solution.\n"
                   f"    return np.asarray(x, dtype=float)\n" for f in functions)
    return f'"""Reference solution of {name}."""\n\nimport numpy as np\n{body}'


def _mistake(name: str, functions: tuple[str, ...]) -> str:
    first, rest = functions[0], functions[1:]
    body = (f"\n\n{_signature(first)}\n    # The mistake its pitfall describes.\n"
            f"    return 2 * np.asarray(x, dtype=float)\n")
    body += "".join(f"\n\n{_signature(f)}\n    return np.asarray(x, dtype=float)\n"
                    for f in rest)
    return (f'"""{name} with the mistake of pitfall {name}_example in {first}() only (what '
            f'`grade course check` grades)."""\n\nimport numpy as np\n{body}')


def _readme(name: str, functions: tuple[str, ...]) -> str:
    listed = "\n".join(f"- `{f}(x)`: describe it." for f in functions)
    return (f"# Exercise: {name}\n\nWrite these functions in `{name}.py`:\n\n{listed}\n\n"
            "Check your work with `grade check` in this folder.\n")


def _public_tests(name: str, functions: tuple[str, ...], pitfall: str) -> str:
    tests = "".join(
        f'\n\n@pytest.mark.grade(function="{f}", points=1, pitfall="{pitfall}")\n'
        f"def test_{f}_example(student):\n"
        f'    """{f} gives the expected values on an example"""\n'
        f"    x = np.array({EXAMPLE_INPUT})\n"
        f"    expect_array(student.{f}(x), {EXAMPLE_INPUT}, inp=x, what=\"{f}(x)\")\n"
        for f in functions)
    return (f'"""Public checks for {name}.py: run them with `grade check` in this folder."""\n\n'
            "import numpy as np\nimport pytest\n\nfrom grader.judge.checks import expect_array\n\n"
            f'pytestmark = pytest.mark.grade(exercise="{name}", visibility="visible")\n{tests}')


def _hidden_suite(name: str, functions: tuple[str, ...], pitfall: str) -> str:
    tests = "".join(
        f'\n\n@pytest.mark.grade(function="{f}", points=4, pitfall="{pitfall}")\n'
        f"def test_{f}_matches_the_reference(student, reference, rng):\n"
        f'    """{f} matches the reference on random inputs of several shapes"""\n'
        f"    for case, x in {{\"vector\": rng.normal(size=7), \"batch\": rng.normal(size=(3, 4)),\n"
        f"                     \"zero\": np.zeros(3)}}.items():\n"
        f"        expected = reference.{f}(x.copy())\n"
        f"        expect_array(student.{f}(x), expected, inp=x, what=\"{f}(x)\", case=case)\n"
        for f in functions)
    return (f'"""Hidden tests for {name}: weights in each grade marker."""\n\n'
            "import numpy as np\nimport pytest\n\nfrom grader.judge.checks import expect_array\n\n"
            f'pytestmark = pytest.mark.grade(exercise="{name}", visibility="hidden")\n{tests}')


def _pitfalls(pitfall: str, function: str) -> str:
    return (f"# Misconceptions of this exercise: the sentence a student sees, and the hint.\n\n"
            f"[{pitfall}]\n"
            f'misconception = "{function}(x) doubles its input instead of computing the lesson\'s '
            f'formula."\n'
            f'hint = "Compare {function}(x) with the formula in the README on the example."\n')


#: A new course's words for the pitfalls the grader's own checks report (see ENGINE_PITFALLS).
_ENGINE_TEXTS = {
    "not_implemented": ("The function is still the handout's stub and raises NotImplementedError.",
                        "Replace the `raise NotImplementedError` line with your implementation."),
    "returns_scalar": ("The function returned a single number where an array with one value "
                       "per input entry is due.",
                       "Use NumPy operations that keep the shape of the input."),
    "wrong_shape": ("The result does not have the shape the task asks for.",
                    "Check result.shape against the shape the README gives."),
    "modifies_input": ("The function changed the caller's array in place instead of returning "
                       "a new array.",
                       "Build the result as a new array; to assign into one, start from a copy."),
}


def _engine_pitfalls() -> str:
    assert set(_ENGINE_TEXTS) == set(ENGINE_PITFALLS)
    entries = "".join(f'\n[{pid}]\nmisconception = "{m}"\nhint = "{h}"\n'
                      for pid, (m, h) in _ENGINE_TEXTS.items())
    return ("# Pitfalls shared by the course's exercises, and the ones the grader's own checks\n"
            f"# report (edit their words as you like).\n{entries}")


def _exercise_toml(name: str) -> str:
    return (f"# How {name} is shown on the feedback pages: plots of its functions against the\n"
            "# reference and loop advisories (see README, Writing an exercise).\n")
