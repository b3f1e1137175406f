"""Return values through the real sandbox: object arrays of numbers are read as numbers, and an
answer too big to send back is named by its size and shape, not as a memory failure."""

from __future__ import annotations

import textwrap
from typing import Iterator

import numpy as np
import pytest

from grader.judge import verdict
from grader.judge.checks import expect_array
from grader.judge.errors import StudentError
from grader.judge.proxy import StudentModule
from grader.sandbox.client import Sandbox, SandboxConfig
from grader.sandbox.session import Session

Z = np.array([-3.0, -1.0, 0.0, 1.0, 3.0])


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    work = tmp_path_factory.mktemp("work")
    box = Sandbox(SandboxConfig(timeout=2.0, memory_bytes=512 << 20, hide=(str(work),),
                                workdir=str(work)))
    yield box
    box.close()


def session_for(sandbox: Sandbox, source: str) -> Session:
    return sandbox.open({"activations": textwrap.dedent(source)})


def student_of(session: Session) -> StudentModule:
    return StudentModule(session, "activations", lambda _: None)


def test_frompyfunc_result_passes_the_comparison(sandbox: Sandbox) -> None:
    session = session_for(sandbox, """
        import numpy as np
        def relu(z): return np.frompyfunc(lambda x: max(x, 0), 1, 1)(z)
        def step(z): return np.vectorize(lambda x: x if x > 0 else 0)(z.astype(object))
    """)
    student = student_of(session)
    got = student.relu(Z)
    assert isinstance(got, np.ndarray) and got.dtype == np.float64
    expect_array(got, np.maximum(Z, 0), inp=Z, what="relu(z)")
    ints = np.array([-3, -1, 0, 1, 3])
    expect_array(student.relu(ints), [0, 0, 0, 1, 3], inp=ints, what="relu(z)")
    expect_array(student.step(Z), np.maximum(Z, 0), inp=Z, what="step(z)")
    session.close()


def test_large_object_array_is_read_within_the_call_limit(sandbox: Sandbox) -> None:
    # Two million entries (one shared float): 16 MB of pointers, read and sent in well
    # under the 2 s a call may take.
    session = session_for(sandbox, """
        import numpy as np
        def relu(z): return np.full(2_000_000, 1.5, dtype=object)
    """)
    result = session.call("activations", "relu", (Z,), {})
    assert result.ok and isinstance(result.value, np.ndarray)
    assert result.value.shape == (2_000_000,) and float(result.value[-1]) == 1.5
    session.close()


@pytest.mark.parametrize("body, words", [
    ("np.array([1.0, 'one', 2.0], dtype=object)",
     "returned a NumPy array of dtype object whose entry 1 is of type str, not a number"),
    ("np.array([1.0, Sneaky()], dtype=object)",
     "returned a NumPy array of dtype object whose entry 1 is of type Sneaky, not a number"),
])
def test_object_array_of_other_things_fails_clearly(sandbox: Sandbox, body: str,
                                                    words: str) -> None:
    # Sneaky's conversions would end the child: the call would then report a crash.
    session = session_for(sandbox, f"""
        import os
        import numpy as np
        class Sneaky(float):
            def __float__(self): os._exit(7)
            def __index__(self): os._exit(7)
        def relu(z): return {body}
    """)
    result = session.call("activations", "relu", (Z,), {})
    assert result.kind == "bad_return" and result.message == words
    session.close()


@pytest.mark.parametrize("body, words", [
    # np.zeros leaves its pages untouched: 96 MB as NumPy counts it, next to nothing in memory.
    ("np.zeros(12_000_000)", "12,000,000 values (float64, shape (12000000,))"),
    # A view of one number: the size of the report, with nothing allocated at all.
    ("np.broadcast_to(np.float64(0.0), (10**8,))", "100,000,000 values (float64, shape (100000000,))"),
    ("np.broadcast_to(np.float32(0.0), (4, 5_000_000))", "20,000,000 values (float32, shape (4, 5000000))"),
    ("np.broadcast_to(np.array(1, dtype=object), (10**7,))",
     "10,000,000 values (object, shape (10000000,))"),
])
def test_too_big_answer_names_its_size(sandbox: Sandbox, body: str, words: str) -> None:
    session = session_for(sandbox, f"import numpy as np\ndef relu(z): return {body}\n")
    with pytest.raises(StudentError) as raised:
        student_of(session).relu(Z)
    found = verdict.failure(raised.value, "relu")
    assert found["kind"] == "error" and found["error_kind"] == "too_big"
    assert found["message"] == (f"your relu() returned {words}, more than an answer may hold "
                                "(32 MiB)")
    session.close()


def test_too_big_answer_in_a_batch_is_named_too(sandbox: Sandbox) -> None:
    session = session_for(sandbox, """
        import numpy as np
        def relu(z): return np.zeros(10**7) if z[0] > 0 else np.maximum(z, 0)
    """)
    batch = session.call_many("activations", "relu", [((Z,), {}), ((-Z,), {})])
    assert batch is not None
    assert batch.result(0).ok
    big = batch.result(1)
    assert big.kind == "too_big" and big.message.startswith("your relu() returned 10,000,000 values")
    session.close()


def test_answer_just_under_the_cap_still_arrives(sandbox: Sandbox) -> None:
    session = session_for(sandbox, "import numpy as np\n"
                                   "def relu(z): return np.zeros((2, 2_000_000))\n")
    result = session.call("activations", "relu", (Z,), {})
    assert result.ok and isinstance(result.value, np.ndarray)
    assert result.value.shape == (2, 2_000_000)
    session.close()
