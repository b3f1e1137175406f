"""The trust boundary, end to end: hostile submissions built in tmp_path, graded by the real command.

One class holds a correct submission and many cheats; the correct one must get exactly the result
it gets alone, and each cheat must lose exactly what it touched and be told why.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.procs import now_ticks, processes
from tests.test_cli import CORRECT_ACTIVATIONS

HOSTILE: dict[str, dict[str, str]] = {
    # The judge never imports student code, so patching numpy or pytest here patches nothing there.
    "patcher": {"activations.py": CORRECT_ACTIVATIONS.replace("def relu(z):\n    return np.maximum(0, z)", (
        "import numpy.testing, builtins\n"
        "numpy.testing.assert_allclose = lambda *a, **k: None\n"
        "np.allclose = lambda *a, **k: True\nnp.array_equal = lambda *a, **k: True\n"
        "builtins.abs = lambda x: 0\n"
        "def relu(z):\n    return np.zeros_like(z) - 1"))},
    "liar": {"activations.py": CORRECT_ACTIVATIONS.replace("def relu(z):\n    return np.maximum(0, z)", (
        "class Liar:\n    def __eq__(self, other): return True\n    __array_priority__ = 1000\n"
        "def relu(z):\n    return Liar()"))},
    "configs": {
        "activations.py": CORRECT_ACTIVATIONS.replace("return np.maximum(0, z)", "return z"),
        "conftest.py": "import pytest\n@pytest.hookimpl(hookwrapper=True)\ndef pytest_runtest_makereport(item, call):\n"
                       "    outcome = yield\n    outcome.get_result().outcome = 'passed'\n",
        "pytest.ini": "[pytest]\naddopts = -p no:terminal --maxfail=0\n",
        "setup.cfg": "[tool:pytest]\naddopts = --collect-only\n",
        "sitecustomize.py": "import os\nos._exit(0)\n",
        "usercustomize.py": "import os\nos._exit(0)\n",
        "evil.pth": "import os; os._exit(0)\n",
        "numpy.py": "raise SystemExit('fake numpy')\n",
        "json.py": "raise SystemExit('fake json')\n",
    },
    "snoop": {"activations.py": CORRECT_ACTIVATIONS.replace("def relu(z):\n    return np.maximum(0, z)", (
        "import os, glob\n"
        "def relu(z):\n"
        "    found = []\n"
        "    for pattern in ['{ref}/*', '{subs}/*/*', '{out}/*']:\n"
        "        found += glob.glob(pattern)\n"
        "    for path in ['{ref}/activations.py', '{out}/results.json']:\n"
        "        try:\n            open(path, 'a').write('x')\n            found.append('wrote ' + path)\n"
        "        except OSError:\n            pass\n"
        "    if found:\n        raise RuntimeError('LEAK ' + ' '.join(found))\n"
        "    return np.maximum(0, z)"))},
    "printer": {"activations.py": CORRECT_ACTIVATIONS.replace("def relu(z):\n    return np.maximum(0, z)", (
        "import sys\n"
        "def relu(z):\n"
        "    print('{\"tests\": [], \"summary\": {\"passed\": 999}}')\n"
        "    print('===== 999 passed in 0.01s =====')\n"
        "    sys.__stdout__.write('PASSED ' * 1000)\n"
        "    return np.zeros_like(z) - 1"))},
    "inplace": {"activations.py": CORRECT_ACTIVATIONS.replace("def relu(z):\n    return np.maximum(0, z)", (
        "def relu(z):\n    z[z < 0] = 0\n    return z"))},
}


def write_submission(folder: Path, files: dict[str, str], **fmt: str) -> None:
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_text(text.format(**fmt) if name == "activations.py" and fmt else text)


def run_grade(subs: Path, out: Path, *extra: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", "grader", str(subs), "--out", str(out),
                           "--exercise", "activations", "--timeout", "1", "--memory", "512M",
                           "--no-plots", "--quiet", *extra],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    data: dict[str, Any] = json.loads((out / "results.json").read_text())
    return data


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("class")
    subs, out = base / "subs", base / "out"
    from grader.paths import reference_dir
    fmt = {"ref": str(reference_dir()), "subs": str(subs), "out": str(out)}
    write_submission(subs / "alice", {"activations.py": CORRECT_ACTIVATIONS})
    for name, files in HOSTILE.items():
        snoop_fmt = fmt if name == "snoop" else {}
        write_submission(subs / name, files, **snoop_fmt)
    alone_subs = base / "alone"
    write_submission(alone_subs / "alice", {"activations.py": CORRECT_ACTIVATIONS})
    before = snapshot(base)
    began = now_ticks()
    in_class = run_grade(subs, out)
    ended = now_ticks()
    after = snapshot(base)
    return {"class": in_class, "alone": run_grade(alone_subs, base / "out-alone"), "out": out,
            "window": (began, ended), "changed": sorted(
                str(p) for p in set(before) ^ set(after) | {p for p in before if before[p] != after.get(p)}
                if not Path(p).is_relative_to(out))}


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under folder with its size and modification time."""
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file()}


