"""The Gradescope zip end to end, as an instructor and Gradescope would use it.

The zip is built by the `grade` console script of a plain (non-editable) install in a fresh
venv. It is unpacked into /autograder the way Gradescope builds its image, in a root of this
test's own: a private mount namespace whose root is a tmpfs holding the host's system folders
(read-only, but for the few a process writes to) and a tmpfs at /autograder, so nothing
appears on the host. There setup.sh runs with the PATH of Ubuntu's images, and run_autograder
grades a correct and a half-correct submission as root under Docker's default profile
(tests/hostenv.py), the profile Gradescope's containers run with; every results.json is
checked against Gradescope's output format.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any, Iterator

import jsonschema
import pytest

import grader
from tests.hostenv import available, command

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
#: The PATH of Ubuntu's Docker images, which Gradescope's base images keep.
IMAGE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
RESULTS = "/autograder/results/results.json"
#: Top-level folders of the test's root: the system's, and where this Python and checkout live.
SYSTEM = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/usr", "/etc", "/opt", "/var",
          "/dev", "/proc", "/sys", "/run", "/tmp", "/root", "/home")
#: Folders a process writes to (devices, temporary files, pip's cache); the rest is read-only,
#: so that a step writing outside /autograder fails here instead of changing the host.
WRITABLE = ("/dev", "/proc", "/sys", "/run", "/tmp", "/root")

_VISIBILITY = {"enum": ["hidden", "after_due_date", "after_published", "visible"]}
_FORMAT = {"enum": ["text", "simple_format", "html", "md", "ansi"]}
#: Gradescope's results.json (Autograder Specifications, "Output format"), as this grader
#: writes it: a top-level score, whole seconds, and every test with its own score.
GRADESCOPE_RESULTS: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["score", "execution_time", "output", "visibility", "tests"],
    "properties": {
        "score": {"type": "number", "minimum": 0},
        "execution_time": {"type": "integer", "minimum": 0},
        "output": {"type": "string", "minLength": 1},
        "output_format": _FORMAT,
        "visibility": _VISIBILITY,
        "stdout_visibility": _VISIBILITY,
        "extra_data": {"type": "object"},
        "tests": {"type": "array", "items": {
            "type": "object",
            "additionalProperties": False,
            "required": ["score", "max_score", "name", "output", "visibility"],
            "properties": {
                "score": {"type": "number", "minimum": 0},
                "max_score": {"type": "number", "minimum": 0},
                "status": {"enum": ["passed", "failed"]},
                "name": {"type": "string", "minLength": 1},
                "name_format": _FORMAT,
                "number": {"type": "string"},
                "output": {"type": "string"},
                "output_format": _FORMAT,
                "tags": {"type": "array", "items": {"type": "string"}},
                "visibility": _VISIBILITY,
                "extra_data": {"type": "object"},
            },
        }},
    },
}

# Runs in the private mount namespace: builds the root, then holds it (a sleeping process) for
# nsenter to enter, until the test kills it.
HOLDER = """
set -eu
root=$1; shift
mount -t tmpfs -o mode=0755 gs-root "$root"
for entry in "$@"; do
  if [ -L "$entry" ]; then ln -s "$(readlink "$entry")" "$root$entry"; continue; fi
  mkdir -p "$root$entry"
  mount --rbind "$entry" "$root$entry"
  case " $WRITABLE " in *" $entry "*) ;; *) mount -o remount,bind,ro "$root$entry" ;; esac
