"""Discovery of submissions from folders, zips and notebooks, including hostile input."""

from __future__ import annotations

import io
import json
import os
import re
import stat
import struct
import warnings
import zipfile
from collections.abc import Mapping
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.errors import UsageError
from grader.records import Submission
from grader.listing import MAX_FILES
from grader.submissions import discover, rough_count, safe_id

RELU = "import numpy as np\n\n\ndef relu(z):\n    return np.maximum(0, z)\n"
LEAKY = "def leaky_relu(z, alpha=0.01):\n    return z\n"
ALL = ("activations", "leaky_relu", "softmax_debug", "scaling")


# ---------------------------------------------------------------------------------------------
# helpers


def write(path: Path, content: str | bytes) -> Path:
    """Create a file (and its folders) with the given content."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def make_zip(path: Path, members: Mapping[str, str | bytes]) -> Path:
    """Write a real (deflated) zip with the given member names and contents."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name), data, compress_type=zipfile.ZIP_DEFLATED)
    return path


def notebook(*cells: str) -> str:
    """An nbformat-4 notebook holding the given code cells."""
    return json.dumps(
        {
            "nbformat": 4,
            "nbformat_minor": 5,
            "metadata": {},
            "cells": [
                {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                 "source": c}
                for c in cells
            ],
        }
    )


def snapshot(root: Path, skip: Path) -> dict[str, tuple[int, int, int]]:
    """Every path under root (links not followed) with its mode, size and mtime, except under skip."""
    found: dict[str, tuple[int, int, int]] = {}
    for folder, dirs, files in os.walk(root):
        if Path(folder) == skip or skip in Path(folder).parents:
            dirs[:] = []
            continue
        for name in dirs + files:
            info = os.lstat(Path(folder) / name)
            found[str(Path(folder) / name)] = (info.st_mode, info.st_size, info.st_mtime_ns)
    return found


def run(tmp_path: Path, target: Path, **kwargs: object) -> list[Submission]:
    """discover(), asserting it writes nothing anywhere under tmp_path outside workdir (or cwd)."""
    workdir = tmp_path / "workdir"
    workdir.mkdir(exist_ok=True)
    cwd = tmp_path / "cwd"
    cwd.mkdir(exist_ok=True)
    before = snapshot(tmp_path, workdir)
    old = os.getcwd()
    os.chdir(cwd)  # a relative write by mistake would land in the snapshot
    try:
        result = discover(target, workdir, **kwargs)  # type: ignore[arg-type]
    finally:
        os.chdir(old)
    assert snapshot(tmp_path, workdir) == before
    assert not (tmp_path.parent / "evil.py").exists()
    return result


def by_id(subs: list[Submission]) -> dict[str, Submission]:
    """Submissions keyed by id."""
    return {s.id: s for s in subs}


def patch_zip(data: bytes, *, file_size: int | None = None, flag_bits: int | None = None) -> bytes:
    """Rewrite the first member's declared size or flags in both its headers (zips that lie)."""
    raw = bytearray(data)
    local = raw.index(b"PK\x03\x04")
    central = raw.index(b"PK\x01\x02")
    if file_size is not None:
        struct.pack_into("<I", raw, local + 22, file_size)
        struct.pack_into("<I", raw, central + 24, file_size)
    if flag_bits is not None:
        struct.pack_into("<H", raw, local + 6, flag_bits)
        struct.pack_into("<H", raw, central + 8, flag_bits)
    return bytes(raw)


@pytest.fixture()
def subs(tmp_path: Path) -> Path:
    """An empty submissions folder."""
    folder = tmp_path / "subs"
    folder.mkdir()
    return folder


# ---------------------------------------------------------------------------------------------
# the ordinary cases


def test_class_folder_with_every_kind_of_entry(tmp_path: Path, subs: Path) -> None:
    """Folders, zips and notebooks are submissions; hidden and unrelated files are not."""
    write(subs / "alice" / "activations.py", RELU)
    write(subs / "alice" / "helpers.py", "X = 1\n")
    make_zip(subs / "bob.zip", {"activations.py": RELU, "leaky_relu.py": LEAKY})
    relu_cell = "def relu(z):\n    return np.maximum(0, z)\n"
    write(subs / "carol.ipynb", notebook("import numpy as np\n", relu_cell))
    for junk in ("README.md", ".DS_Store", "notes.txt", "stray.py"):
        write(subs / junk, "x")
    write(subs / ".hidden" / "activations.py", RELU)
    found = run(tmp_path, subs)
    assert [s.id for s in found] == ["alice", "bob", "carol"]
    alice, bob, carol = found
    assert alice.sources == {"activations": RELU, "helpers": "X = 1\n"}
    assert alice.origin == "alice" and alice.error is None and alice.problems == ()
    assert bob.sources == {"activations": RELU, "leaky_relu": LEAKY} and bob.origin == "bob.zip"
    assert carol.origin == "carol.ipynb" and carol.error is None
    assert set(carol.sources) == {"activations"}  # softmax_debug needs softmax
    assert "def relu" in carol.sources["activations"]


