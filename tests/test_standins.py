"""The sandbox child's stand-ins: display-only libraries, input(), modules the grader lacks.

Each check runs in a fresh Python process, as the child would set it up, so nothing patched here
reaches the test process.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap

import pytest

SETUP = '''
import importlib.abc, sys, types, warnings
from grader.sandbox import standins

class Submission(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        return None

first = Submission()
sys.meta_path.insert(0, first)
notebook = "# %% notebook lesson.ipynb, cell 3\\nx = 1\\ny = (\\n"
standins.install(first, {"activations": notebook})
'''


def run_child(body: str) -> str:
    """Run SETUP then body in a new process; return what it printed (it must exit 0)."""
    code = SETUP + textwrap.dedent(body)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_display_only_libraries_are_stand_ins_when_not_installed() -> None:
    """The lesson's plotting and display idioms all run and do nothing."""
    run_child('''
        # As where none of them is installed: the stand-in finder answers first.
        sys.meta_path.insert(0, standins.StandInFinder())
        import matplotlib
        import matplotlib.pyplot as plt
        import seaborn as sns
        import mpl_toolkits.mplot3d
        from IPython.display import HTML, Markdown, clear_output, display
        from matplotlib import cm
        matplotlib.use("Agg")
        fig, ax = plt.subplots()
        fig, (left, right) = plt.subplots(1, 2, figsize=(8, 3))
        fig, axes = plt.subplots(2, 3)
        assert axes.shape == (2, 3) and plt.subplots(2, 2, squeeze=False)[1].shape == (2, 2)
        for one in axes.flat:
            one.plot([1, 2], [3, 4], label="relu")[0].set_color("red")
            one.legend()
        plt.rcParams["figure.figsize"] = (8, 4)
        plt.rcParams.update({"font.size": 12})
        with plt.style.context("ggplot"):
            plt.plot([1])
        plt.figure(figsize=(6, 4)).add_subplot(111, projection="3d").plot_surface(1, 2, 3)
        sns.set_theme(style="whitegrid")
        sns.lineplot(x=[1, 2], y=[3, 4])
        display(HTML("<b>relu</b>"), Markdown("**done**"))
        clear_output(wait=True)
        plt.savefig("relu.png")
        plt.show()
        assert fig and list(fig) == [] and "stand-in" in repr(cm.viridis)
        assert isinstance(plt, standins.StandInModule)
        for probe in ("__array__", "__array_interface__"):
            assert not hasattr(plt.plot(), probe)
        print("ok")
    ''')


def test_input_answers_nothing_and_display_is_a_builtin() -> None:
    """input() returns "" (its prompt is printed); display() works without an import."""
    out = run_child('''
        assert input("How many points? ") == ""
        assert display("x") is None
        print("|ok")
    ''')
    assert out == "How many points? |ok\n"


def test_a_missing_module_fails_only_where_it_is_used() -> None:
    """A rewritten import binds a stand-in that names the module and where it was imported."""
    run_child('''
        import math, os
        tf = standins.import_or_missing("tensorflow_not_here", "lesson.ipynb cell 5, line 1")
        try:
            tf.nn.relu(1)
        except ModuleNotFoundError as exc:
            assert exc.name == "tensorflow_not_here"
            assert str(exc) == ("No module named 'tensorflow_not_here': it is not installed "
                                "where your code is graded (imported at lesson.ipynb cell 5, "
                                "line 1)"), str(exc)
        else:
            raise AssertionError("no error")
        assert standins.import_or_missing("math", "x", attribute="pi") == math.pi
        assert standins.import_or_missing("os.path", "x", top=True) is os
        assert standins.import_or_missing("os.path", "x") is os.path
        assert tf is not None and bool(tf)
        print("ok")
    ''')


def test_lines_of_notebook_modules_are_named_by_cell() -> None:
    """Messages name the notebook cell and its line; other modules keep file and line."""
    run_child('''
        assert standins.place("activations.py", 3) == ("lesson.ipynb cell 3, line 2", "y = ("), \\
            standins.place("activations.py", 3)
        marker = "# %% notebook lesson.ipynb, cell 3"
        assert standins.place("activations.py", 1) == ("lesson.ipynb cell 3, line 0", marker)
        assert standins.place("scaling.py", 1) is None and standins.place(None, 1) is None
        print("ok")
    ''')


def test_a_fallback_runs_only_when_the_module_fails_and_matches_it() -> None:
    """The fallback made from this very source replaces it on a clean namespace."""
    run_child('''
        failing = "import numpy_not_here\\nSTATE = 1\\ndef relu(z):\\n    return z\\n"
        fallback = "\\n\\ndef relu(z):\\n    return z\\n" + standins.fallback_tag(failing)
        module = types.ModuleType("activations")
        standins.run_module(module, failing, fallback)
        assert module.relu(2) == 2 and not hasattr(module, "STATE")
        fine = types.ModuleType("activations")
        standins.run_module(fine, "STATE = 1\\n", fallback)
        assert fine.STATE == 1
        other = types.ModuleType("activations")
        try:
            standins.run_module(other, failing + "# changed\\n", fallback)
        except ModuleNotFoundError:
            pass
        else:
            raise AssertionError("a fallback made from another source was used")
        print("ok")
    ''')


@pytest.mark.skipif(importlib.util.find_spec("matplotlib") is None,
                    reason="matplotlib is not installed (the grader does not need it)")
def test_an_installed_matplotlib_draws_off_screen_and_shows_nothing() -> None:
    """The Agg backend, and show() that neither opens a window nor warns that it cannot."""
    run_child('''
        warnings.simplefilter("error")
        import matplotlib
        import matplotlib.pyplot as plt
        assert not isinstance(plt, standins.StandInModule)
        assert matplotlib.get_backend().lower() == "agg"
        fig, (left, right) = plt.subplots(1, 2)
        left.plot([1, 2], [3, 4])
        plt.show()
        fig.show()
        print("ok")
    ''')
