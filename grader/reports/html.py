"""HTML reports: one feedback page per student and a class summary for the instructor.

Everything a page shows comes from the typed view models in grader.reports.context and
grader.reports.index_context; the templates only lay them out. Student ids, messages and printed
output are hostile text, so every template is autoescaped and an undefined name is an error
rather than an empty string.

The environment (and so every compiled template) is made once per process. Pieces of the feedback
page that many students share are rendered once per distinct view model (see SharedFragments).
The class summary, megabytes for a large class, is written to its file as it is rendered
(write_index_page).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from pathlib import Path

import jinja2
from markupsafe import Markup

from grader import course, paths
from grader.atomic import AtomicFile
from grader.records import GradeRun, SubmissionResult
from grader.reports.context import REVEALS, Reveal, feedback_page
from grader.reports.index_context import IndexPage, index_page

SORT_SCRIPT_TEMPLATE = "_sort_table.js.j2"
WRITE_CHARS = 1 << 13
"""Characters of a page gathered before they are written out together."""
SHARED_CHARS = 4_000_000
"""Most characters of shared fragments kept at once, so memory stays flat however large the class."""


class SharedFragments:
    """Renders macro(view) once per distinct view and hands the same markup to later pages.

    The view models are frozen dataclasses of already-worded (and, by the macro, escaped) text, so
    equal views render to equal markup; a class's many correct answers make most exercise sections
    of most pages equal. Least recently used fragments are dropped past `limit` characters.
    """

    def __init__(self, limit: int = SHARED_CHARS) -> None:
        self._limit = limit
        self._chars = 0
        self._kept: OrderedDict[tuple[object, Hashable], Markup] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, view: Hashable, macro: Callable[[object], str]) -> Markup:
        """The template filter: {{ view|shared(macro) }}."""
        key = (macro, view)
        with self._lock:
            found = self._kept.get(key)
            if found is not None:
                self._kept.move_to_end(key)
                return found
        made = Markup(macro(view))
        with self._lock:
            if key not in self._kept and len(made) <= self._limit:
                self._kept[key] = made
                self._chars += len(made)
                while self._chars > self._limit:
                    self._chars -= len(self._kept.popitem(last=False)[1])
        return made


def make_environment() -> jinja2.Environment:
    """The Jinja2 environment over the shipped templates, escaping everything it renders.

    Made once per templates folder and process: compiling the templates costs more than
    rendering a dozen pages.
    """
    env = _environment(str(paths.templates_dir()))
    taught = course.current()
    env.globals.update(course_title=taught.title, product=taught.product)
    return env


@functools.lru_cache(maxsize=4)
def _environment(folder: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    env.filters["shared"] = SharedFragments()
    return env


FEEDBACK_TEMPLATES = ("feedback.html.j2", "base.html.j2", "_macros.html.j2",
                      "_feedback_parts.html.j2")


def load_feedback_templates(env: jinja2.Environment) -> None:
    """Compile every template a feedback page uses now (e.g. before forking render workers)."""
    for name in FEEDBACK_TEMPLATES:
        env.get_template(name)


def render_feedback(env: jinja2.Environment, run: GradeRun, result: SubmissionResult, *,
                    reveal: str = "none") -> str:
    """The feedback page of one submission.

    reveal decides what a student learns about hidden tests: "none" gives counts and the lesson's
    hint for a failure, "names" adds each hidden test's title and outcome, "all" adds its message.
    """
    level = _reveal(reveal)
    page = feedback_page(run, result, level)
    return env.get_template("feedback.html.j2").render(page=page)


def render_index(env: jinja2.Environment, run: GradeRun) -> str:
    """The class summary page, linking to every student's feedback page."""
    return render_index_page(env, index_page(run))


def render_index_page(env: jinja2.Environment, page: IndexPage) -> str:
    """The class summary page of a view model gathered beforehand (see IndexBuilder)."""
    return "".join(index_chunks(env, page))


def write_index_page(env: jinja2.Environment, page: IndexPage, path: Path) -> Path:
    """Write the class summary page to path atomically, a piece at a time: the page of a large
    class runs to megabytes that are never held at once (its rows too are made as they go)."""
    with AtomicFile(path) as out:
        pending: list[str] = []
        size = 0
        for chunk in index_chunks(env, page):
            pending.append(chunk)
            size += len(chunk)
            if size >= WRITE_CHARS:  # one write per many chunks: the chunks are tiny
                out.write("".join(pending))
                pending.clear()
                size = 0
        out.write("".join(pending))
        return out.commit()


def index_chunks(env: jinja2.Environment, page: IndexPage) -> Iterator[str]:
    """The class summary page in the pieces the template makes it of, in order."""
    script = env.get_template(SORT_SCRIPT_TEMPLATE).render()
    # The page's Content-Security-Policy allows this one script by its hash and no other, so
    # even a student id that slipped past escaping could not run code on the instructor's page.
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    return env.get_template("index.html.j2").generate(
        page=page, sort_script=Markup(script), script_hash=f"sha256-{digest}")


def _reveal(reveal: str) -> Reveal:
    for level in REVEALS:
        if reveal == level:
            return level
    raise ValueError(f"reveal must be one of {', '.join(REVEALS)}, not {reveal!r}")