def test_ids_are_sorted_without_regard_to_case(tmp_path: Path, subs: Path) -> None:
    """Reports list students alphabetically."""
    for name in ("zoe", "Bob", "alice"):
        write(subs / name / "activations.py", RELU)
    assert [s.id for s in run(tmp_path, subs)] == ["alice", "Bob", "zoe"]


def test_a_single_submission_folder(tmp_path: Path) -> None:
    """A folder that holds an exercise module is one submission named after the folder."""
    folder = tmp_path / "alice"
    write(folder / "activations.py", RELU)
    write(folder / "scaling.py", "")
    (found,) = run(tmp_path, folder)
    assert found.id == "alice"
    assert found.sources == {"activations": RELU, "scaling": ""}  # empty files are kept


def test_a_single_zip_and_a_single_notebook(tmp_path: Path) -> None:
    """A .zip or .ipynb path is one submission named after the file."""
    archive = make_zip(tmp_path / "in" / "dave.zip", {"activations.py": RELU})
    nb = write(tmp_path / "in" / "erin.ipynb", notebook("def leaky_relu(z):\n    return z\n"))
    (zipped,) = run(tmp_path, archive)
    (book,) = run(tmp_path, nb)
    assert (zipped.id, zipped.sources) == ("dave", {"activations": RELU})
    assert book.id == "erin" and set(book.sources) == {"leaky_relu"}


def test_nested_layouts_take_the_shallowest_match(tmp_path: Path, subs: Path) -> None:
    """A zipped folder or the handout layout is found; helpers come only from the modules' folder."""
    make_zip(
        subs / "alice.zip",
        {
            "alice/activations.py": RELU,
            "alice/util.py": "U = 2\n",
            "alice/old/activations.py": "# older\n",
            "setup.py": "# not beside the modules\n",
        },
    )
    make_zip(
        subs / "bob.zip",
        {
            "exercises/activations/activations.py": RELU,
            "exercises/activations/test_activations.py": "# handout test\n",
            "exercises/activations/conftest.py": "",
            "exercises/leaky_relu/leaky_relu.py": LEAKY,
            "exercises/leaky_relu/shared.py": "S = 1\n",
            "a/b/c/d/scaling.py": "# four folders deep: too deep\n",
        },
    )
    found = by_id(run(tmp_path, subs))
    assert found["alice"].sources == {"activations": RELU, "util": "U = 2\n"}
    assert found["alice"].problems == ()
    assert found["bob"].sources == {"activations": RELU, "leaky_relu": LEAKY, "shared": "S = 1\n"}


def test_two_matches_at_the_same_depth_take_the_first_with_a_note(tmp_path: Path, subs: Path) -> None:
    """Ambiguity is resolved deterministically and told to the student."""
    write(subs / "alice" / "b" / "activations.py", "# b\n")
    write(subs / "alice" / "a" / "activations.py", RELU)
    (alice,) = run(tmp_path, subs)
    assert alice.sources["activations"] == RELU
    assert alice.problems == (
        "found more than one activations.py at the same depth (a/activations.py and "
        "b/activations.py); graded a/activations.py",
    )


def test_wrong_case_is_pointed_out(tmp_path: Path, subs: Path) -> None:
    """Activations.py is not activations.py, but the student learns why."""
    write(subs / "alice" / "Activations.py", RELU)
    write(subs / "alice" / "leaky_relu.py", LEAKY)
    (alice,) = run(tmp_path, subs)
    assert "activations" not in alice.sources
    assert any("found Activations.py" in p for p in alice.problems)


def test_nothing_usable_is_an_error(tmp_path: Path, subs: Path) -> None:
    """A submission without any exercise module cannot be graded."""
    write(subs / "alice" / "notes.txt", "hi")
    (alice,) = run(tmp_path, subs)
    assert alice.error is not None and alice.error.startswith("no exercise files found in alice")