done
mkdir "$root/autograder"
mount -t tmpfs -o mode=0755 gs-autograder "$root/autograder"
# The tmpfs becomes the namespace's root (not a chroot, in which the kernel refuses user
# namespaces to the simulated hosts that need them); the host's root is let go.
cd "$root"
mkdir .host
pivot_root . .host
umount -l /.host
rmdir /.host
echo ready
exec sleep 900
"""

# What Gradescope does with the zip while it builds the image, before setup.sh.
UNPACK = """
set -eu
mkdir -p /autograder/source /autograder/submission /autograder/results
unzip -q -n "$1" -d /autograder/source
cp /autograder/source/run_autograder /autograder/run_autograder
chmod +x /autograder/run_autograder
"""


def image_python() -> str | None:
    """A Python 3.11+ on the image's PATH, as setup.sh looks for one (None: setup.sh would
    download one, which this test cannot)."""
    for name in ("python3", "python3.14", "python3.13", "python3.12", "python3.11"):
        found = shutil.which(name, path=IMAGE_PATH)
        if found and subprocess.run([found, "-c", "import sys; "
                                     "sys.exit(sys.version_info < (3, 11))"]).returncode == 0:
            return found
    return None


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without what would change how pip builds the grader."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("GRADER_STUDENT_BUILD", "PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """autograder.zip, built by the `grade` of `pip install <checkout>` in a fresh venv."""
    tmp = tmp_path_factory.mktemp("gszip")
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    install = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q",
                              str(REPO)], capture_output=True, text=True, timeout=600,
                             env=clean_env(), cwd=tmp)
    assert install.returncode == 0, install.stderr[-3000:]
    where = subprocess.run([str(venv / "bin" / "python"), "-c",
                            "import grader; print(grader.__file__)"],
                           capture_output=True, text=True, check=True, cwd=tmp)
    # A plain install: the package is a copy in the venv, with its course material.
    package_dir = Path(where.stdout.strip()).parent
    assert package_dir.is_relative_to(venv), package_dir
    assert (package_dir / "_course" / "reference" / "suites").is_dir()
    out = tmp / "autograder.zip"
    built = subprocess.run([str(venv / "bin" / "grade"), "gradescope-package", "--out", str(out)],
                           capture_output=True, text=True, timeout=120, env=clean_env(), cwd=tmp)
    assert built.returncode == 0, built.stderr
    assert out.is_file() and "wrote" in built.stdout
    return out


class Autograder:
    """Steps run inside the simulated /autograder, as root, with the image's environment."""

    def __init__(self, holder: subprocess.Popen[str], scratch: Path) -> None:
        self.holder = holder
        self.scratch = scratch
        self.host = "docker" if available("docker") is None else "root"

    def run(self, argv: list[str], host: str = "root",
            timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """argv in the test's root and the simulated host `host` (tests/hostenv.py)."""
        inner = command(host, argv)
        enter = ["nsenter", f"--target={self.holder.pid}", "--mount", "--root", "--wd",
                 "env", "-i", f"PATH={IMAGE_PATH}", "HOME=/root", "LANG=C.UTF-8", *inner]
        return subprocess.run(enter, capture_output=True, text=True, timeout=timeout)

    def submit(self, files: dict[str, str]) -> None:
        """Replace /autograder/submission with files; clear the results."""
        folder = self.scratch / f"submission-{len(list(self.scratch.iterdir()))}"
        folder.mkdir()
        for name, text in files.items():
            (folder / name).write_text(text)
        done = self.run(["sh", "-c", 'rm -rf /autograder/submission /autograder/results/* && '
                         'cp -r "$1" /autograder/submission', "submit", str(folder)])
        assert done.returncode == 0, done.stderr

    def grade(self, host: str | None = None) -> tuple[subprocess.CompletedProcess[str], Any]:
        """Run run_autograder; return its run and the results.json it left."""
        done = self.run(["/autograder/run_autograder"], host or self.host)
        shown = self.run(["cat", RESULTS])
        assert shown.returncode == 0, f"no results.json:\n{done.stdout}\n{done.stderr}"
        return done, json.loads(shown.stdout)


@pytest.fixture(scope="module")
def autograder(package: Path,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Autograder, str]]:
    """The unpacked zip after setup.sh, and setup.sh's output."""
    if os.geteuid() != 0:
        pytest.skip("simulating /autograder needs root (mount namespaces)")
    missing = [t for t in ("unshare", "nsenter", "pivot_root", "mount", "unzip")
               if not shutil.which(t)]
    if missing:
        pytest.skip(f"simulating /autograder needs {', '.join(missing)}")
    if image_python() is None:
        pytest.skip("no Python 3.11+ on the image's PATH: setup.sh would download one")
    tmp = tmp_path_factory.mktemp("gsroot")
    (tmp / "root").mkdir()
    (tmp / "submissions").mkdir()
    wanted = {*SYSTEM, *(f"/{Path(p).resolve().parts[1]}" for p in
                         (REPO, sys.executable, sys.base_prefix, tmp))}
    entries = sorted(e for e in wanted if os.path.lexists(e))
    holder = subprocess.Popen(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                               HOLDER, "holder", str(tmp / "root"), *entries],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=clean_env(WRITABLE=" ".join(WRITABLE)))
    try:
        assert holder.stdout is not None
        if holder.stdout.readline().strip() != "ready":
            holder.kill()
            pytest.skip(f"no private root for /autograder here: {holder.communicate()[1]}")
        ag = Autograder(holder, tmp / "submissions")
        unpacked = ag.run(["sh", "-c", UNPACK, "unpack", str(package)])
        assert unpacked.returncode == 0, unpacked.stderr
        setup = ag.run(["bash", "/autograder/source/setup.sh"], timeout=900)
        assert setup.returncode == 0, setup.stdout[-3000:] + setup.stderr[-3000:]
        yield ag, setup.stdout + setup.stderr
    finally:
        holder.kill()
        holder.wait(timeout=30)


