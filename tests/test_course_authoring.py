"""Writing a course is writing files: an unrelated course built with `grade new-exercise` and
files inside its folder alone, and a new exercise added to a copy of the bundled course, both
graded with `--course` through the console script, with no change to the engine."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from grader import paths

pytestmark = pytest.mark.slow
GRADE = str(Path(sys.executable).parent / "grade")

MSE = """
import numpy as np


def mse(errors):
    \"\"\"Mean squared error of each row of prediction errors.\"\"\"
    errors = np.atleast_1d(np.asarray(errors, dtype=float))
    return np.mean(errors ** 2, axis=-1)
"""
CROSS_ENTROPY = """
import numpy as np


def cross_entropy(p):
    \"\"\"Cross-entropy loss -log p[..., 0] when the first class is the true one.\"\"\"
    return -np.log(np.asarray(p, dtype=float)[..., 0])
"""
GELU = """
import numpy as np


def gelu(z):
    z = np.asarray(z, dtype=float)
    return 0.5 * z * (1 + np.tanh(np.sqrt(2 / np.pi) * (z + 0.044715 * z ** 3)))


def swish(z, beta=1.0):
    z = np.asarray(z, dtype=float)
    return z / (1 + np.exp(-beta * z))
"""


def grade(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([GRADE, *args], capture_output=True, text=True, timeout=300)


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")


def submission(root: Path, name: str, modules: dict[str, str]) -> None:
    for module, text in modules.items():
        write(root / name / f"{module}.py", text)


def results(out: Path) -> dict[str, dict[str, Any]]:
    data = json.loads((out / "results.json").read_text())
    return {s["id"]: s for s in data["submissions"]}


def losses_course(course: Path) -> None:
    """Two exercises scaffolded, then made real by editing files of the course only."""
    for name in ("mse", "cross_entropy"):
        made = grade("new-exercise", name, "--course", str(course))
        assert made.returncode == 0, made.stderr
    write(course / "reference" / "mse.py", MSE)
    write(course / "reference" / "cross_entropy.py", CROSS_ENTROPY)
    write(course / "exercises" / "mse" / "pitfalls.toml", """
        [forgot_mean]
        misconception = "The mean squared error averages the squares; summing them grows with the batch."
        hint = "Use np.mean(errors ** 2, axis=-1), not np.sum."
    """)
    write(course / "exercises" / "cross_entropy" / "pitfalls.toml", """
        [log10]
        misconception = "Cross-entropy uses the natural logarithm, not log10."
        hint = "Use np.log."
    """)
    for exercise, pitfall, inputs in (("mse", "forgot_mean", "rng.normal(size=(4, 5))"),
                                      ("cross_entropy", "log10",
                                       "rng.dirichlet(np.ones(3), size=4)")):
        write(course / "reference" / "suites" / f"test_{exercise}.py", f"""
            import numpy as np
            import pytest

            from grader.judge.checks import expect_array

            pytestmark = pytest.mark.grade(exercise="{exercise}", visibility="hidden")


            @pytest.mark.grade(function="{exercise}", points=6, pitfall="{pitfall}")
            def test_{exercise}_matches_the_reference(student, reference, rng):
                \"\"\"{exercise} matches the reference on a batch\"\"\"
                x = {inputs}
                expect_array(student.{exercise}(x), reference.{exercise}(x.copy()), inp=x,
                             what="{exercise}(x)")
        """)
        public = course / "exercises" / exercise / f"test_{exercise}_public.py"
        public.unlink()  # its placeholder expected values are the scaffold's identity
        shutil.rmtree(course / "reference" / "mistakes" / f"{exercise}_example")
    write(course / "exercises" / "mse" / "exercise.toml", """
        [[plots]]
        function = "mse"
        kind = "line"
        x = {linspace = [-3, 3, 13]}
        each = true
        x_label = "error"
        y_label = "loss"
    """)
    write(course / "reference" / "mistakes" / "mistakes.toml", """
        [forgot_mean]
        exercise = "mse"
        broken = ["mse"]
        pitfall = "forgot_mean"

        [log10]
        exercise = "cross_entropy"
        broken = ["cross_entropy"]
        pitfall = "log10"
    """)
    write(course / "reference" / "mistakes" / "forgot_mean" / "mse.py",
          MSE.replace("np.mean(errors ** 2", "np.sum(errors ** 2"))
    write(course / "reference" / "mistakes" / "log10" / "cross_entropy.py",
          CROSS_ENTROPY.replace("np.log(", "np.log10("))


def test_an_unrelated_course_is_written_and_graded_without_the_engine_knowing_it(
        tmp_path: Path) -> None:
    course = tmp_path / "losses"
    losses_course(course)
    checked = grade("course", "check", str(course))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.strip().splitlines()[-1] == "6 passed, 0 failed"

    subs = tmp_path / "class"
    submission(subs, "right", {"mse": MSE, "cross_entropy": CROSS_ENTROPY})
    submission(subs, "summed", {"mse": MSE.replace("np.mean(errors ** 2", "np.sum(errors ** 2"),
                                "cross_entropy": CROSS_ENTROPY.replace("np.log(", "np.log10(")})
    out = tmp_path / "out"
    graded = grade(str(subs), "--out", str(out), "--course", str(course), "-q")
    assert graded.returncode == 0, graded.stderr
    found = results(out)
    assert (found["right"]["score"], found["right"]["max_score"]) == (12, 12)
    assert (found["summed"]["score"], found["summed"]["max_score"]) == (0, 12)
    failed = {t["pitfall"] for t in found["summed"]["tests"] if t["outcome"] != "passed"}
    assert failed == {"forgot_mean", "log10"}
    page = (out / "summed" / "feedback.html").read_text()
    assert "Use np.mean(errors ** 2, axis=-1), not np.sum." in page and "Use np.log." in page
    assert "losses" in page  # the course's title, not the bundled one's
    (curve,) = found["summed"]["curves"]
    assert curve["function"] == "mse" and curve["kind"] == "line"
    assert ">error<" in page and ">loss<" in page


def test_a_new_exercise_joins_a_copy_of_the_bundled_course(tmp_path: Path) -> None:
    course = tmp_path / "course"
    shutil.copytree(paths.course_root(), course, symlinks=True, ignore=shutil.ignore_patterns(
        "__pycache__", ".git", ".venv", "grader", "tests", "bench", "docs", "out", "*.egg-info"))
    made = grade("new-exercise", "gelu", "--course", str(course), "--function", "gelu",
                 "--function", "swish")
    assert made.returncode == 0, made.stderr
    write(course / "reference" / "gelu.py", GELU)
    write(course / "exercises" / "gelu" / "pitfalls.toml", """
        [gelu_exact_erf]
        misconception = "The lesson's GELU is the tanh approximation, not the exact erf form."
        hint = "Use 0.5 * z * (1 + np.tanh(np.sqrt(2 / np.pi) * (z + 0.044715 * z ** 3)))."

        [gelu_forgot_half]
        misconception = "GELU multiplies by 0.5: without it every output is twice too large."
        hint = "Keep the 0.5 in front: 0.5 * z * (1 + tanh(...))."
    """)
    write(course / "exercises" / "shared" / "gelu_detectors.py", """
        import math

        import numpy as np

        from grader.judge.checks import Detector, main_input


        def _exact_erf(got, expected, inp):
            z = main_input(inp).astype(float)
            exact = 0.5 * z * (1 + np.vectorize(math.erf)(z / math.sqrt(2)))
            if got.shape == exact.shape and np.allclose(got, exact, rtol=1e-9, atol=1e-12):
                return "your values are those of the exact erf form"
            return None


        def _no_half(got, expected, inp):
            if got.shape == expected.shape and np.allclose(got, 2 * expected):
                return "every value is twice the expected one"
            return None


        GELU = (Detector(pitfall="gelu_exact_erf", check=_exact_erf),
                Detector(pitfall="gelu_forgot_half", check=_no_half))
    """)
    write(course / "reference" / "suites" / "test_gelu.py", """
        import numpy as np
        import pytest

        from gelu_detectors import GELU
        from grader.judge.checks import expect_array

        pytestmark = pytest.mark.grade(exercise="gelu", visibility="hidden")


        @pytest.mark.grade(function="gelu", points=4, pitfall="gelu_forgot_half")
        def test_gelu_values(student, reference, rng):
            \"\"\"gelu matches the reference's tanh approximation\"\"\"
            z = rng.uniform(-4, 4, size=30)
            expect_array(student.gelu(z), reference.gelu(z.copy()), inp=z, what="gelu(z)",
                         diagnose=GELU)


        @pytest.mark.grade(function="swish", points=4)
        def test_swish_beta(student, reference, rng):
            \"\"\"swish uses its beta\"\"\"
            z = rng.uniform(-4, 4, size=30)
            for beta in (0.5, 1.0, 2.0):
                expect_array(student.swish(z, beta), reference.swish(z.copy(), beta),
                             inp={"z": z, "beta": beta}, what=f"swish(z, {beta})")
    """)
    (course / "exercises" / "gelu" / "test_gelu_public.py").unlink()
    shutil.rmtree(course / "reference" / "mistakes" / "gelu_example")
    corpus = course / "reference" / "mistakes" / "mistakes.toml"
    text = corpus.read_text()
    corpus.write_text(text[:text.index("\n[gelu_example]")] + textwrap.dedent("""
        [gelu_exact_erf]
        exercise = "gelu"
        broken = ["gelu"]
        pitfall = "gelu_exact_erf"

        [gelu_forgot_half]
        exercise = "gelu"
        broken = ["gelu"]
        pitfall = "gelu_forgot_half"
    """))
    erf = GELU.replace(
        "0.5 * z * (1 + np.tanh(np.sqrt(2 / np.pi) * (z + 0.044715 * z ** 3)))",
        "0.5 * z * (1 + np.vectorize(__import__('math').erf)(z / np.sqrt(2)))")
    write(course / "reference" / "mistakes" / "gelu_exact_erf" / "gelu.py", erf)
    write(course / "reference" / "mistakes" / "gelu_forgot_half" / "gelu.py",
          GELU.replace("return 0.5 * z * (1", "return z * (1"))

    checked = grade("course", "check", str(course))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "ok   mistake gelu_exact_erf (gelu.py)" in checked.stdout
    assert "ok   mistake gelu_forgot_half (gelu.py)" in checked.stdout
    assert "ok   the gelu stub scores 0 (due: 0)" in checked.stdout