def test_duplicate_ids_are_kept_apart_and_noted(tmp_path: Path, subs: Path) -> None:
    """alice/ and alice.zip are both graded, under distinct ids, each with a note."""
    write(subs / "alice" / "activations.py", RELU)
    make_zip(subs / "alice.zip", {"activations.py": "# zipped\n"})
    write(subs / "alice.ipynb", notebook("def relu(z):\n    return z\n"))
    found = by_id(run(tmp_path, subs))
    assert set(found) == {"alice", "alice-zip", "alice-ipynb"}
    assert found["alice"].origin == "alice" and found["alice-zip"].origin == "alice.zip"
    note = (
        "there were 3 entries for alice (alice and alice.zip and alice.ipynb); "
        "each was graded on its own, as alice and alice-zip and alice-ipynb"
    )
    assert all(s.problems[0] == note for s in found.values())


def test_ids_differing_only_in_case_stay_distinct(tmp_path: Path, subs: Path) -> None:
    """Output folders may live on a case-insensitive file system."""
    write(subs / "Alice" / "activations.py", RELU)
    write(subs / "alice" / "activations.py", RELU)
    ids = [s.id for s in run(tmp_path, subs)]
    assert len({i.casefold() for i in ids}) == 2


def test_unsafe_entry_names_get_safe_ids(tmp_path: Path, subs: Path) -> None:
    """Whatever the entry is called, its id is a plain folder name; the origin keeps the real name."""
    write(subs / "José Ñ (late)!" / "activations.py", RELU)
    write(subs / "-rf" / "activations.py", RELU)
    found = run(tmp_path, subs)
    for sub in found:
        assert re.fullmatch(r"[A-Za-z0-9._ -]+", sub.id) and not sub.id.startswith((".", "-"))
    assert {s.origin for s in found} == {"José Ñ (late)!", "-rf"}


# ---------------------------------------------------------------------------------------------
# usage errors


def test_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    """One clear line naming the path."""
    missing = tmp_path / "nope"
    with pytest.raises(UsageError) as caught:
        run(tmp_path, missing)
    assert str(caught.value) == f"submissions path {missing} does not exist"


@pytest.mark.parametrize("content", [None, "README.md", ".DS_Store"])
def test_folder_without_submissions_is_a_usage_error(
    tmp_path: Path, subs: Path, content: str | None
) -> None:
    """An empty folder, or one with only unrelated files, has nothing to grade."""
    if content:
        write(subs / content, "x")
    with pytest.raises(UsageError) as caught:
        run(tmp_path, subs)
    assert str(caught.value) == f"no submissions found in {subs}: expected folders, .zip or .ipynb files"


def test_a_path_of_the_wrong_kind_is_a_usage_error(tmp_path: Path) -> None:
    """A .txt file is not a submission."""
    text = write(tmp_path / "grades.txt", "x")
    with pytest.raises(UsageError, match=r"is not a folder, a \.zip file or a \.ipynb notebook$"):
        run(tmp_path, text)


# ---------------------------------------------------------------------------------------------
# hostile or broken files in folders


def test_symlinks_are_never_followed_nor_their_targets_shown(tmp_path: Path, subs: Path) -> None:
    """Links to files and folders outside the submission are skipped with a note naming the link only."""
    secret = write(tmp_path / "secret-target-xyz" / "activations.py", "SECRET = 'token'\n")
    write(subs / "alice" / "leaky_relu.py", LEAKY)
    (subs / "alice" / "activations.py").symlink_to(secret)
    (subs / "alice" / "linked").symlink_to(secret.parent, target_is_directory=True)
    (subs / "mallory").symlink_to(secret.parent, target_is_directory=True)
    (subs / "trudy.zip").symlink_to(secret)
    found = by_id(run(tmp_path, subs))
    for sub in found.values():
        assert "secret-target-xyz" not in repr(sub) and "SECRET" not in repr(sub)
    alice = found["alice"]
    assert set(alice.sources) == {"leaky_relu"}
    not_followed = "is a symbolic link; links are not followed, so it was not graded"
    assert f"activations.py {not_followed}" in alice.problems
    assert f"linked {not_followed}" in alice.problems
    assert found["mallory"].error == f"mallory {not_followed}"
    assert found["trudy"].error is not None and "symbolic link" in found["trudy"].error


