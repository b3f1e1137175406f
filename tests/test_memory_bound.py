"""Memory across children: what a run admits, and what an idle child is charged with.

Hostile code here allocates just past small limits (a few tens of MiB), so a sandbox failure
cannot hurt the machine."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from grader import paths
from grader.sandbox import host
from grader.sandbox.client import Sandbox, SandboxConfig
from grader.sandbox.memory import admit, per_judge
from grader.sandbox.view import SCRATCH_BYTES

GiB = 1 << 30


def test_admission_starts_only_the_judges_memory_covers() -> None:
    bound = admit(jobs=8, memory_bytes=GiB, available=6 * GiB)
    assert per_judge(GiB) == 2 * GiB + SCRATCH_BYTES
    assert bound.jobs == 2 and bound.asked == 8  # 80% of 6 GiB covers two judges of 2.06 GiB
    assert bound.total <= 0.8 * 6 * GiB
    assert "2 judge(s)" in bound.describe() and "6 fewer judge(s) than --jobs 8" in bound.describe()
    assert admit(jobs=8, memory_bytes=GiB, available=GiB // 2).jobs == 1  # never none
    assert admit(jobs=2, memory_bytes=GiB, available=64 * GiB).jobs == 2


@pytest.mark.skipif("scratch" not in host.probe().steps, reason="no private scratch here")
def test_an_idle_child_is_charged_with_what_it_wrote_to_its_scratch(tmp_path: Path) -> None:
    box = Sandbox(SandboxConfig(timeout=2.0, memory_bytes=256 << 20, workdir=str(tmp_path)))
    try:
        session = box.open({"activations": textwrap.dedent("""
            def relu(z):
                for n in range(3):  # files of 10 MiB: one file may hold at most 16
                    with open(f'/dev/shm/hoard{n}', 'wb') as f:
                        f.write(b'x' * (10 << 20))
                return z
        """)})
        before = session.call("activations", "relu", (np.zeros(1),), {})
        assert before.ok
        assert session.resident_growth() >= 30 << 20
        session.close()
    finally:
        box.close()


@pytest.mark.slow
def test_a_class_of_memory_hungry_submissions_is_graded_within_the_bound(tmp_path: Path) -> None:
    reference = (paths.reference_dir() / "activations.py").read_text()
    hungry = textwrap.dedent("""
        import numpy as np
        HELD = []

        def _hold():
            # Memory kept between tests by every child at once: once past their share of
            # the limit, idle children are restarted.
            if not HELD:
                HELD.append(np.ones(40 << 20, dtype=np.uint8))
                with open('/dev/shm/more', 'wb') as f:
                    f.write(b'x' * (12 << 20))
    """)
    for n in range(6):
        folder = tmp_path / "class" / f"hungry{n}"
        folder.mkdir(parents=True)
        # The reference's functions, each holding memory first.
        body = reference + hungry + "".join(
            f"\n_{name} = {name}\ndef {name}(*a, **k):\n    _hold()\n    return _{name}(*a, **k)\n"
            for name in ("relu", "sigmoid", "tanh", "softmax"))
        (folder / "activations.py").write_text(body)
    out = tmp_path / "out"
    grade = str(Path(sys.executable).parent / "grade")
    result = subprocess.run([grade, str(tmp_path / "class"), "--out", str(out), "--jobs", "2",
                             "--memory", "512M", "--exercise", "activations", "--no-plots"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "memory: student code may hold up to 2.1 GiB at once (2 judge(s) x 1.1 GiB)" \
        in result.stdout
    rows = (out / "grades.csv").read_text().splitlines()[1:]
    assert len(rows) == 6 and all(",10,10,100," in row for row in rows), rows