def wheel_names(archive: Path) -> tuple[list[str], list[str]]:
    """The members of an autograder zip, and those of the wheel it carries."""
    with zipfile.ZipFile(archive) as outer:
        names = sorted(outer.namelist())
        (wheel,) = [n for n in names if n.endswith(".whl")]
        with zipfile.ZipFile(io.BytesIO(outer.read(wheel))) as inner:
            return names, sorted(inner.namelist())


def test_a_checkout_builds_a_zip_of_the_same_shape(package: Path, tmp_path: Path) -> None:
    from grader.gradescope_package import build_package

    from_checkout = tmp_path / "checkout.zip"
    build_package(from_checkout, root=REPO)
    assert wheel_names(from_checkout) == wheel_names(package)


def reference_files() -> dict[str, str]:
    """A correct submission: the reference solution of every exercise."""
    return {p.name: p.read_text() for p in sorted((REPO / "reference").glob("*.py"))
            if p.name != "__init__.py"}


def check_results(data: Any) -> None:
    """results.json as Gradescope reads it: the schema, and integers where it wants them."""
    jsonschema.validate(data, GRADESCOPE_RESULTS)
    assert type(data["execution_time"]) is int  # JSON 3, not 3.0


def test_setup_uses_the_python_the_image_has(autograder: tuple[Autograder, str]) -> None:
    ag, output = autograder
    assert "found on PATH" in output and "installing CPython" not in output
    assert f"grade, version {grader.__version__}" in output  # setup.sh's last step
    version = ag.run(["/autograder/venv/bin/python", "-c",
                      "import sys; print(sys.version_info >= (3, 11))"])
    assert version.stdout.strip() == "True", version.stderr
    shown = ag.run(["/autograder/venv/bin/python", "-c", "import grader, pathlib; "
                    "print(pathlib.Path(grader.__file__).parent)"])
    assert shown.stdout.strip().startswith("/autograder/venv/"), shown.stdout


def test_a_correct_submission_gets_every_point(autograder: tuple[Autograder, str]) -> None:
    ag, _ = autograder
    ag.submit(reference_files())
    done, data = ag.grade()
    assert done.returncode == 0, done.stdout + done.stderr
    check_results(data)
    total = sum(t["max_score"] for t in data["tests"])
    assert total > 0 and data["score"] == pytest.approx(total), data["output"]
    assert all(t["status"] == "passed" for t in data["tests"])
    if ag.host == "docker":
        # Gradescope's profile: an empty chroot under a uid of its own, not namespaces.
        assert data["extra_data"]["isolation"] == "uid+chroot+nocaps+rlimits"


def test_a_half_correct_submission_gets_part_of_the_points(
        autograder: tuple[Autograder, str]) -> None:
    ag, _ = autograder
    files = reference_files()
    # Every other exercise is still the handout's stub.
    for name in sorted(files)[::2]:
        files[name] = (REPO / "exercises" / name.removesuffix(".py") / name).read_text()
    ag.submit(files)
    done, data = ag.grade()
    assert done.returncode == 0, done.stdout + done.stderr
    check_results(data)
    total = sum(t["max_score"] for t in data["tests"])
    assert 0 < data["score"] < total, data["output"]
    failed = [t for t in data["tests"] if t["status"] == "failed"]
    assert failed and all(t["score"] < t["max_score"] for t in failed)
    assert any(t["output"] for t in failed if t["visibility"] == "visible")


def test_a_host_that_cannot_isolate_still_gets_results(
        autograder: tuple[Autograder, str]) -> None:
    ag, _ = autograder
    if available("nonroot-nouserns"):
        pytest.skip(str(available("nonroot-nouserns")))
    ag.submit(reference_files())
    # The simulated user (nobody) must be able to write the results.
    assert ag.run(["chmod", "0777", "/autograder/results"]).returncode == 0
    done, data = ag.grade("nonroot-nouserns")
    assert done.returncode == 0, done.stdout + done.stderr
    check_results(data)
    assert data["score"] == 0 and data["tests"] == []
    assert "could not isolate student code" in data["output"]
    # The instructor's output says what is missing and how to enable it.
    # grade gradescope itself writes the student's result before it stops with exit 3.
    assert "isolation 'limits'" in done.stdout


def test_a_broken_install_still_gets_results(autograder: tuple[Autograder, str]) -> None:
    ag, _ = autograder
    ag.submit(reference_files())
    moved = ag.run(["mv", "/autograder/venv", "/autograder/venv.away"])
    assert moved.returncode == 0, moved.stderr
    try:
        done, data = ag.grade()
    finally:
        ag.run(["mv", "/autograder/venv.away", "/autograder/venv"])
    assert done.returncode == 0
    check_results(data)
    assert data["score"] == 0 and "tell your instructor" in data["output"]