def test_a_huge_source_file_is_skipped_with_its_size(tmp_path: Path, subs: Path) -> None:
    """A 50 MB activations.py is never read; a sparse file makes this instant."""
    big = write(subs / "alice" / "activations.py", b"")
    os.truncate(big, 50 * 1024 * 1024)
    write(subs / "alice" / "leaky_relu.py", LEAKY)
    (alice,) = run(tmp_path, subs)
    assert "activations" not in alice.sources
    assert alice.problems == (
        "activations.py is 50.0 MB, larger than the 1 MiB limit; it was not graded",
    )


def test_binary_and_non_utf8_sources(tmp_path: Path, subs: Path) -> None:
    """NUL bytes mean not source at all; bad UTF-8 is kept (with a note) so Python reports it."""
    write(subs / "alice" / "activations.py", b"\x7fELF\x00\x00\x01binary")
    write(subs / "alice" / "leaky_relu.py", b"# caf\xe9\ndef leaky_relu(z):\n    return z\n")
    write(subs / "alice" / "scaling.py", b"# -*- coding: latin-1 -*-\nNAME = 'caf\xe9'\n")
    (alice,) = run(tmp_path, subs)
    assert "activations" not in alice.sources
    assert "\ufffd" in alice.sources["leaky_relu"]
    assert "café" in alice.sources["scaling"]  # a declared encoding is honoured, without a note
    assert alice.problems == (
        "activations.py is a binary file, not Python source; it was not graded",
        "leaky_relu.py is not valid UTF-8 text; unreadable characters were replaced with \ufffd",
    )


def test_special_files_are_skipped(tmp_path: Path, subs: Path) -> None:
    """A FIFO named like a module would block a reader; it is noted and skipped."""
    write(subs / "alice" / "leaky_relu.py", LEAKY)
    os.mkfifo(subs / "alice" / "activations.py")
    (alice,) = run(tmp_path, subs)
    assert alice.problems == ("activations.py is not a regular file; it was skipped",)


def test_the_byte_budget_stops_reading(tmp_path: Path, subs: Path) -> None:
    """No submission gets more than 20 MiB read, however many files it holds."""
    write(subs / "alice" / "activations.py", RELU)
    filler = b"#" * (1024 * 1024 - 10)
    for n in range(22):
        write(subs / "alice" / f"helper{n:02d}.py", filler)
    (alice,) = run(tmp_path, subs)
    assert "activations" in alice.sources
    assert any("the submission holds more than 20 MiB" in p for p in alice.problems)
    assert sum(len(s) for s in alice.sources.values()) <= 20 * 1024 * 1024


# ---------------------------------------------------------------------------------------------
# hostile or broken zips


def test_zip_members_that_escape_are_skipped(tmp_path: Path, subs: Path) -> None:
    """Absolute paths, '..' and drive letters are refused; the rest of the zip is graded."""
    make_zip(
        subs / "alice.zip",
        {
            "../evil.py": "x",
            "/abs.py": "x",
            "C:/win.py": "x",
            "a\\..\\..\\evil.py": "x",
            "ok/../../evil.py": "x",
            "activations.py": RELU,
        },
    )
    (alice,) = run(tmp_path, subs)
    assert alice.sources == {"activations": RELU}
    assert len(alice.problems) == 5
    assert all(p.endswith("its path points outside the submission") for p in alice.problems)
    assert "skipped archive member '../evil.py': its path points outside the submission" in (
        alice.problems
    )


def test_zip_symlink_members_are_skipped(tmp_path: Path, subs: Path) -> None:
    """A member whose mode bits say symlink is never treated as a file."""
    archive = subs / "alice.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        link = zipfile.ZipInfo("activations.py")
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
        zf.writestr("leaky_relu.py", LEAKY)
    (alice,) = run(tmp_path, subs)
    assert alice.sources == {"leaky_relu": LEAKY}
    assert alice.problems == ("skipped archive member 'activations.py': it is a symbolic link",)


