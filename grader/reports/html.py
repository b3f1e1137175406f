"""HTML reports: one feedback page per student and a class summary for the instructor.

Everything a page shows comes from the typed view models in grader.reports.context and
grader.reports.index_context; the templates only lay them out. Student ids, messages and printed
output are hostile text, so every template is autoescaped and an undefined name is an error
rather than an empty string.
"""

from __future__ import annotations

import base64
import hashlib

import jinja2
from markupsafe import Markup

from grader import paths
from grader.records import GradeRun, SubmissionResult
from grader.reports.context import REVEALS, Reveal, feedback_page
from grader.reports.index_context import index_page

SORT_SCRIPT_TEMPLATE = "_sort_table.js.j2"


def make_environment() -> jinja2.Environment:
    """A Jinja2 environment over the shipped templates, escaping everything it renders."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(paths.templates_dir())),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


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
    script = env.get_template(SORT_SCRIPT_TEMPLATE).render()
    # The page's Content-Security-Policy allows this one script by its hash and no other, so
    # even a student id that slipped past escaping could not run code on the instructor's page.
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    return env.get_template("index.html.j2").render(
        page=index_page(run), sort_script=Markup(script), script_hash=f"sha256-{digest}")


def _reveal(reveal: str) -> Reveal:
    for level in REVEALS:
        if reveal == level:
            return level
    raise ValueError(f"reveal must be one of {', '.join(REVEALS)}, not {reveal!r}")
