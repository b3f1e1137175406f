"""The course's pitfalls are data, checked when the course loads: an id a suite or detector uses
and the course does not define is an error naming the file and line, never a silent gap."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader import paths, pitfalls, preflight
from grader.errors import CourseError

ENTRY = 'misconception = "The sentence a student sees."\nhint = "What to change."\n'


def course(tmp_path: Path, shared: str, own: str = "", *, engine: bool = True) -> Path:
    """A course's exercises folder with these pitfall files (and, unless told otherwise, the
    engine's own pitfalls every course defines)."""
    exercises = tmp_path / "exercises"
    (exercises / "mse").mkdir(parents=True)
    if engine:
        shared += "".join(f"\n[{p}]\n{ENTRY}" for p in pitfalls.ENGINE_PITFALLS)
    (exercises / "pitfalls.toml").write_text(shared)
    if own:
        (exercises / "mse" / "pitfalls.toml").write_text(own)
    return exercises


def test_the_bundled_course_defines_every_pitfall_it_uses() -> None:
    preflight.verify()
    found = pitfalls.catalogue(paths.exercises_dir())
    assert len(found) == 39 and found["np_max"].hint.startswith("Write relu as np.maximum(0, z)")
    assert pitfalls.lookup("no_such_pitfall") is None


def test_an_unknown_id_in_a_suite_names_its_file_and_line(tmp_path: Path) -> None:
    exercises = course(tmp_path, f"[squared]\n{ENTRY}")
    suite = tmp_path / "test_mse.py"
    suite.write_text("import pytest\n\n\n@pytest.mark.grade(function='mse', points=1, "
                     "pitfall='squared')\ndef test_a(student):\n    pass\n\n\n"
                     "@pytest.mark.grade(function='mse', points=1, pitfall='forgot_mean')\n"
                     "def test_b(student):\n    pass\n")
    with pytest.raises(CourseError) as raised:
        pitfalls.verify(exercises, [suite])
    assert str(raised.value) == (f"{suite}:9: pitfall 'forgot_mean' is not defined in any "
                                 f"pitfalls.toml of the course ({exercises})")


def test_an_unknown_id_in_a_detector_is_found_too(tmp_path: Path) -> None:
    exercises = course(tmp_path, f"[squared]\n{ENTRY}")
    detector = tmp_path / "detectors.py"
    detector.write_text("def d(got):\n    raise PitfallDetected('sqrt_missing', 'why')\n")
    with pytest.raises(CourseError, match=r"detectors.py:2: pitfall 'sqrt_missing' is not"):
        pitfalls.verify(exercises, [detector])


@pytest.mark.parametrize("text, message", [
    ('[squared]\nmisconception = "only this"\n', "pitfall 'squared' needs exactly a non-empty"),
    (f'[Squared]\n{ENTRY}', "'Squared' is not a pitfall id"),
    (f'[squared]\n{ENTRY}extra = "x"\n', "pitfall 'squared' needs exactly"),
    ('[squared\n', "cannot read it as TOML"),
])
def test_a_broken_catalogue_is_an_error_naming_the_file(tmp_path: Path, text: str,
                                                        message: str) -> None:
    exercises = course(tmp_path, text)
    with pytest.raises(CourseError, match=message) as raised:
        pitfalls.catalogue(exercises)
    assert str(raised.value).startswith(str(exercises / "pitfalls.toml"))


def test_one_id_in_two_files_is_an_error(tmp_path: Path) -> None:
    exercises = course(tmp_path, f"[squared]\n{ENTRY}", f"[squared]\n{ENTRY}")
    with pytest.raises(CourseError, match="pitfall 'squared' is defined twice"):
        pitfalls.catalogue(exercises)


def test_a_course_must_define_the_engines_own_pitfalls(tmp_path: Path) -> None:
    exercises = course(tmp_path, "".join(f"[{p}]\n{ENTRY}" for p in
                                         pitfalls.ENGINE_PITFALLS if p != "wrong_shape"),
                       engine=False)
    with pytest.raises(CourseError, match="must define pitfall 'wrong_shape', which the grader"):
        pitfalls.verify(exercises, [])