def test_zip_bombs_are_not_decompressed(tmp_path: Path, subs: Path) -> None:
    """Declared-huge, suspiciously compressible, and lying-header members are all refused."""
    make_zip(subs / "big.zip", {"activations.py": b"\0" * (60 * 1024 * 1024)})
    make_zip(subs / "dense.zip", {"activations.py": b" " * (900 * 1024), "leaky_relu.py": LEAKY})
    honest = io.BytesIO()
    with zipfile.ZipFile(honest, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("activations.py", b"#" * (5 * 1024 * 1024))
    write(subs / "liar.zip", patch_zip(honest.getvalue(), file_size=1000))
    found = by_id(run(tmp_path, subs))
    assert found["big"].problems == (
        "activations.py is 60.0 MB, larger than the 1 MiB limit; it was not graded",
    )
    assert found["dense"].sources == {"leaky_relu": LEAKY}
    assert "possible zip bomb" in found["dense"].problems[0]
    liar = found["liar"]
    assert liar.error is not None and liar.error.startswith("liar.zip is not a readable zip file: ")
    assert liar.sources == {}


def test_the_streaming_cap_holds_when_the_header_understates(tmp_path: Path, subs: Path) -> None:
    """A stored member that claims 1 MiB but whose data runs on is cut at the cap, not trusted."""
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("activations.py", b"#" * (2 * 1024 * 1024))
    write(subs / "alice.zip", patch_zip(data.getvalue(), file_size=1024 * 1024))
    (alice,) = run(tmp_path, subs)
    assert alice.sources == {}
    assert alice.error is not None and "is not a readable zip file" in alice.error


def test_corrupt_and_truncated_zips_are_errors(tmp_path: Path, subs: Path) -> None:
    """Garbage, a cut-off download and a bad CRC each give the submission an error, not a crash."""
    write(subs / "garbage.zip", b"this is not a zip at all")
    good = make_zip(tmp_path / "good.zip", {"activations.py": RELU * 50})
    write(subs / "cut.zip", good.read_bytes()[: good.stat().st_size // 2])
    stored = io.BytesIO()
    with zipfile.ZipFile(stored, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("activations.py", RELU)
    raw = bytearray(stored.getvalue())
    raw[raw.index(b"np.maximum")] ^= 0x20  # flip a byte of the stored data
    write(subs / "crc.zip", bytes(raw))
    good.unlink()
    found = by_id(run(tmp_path, subs))
    for name in ("garbage", "cut", "crc"):
        assert (found[name].error or "").startswith(f"{name}.zip is not a readable zip file: ")
    assert "CRC" in (found["crc"].error or "")


def test_encrypted_members_are_skipped(tmp_path: Path, subs: Path) -> None:
    """Password-protected members cannot be read; the student is told."""
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as zf:
        zf.writestr("activations.py", RELU)
    write(subs / "alice.zip", patch_zip(data.getvalue(), flag_bits=0x1))
    (alice,) = run(tmp_path, subs)
    assert alice.problems == ("skipped archive member 'activations.py': it is password-protected",)


def test_nested_archives_and_mac_clutter(tmp_path: Path, subs: Path) -> None:
    """An inner zip is noted, never opened; __MACOSX and dot files vanish silently."""
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("scaling.py", "# inside\n")
    make_zip(
        subs / "alice.zip",
        {
            "activations.py": RELU,
            "inner.zip": inner.getvalue(),
            "__MACOSX/._activations.py": b"\0\5\26\7",
            "._leaky_relu.py": b"\0",
            "folder/": b"",
        },
    )
    (alice,) = run(tmp_path, subs)
    assert alice.sources == {"activations": RELU}
    assert alice.problems == ("nested archive inner.zip was ignored; submit the .py files directly",)


def test_member_names_in_notes_are_printable_and_short(tmp_path: Path, subs: Path) -> None:
    """A hostile name cannot flood or forge lines in a report."""
    hostile = {"a\nforged line" + "x" * 5000 + ".zip": b"", "../" + "y" * 5000: b""}
    make_zip(subs / "alice.zip", hostile)
    write(subs / "bob" / ("b\x1b[31m" + "z" * 200 + ".zip"), b"")
    os.symlink("/", subs / "bob" / "link\nname")
    found = run(tmp_path, subs)
    notes = [p for s in found for p in s.problems]
    assert len(notes) == 4
    assert all(len(n) < 200 and n.isprintable() for n in notes), notes


def test_too_many_members_is_an_error(tmp_path: Path, subs: Path) -> None:
    """A zip of thousands of files is refused as a whole."""
    members = {f"f{n}.txt": "" for n in range(MAX_FILES + 1)}
    make_zip(subs / "alice.zip", members | {"activations.py": RELU})
    (alice,) = run(tmp_path, subs)
    assert alice.error == "alice.zip holds more than 2,000 files; send only your exercises"


def test_an_oversized_archive_is_not_opened(tmp_path: Path, subs: Path) -> None:
    """The archive file itself is capped before any parsing."""
    big = write(subs / "alice.zip", b"")
    os.truncate(big, 30 * 1024 * 1024)
    (alice,) = run(tmp_path, subs)
    assert alice.error == (
        "alice.zip is 30.0 MB, larger than the 20 MiB limit for an archive; it was not graded"
    )


# ---------------------------------------------------------------------------------------------
# safe_id


@pytest.mark.parametrize(
    "name",
    ["", ".", "..", "...", ".hidden", "a/b", "../../etc", "con", "NUL.txt", " x ", "x" * 500, "é",
     "\0", "-rf"],
)
def test_safe_id_handles_awkward_names(name: str) -> None:
    """Never empty, never a dot name, never hidden, always short."""
    _check_safe(safe_id(name))


def test_safe_id_keeps_plain_names_and_separates_sanitised_ones() -> None:
    """Clean names pass through; names that clash once cleaned get different hashes."""
    assert safe_id("alice_smith-2.v1") == "alice_smith-2.v1"
    assert safe_id("a?") != safe_id("a*") != safe_id("a_")
    assert safe_id("x" * 100) != safe_id("x" * 101)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_safe_id_is_always_safe(name: str) -> None:
    """Property: any text maps to a safe, deterministic id."""
    result = safe_id(name)
    _check_safe(result)
    assert safe_id(name) == result


def _check_safe(result: str) -> None:
    """The id contract."""
    assert re.fullmatch(r"[A-Za-z0-9._ -]+", result)
    assert result not in (".", "..") and not result.startswith(".")
    assert len(result) <= 80


# ---------------------------------------------------------------------------------------------
# fuzzing


_NAME_PARTS = st.sampled_from(
    ["..", ".", "", "/", "\\", "C:", "activations.py", "leaky_relu.py", "x.ipynb", "a", "__MACOSX",
     "é", "\u202e"]
)
_NAMES = st.one_of(
    st.lists(_NAME_PARTS, min_size=1, max_size=6).map("/".join),
    st.text(min_size=1, max_size=40),
    st.text(alphabet="a./\\", min_size=200, max_size=300),
)


def _fuzz_zip(members: list[tuple[str, bytes, bool, bool]]) -> bytes:
    """A zip with arbitrary names and bytes, some stored, some flagged as symlinks."""
    data = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(data, "w") as zf:
        warnings.simplefilter("ignore")  # duplicate member names are part of the attack surface
        for name, content, stored, link in members:
            info = zipfile.ZipInfo(name.replace("\0", "") or "x")
            info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            if link:
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, content)
    return data.getvalue()


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    members=st.lists(
        st.tuples(_NAMES, st.binary(max_size=300), st.booleans(), st.booleans()), min_size=1, max_size=8
    ),
    cut=st.one_of(st.none(), st.integers(min_value=0, max_value=2000)),
    flips=st.lists(st.integers(min_value=0, max_value=5000), max_size=3),
)
def test_random_zips_never_break_discovery(
    tmp_path: Path, members: list[tuple[str, bytes, bool, bool]], cut: int | None, flips: list[int]
) -> None:
    """Property: any zip, even a damaged one, yields Submissions and writes nothing outside workdir."""
    raw = bytearray(_fuzz_zip(members))
    for flip in flips:
        if raw:
            raw[flip % len(raw)] ^= 0xFF
    case = tmp_path / f"case{len(list(tmp_path.iterdir()))}"
    write(case / "subs" / "student.zip", bytes(raw if cut is None else raw[:cut]))
    (found,) = run(case, case / "subs")
    assert isinstance(found, Submission) and found.id == "student"
    assert found.error is None or "could not be processed" not in found.error  # never the last resort
    for name, text in found.sources.items():
        assert name.isidentifier() and isinstance(text, str)


def test_a_rough_count_before_reading_anything(tmp_path: Path) -> None:
    (tmp_path / "class" / "alice").mkdir(parents=True)
    (tmp_path / "class" / "bob.zip").write_bytes(b"")
    (tmp_path / "class" / "notes.txt").write_text("")
    (tmp_path / "one").mkdir()
    (tmp_path / "one" / "activations.py").write_text("")
    (tmp_path / "one" / "helpers").mkdir()
    assert rough_count(tmp_path / "class") == 3  # entries, not yet told apart
    assert rough_count(tmp_path / "one") == 1  # a single submission's folder
    assert rough_count(tmp_path / "missing") == 1
    assert rough_count(tmp_path / "class" / "bob.zip") == 1
