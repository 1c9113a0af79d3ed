"""``airoadmap cohort``: the instructor's grading commands, one verb per step.

    airoadmap cohort release [SLUG...]          generate student notebooks; exchange or handout/*.zip
    airoadmap cohort collect DOWNLOAD...        LMS folders/zips (or the exchange) -> submitted/
    airoadmap cohort autograde [SLUG]           sandboxed, limited, parallel, resumable
    airoadmap cohort report [SLUG]              reports/SLUG.csv and a table
    airoadmap cohort feedback [SLUG]            feedback/STUDENT/SLUG.html, without hidden tests
    airoadmap cohort similarity SLUG            pairs of alike answers, for a human to read

Every verb takes ``--course DIR`` (default ``./cohort``). Each is a thin wrapper around a function
of the same name in its own module, which the tests call directly.
"""
from __future__ import annotations

import functools

import click

from .cohort import CohortError
from .limits import DEFAULTS

course_option = click.option("--course", default="cohort", show_default=True, type=click.Path(file_okay=False),
                             help="The cohort's course folder (nbgrader layout plus cohort.toml).")


def friendly(fn):
    """Show a CohortError as a one-line message that says what to do, not a traceback."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except CohortError as e:
            raise click.ClickException(str(e)) from None
    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cohort() -> None:
    """Grade a cohort: release, collect, autograde, report, feedback, similarity."""


@cohort.command()
@course_option
@click.argument("slugs", nargs=-1)
@friendly
def release(course: str, slugs: tuple[str, ...]) -> None:
    """Generate the student notebooks (all, or SLUGS) and hand them out."""
    from .handout import release as run
    run(course, list(slugs) or None, echo=click.echo)


@cohort.command()
@course_option
@click.option("--assignment", "slug", help="Only this assignment (default: every released one).")
@click.argument("downloads", nargs=-1, type=click.Path(exists=True))
@friendly
def collect(course: str, slug: str | None, downloads: tuple[str, ...]) -> None:
    """Copy submissions from LMS DOWNLOADS (folders or .zip) or, with none, from the exchange."""
    from .collect import collect as run
    run(course, list(downloads), slug, echo=click.echo)


@cohort.command()
@course_option
@click.argument("slug", required=False)
@click.option("--workers", type=int, help="Submissions graded at once (default: the machine's cores).")
@click.option("--threads", type=int, help="Torch threads per kernel (default: cores // workers).")
@click.option("--force", is_flag=True, help="Regrade every submission, changed or not.")
@click.option("--student", "students", multiple=True, help="Only this student (repeatable).")
@click.option("--cell-timeout", type=int,
              help=f"Seconds per cell (default: cohort.toml, else {DEFAULTS.cell_timeout}).")
@click.option("--wall-clock", type=int,
              help=f"Seconds per notebook (default: cohort.toml, else {DEFAULTS.wall_clock}).")
@click.option("--memory-mb", type=int,
              help=f"Memory of each kernel in MB (default: cohort.toml, else {DEFAULTS.memory_mb}).")
@click.option("--processes", type=int,
              help=f"Processes and threads per kernel (default: cohort.toml, else {DEFAULTS.processes}).")
@click.option("--stop-after-last-test/--run-everything", default=None,
              help="Skip the cells after the last test (they cannot change a score; default: cohort.toml, else run).")
@click.option("--no-sandbox", is_flag=True, help="Run student code without bubblewrap isolation (trusted code only).")
@friendly
def autograde(course, slug, workers, threads, force, students, cell_timeout, wall_clock, memory_mb, processes,
              stop_after_last_test, no_sandbox) -> None:
    """Autograde every changed submission (of SLUG, or of every assignment)."""
    from .autograde import autograde as run
    summary = run(course, slug, workers=workers, threads=threads, force=force, students=list(students) or None,
                  limits={"cell_timeout": cell_timeout, "wall_clock": wall_clock, "memory_mb": memory_mb,
                          "processes": processes},
                  use_sandbox=not no_sandbox, stop_after_last_test=stop_after_last_test, echo=click.echo)
    not_graded = summary["not_graded"]
    click.echo(f"run {summary['run_id']}: graded {summary['graded']}, unchanged {summary['skipped']}, "
               f"not graded {len(not_graded)} ({summary['seconds']} s)")
    if not_graded:
        lines = "\n".join(f"  {who}: {why}" for who, why in sorted(not_graded.items()))
        raise click.ClickException(f"{len(not_graded)} submission(s) NOT GRADED (the grader's problem, not a "
                                   f"zero; fix the cause and run the command again: only these are regraded):\n{lines}")


@cohort.command()
@course_option
@click.argument("slug", required=False)
@friendly
def report(course: str, slug: str | None) -> None:
    """Write reports/SLUG.csv: scores per test, late penalties, limits, tamper flags, failures."""
    from .report import report as run
    run(course, slug, echo=click.echo)


@cohort.command()
@course_option
@click.argument("slug", required=False)
@click.option("--student", "students", multiple=True, help="Only this student (repeatable).")
@friendly
def feedback(course: str, slug: str | None, students: tuple[str, ...]) -> None:
    """Write feedback/STUDENT/SLUG.html for each graded submission (no hidden test source)."""
    from .feedback import feedback as run
    run(course, slug, list(students) or None, echo=click.echo)


@cohort.command()
@course_option
@click.argument("slug")
@click.option("--threshold", default=0.8, show_default=True, help="Jaccard similarity of token 5-grams to report.")
@friendly
def similarity(course: str, slug: str, threshold: float) -> None:
    """List pairs of students whose answers to SLUG are suspiciously alike."""
    from .similarity import similarity as run
    run(course, slug, threshold, echo=click.echo)
