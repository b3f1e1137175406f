"""The engine holds no word of the bundled lesson: everything about it is in the course folder
(course.toml, exercises/, reference/), so another course needs no change to grader/."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: The lesson's vocabulary: its functions, concepts and examples.
LESSON_WORDS = re.compile(r"relu|sigmoid|tanh|softmax|leaky|entropy|temperature|logsumexp|"
                          r"boltzmann|lipschitz|activation|dqn|critic(?!al)", re.IGNORECASE)


def engine_files() -> list[Path]:
    found = [p for folder in ("grader", "templates") for p in (ROOT / folder).rglob("*")
             if p.is_file() and p.suffix in (".py", ".j2", ".ini", ".js", ".css")
             and "__pycache__" not in p.parts and "_course" not in p.parts]
    assert len(found) > 50  # the engine was found, not an empty folder
    return found


def test_no_file_of_the_engine_names_the_lesson() -> None:
    mentions = [f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
                for path in engine_files()
                for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                if LESSON_WORDS.search(line)]
    assert mentions == []


def test_the_check_would_see_a_mention() -> None:
    assert LESSON_WORDS.search("def relu(z):") and LESSON_WORDS.search("Activation functions")
    assert not LESSON_WORDS.search("def mse(errors):")