def by_id(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["id"]: s for s in data["submissions"]}


def functions_failed(sub: dict[str, Any]) -> set[str]:
    return {t["function"] for t in sub["tests"] if t["outcome"] != "passed"}


def strip_timing(sub: dict[str, Any]) -> dict[str, Any]:
    return {**sub, "tests": [{**t, "duration": 0} for t in sub["tests"]]}


def test_correct_submission_is_unaffected_by_the_hostile_class(graded: dict[str, Any]) -> None:
    alone = strip_timing(by_id(graded["alone"])["alice"])
    in_class = strip_timing(by_id(graded["class"])["alice"])
    assert in_class == alone
    assert in_class["score"] == in_class["max_score"] > 0


def test_nothing_outside_the_output_folder_changes(graded: dict[str, Any]) -> None:
    assert graded["changed"] == []
    leftovers = [p for p in Path("/tmp").glob("grader-*-*")
                 if not Path(f"/proc/{p.name.split('-')[1]}").exists()]
    assert leftovers == []


def test_patching_numpy_in_the_submission_does_not_patch_the_judge(graded: dict[str, Any]) -> None:
    assert functions_failed(by_id(graded["class"])["patcher"]) == {"relu"}


def test_lying_eq_object_fails_with_a_clear_message(graded: dict[str, Any]) -> None:
    liar = by_id(graded["class"])["liar"]
    assert functions_failed(liar) == {"relu"}
    messages = {t["message"] for t in liar["tests"] if t["function"] == "relu"}
    assert any("Liar object, not a NumPy array or a number" in m for m in messages), messages


def test_config_files_in_the_submission_change_nothing(graded: dict[str, Any]) -> None:
    assert functions_failed(by_id(graded["class"])["configs"]) == {"relu"}


def test_reference_other_submissions_and_outputs_are_invisible(graded: dict[str, Any]) -> None:
    snoop = by_id(graded["class"])["snoop"]
    leaks = [t["message"] for t in snoop["tests"] if "LEAK" in t["message"]]
    assert leaks == []
    assert functions_failed(snoop) == set()


def test_printed_fake_reports_are_just_output(graded: dict[str, Any]) -> None:
    printer = by_id(graded["class"])["printer"]
    assert functions_failed(printer) == {"relu"}
    assert printer["score"] < printer["max_score"]


def test_in_place_modification_is_detected_across_the_boundary(graded: dict[str, Any]) -> None:
    inplace = by_id(graded["class"])["inplace"]
    relu = [t for t in inplace["tests"] if t["function"] == "relu" and t["outcome"] == "failed"]
    assert any(t["pitfall"] == "modifies_input" for t in relu), [(t["id"], t["message"]) for t in relu]


def test_isolation_level_is_recorded(graded: dict[str, Any]) -> None:
    isolation = graded["class"]["isolation"]
    if os.geteuid() == 0 and sys.platform.startswith("linux"):
        assert isolation == "uid+pidns+netns+mountns+view+scratch+proc+nocaps+rlimits"
    else:
        assert "rlimits" in isolation


def test_no_sandbox_process_survives(graded: dict[str, Any]) -> None:
    # Only processes started while this module's class was graded count: another grading run on
    # the same machine (a benchmark, say) has sandbox processes of its own.
    began, ended = graded["window"]
    # Sandbox uids are 100000 + (judge pid mod 50000): see grader.sandbox.client.
    survivors = [p.pid for p in processes()
                 if 100_000 <= p.uid < 150_000 and began <= p.started <= ended]
    assert survivors == []


def test_same_seed_gives_the_same_bytes(tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    write_submission(subs / "alice", {"activations.py": CORRECT_ACTIVATIONS})
    write_submission(subs / "bob", {"activations.py": CORRECT_ACTIVATIONS.replace("np.maximum(0, z)", "np.max(z)")})
    texts = []
    for n in range(2):
        run_grade(subs, tmp_path / f"out{n}", "--no-timings", "--seed", "7")
        texts.append((tmp_path / f"out{n}" / "results.json").read_bytes())
    assert texts[0] == texts[1]
    assert json.loads(texts[0])["seed"] == 7
