"""The ``airoadmap`` command: set up and run the course, release and grade it.

    airoadmap assets       prepare the offline models and datasets (idempotent; --for SLUG...: only theirs)
    airoadmap lab          start JupyterLab on 127.0.0.1 with course/ open
    airoadmap release      regenerate course/ from solutions/ with nbgrader
    airoadmap solutions    execute the solution notebooks and write a report
    airoadmap progress     which of your exercises in course/ pass their visible tests
    airoadmap cohort ...   instructors: release, collect, autograde, report, feedback, similarity
"""
from __future__ import annotations

import sys

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ai-engineer-roadmap")
def main() -> None:
    """The AI-engineer roadmap course tools."""


@main.command()
@click.option("--force", is_flag=True, help="Rebuild the assets even if they are already prepared.")
@click.option("--for", "for_slugs", multiple=True, metavar="SLUG",
              help="Prepare only what these notebooks need (e.g. --for 11-dpo 12-grpo).")
@click.argument("more_slugs", nargs=-1, metavar="[SLUG]...")
def assets(force: bool, for_slugs: tuple[str, ...], more_slugs: tuple[str, ...]) -> None:
    """Prepare the offline models and datasets (a second run takes seconds)."""
    from . import assets as assets_mod

    if more_slugs and not for_slugs:
        raise click.UsageError("notebook slugs go after --for: airoadmap assets --for SLUG [SLUG...]")
    slugs = [*for_slugs, *more_slugs]
    try:
        names = sorted({n for slug in slugs for n in assets_mod.needs(slug)}) if slugs else None
    except KeyError as e:
        raise click.BadParameter(str(e.args[0]), param_hint="--for") from None
    assets_mod.prepare(names, force=force)


@main.command()
@click.option("--port", default=8888, show_default=True, help="Port for JupyterLab on 127.0.0.1.")
def lab(port: int) -> None:
    """Start JupyterLab with course/ open and the nbgrader extension configured."""
    from .lab import main as lab_main
    sys.exit(lab_main(port))


@main.command()
@click.argument("notebooks", nargs=-1)
def release(notebooks: tuple[str, ...]) -> None:
    """Regenerate the student notebooks in course/ (all, or the NOTEBOOKS slugs given)."""
    from .release import release as do_release
    do_release(list(notebooks) or None)


@main.command()
@click.option("--profile", type=click.Choice(["cpu", "gpu"]), default="cpu", show_default=True,
              help="Sizes to run the notebooks at.")
@click.argument("notebooks", nargs=-1)
def solutions(profile: str, notebooks: tuple[str, ...]) -> None:
    """Execute the solution notebooks; write build/solutions/report.md and report.json."""
    from .solutions import run_all
    results = run_all(profile, list(notebooks) or None)
    failed = [r["notebook"] for r in results if r["status"] != "ok"]
    if failed:
        raise click.ClickException(f"{len(failed)} notebook(s) failed: {', '.join(failed)}")


@main.command()
@click.argument("notebooks", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.option("--timeout", default=300, show_default=True, help="Seconds at most per notebook.")
def progress(notebooks: tuple[str, ...], as_json: bool, timeout: int) -> None:
    """Which exercises of your notebooks in course/ pass their visible tests, and what to do next."""
    import json

    from . import progress as progress_mod
    results = progress_mod.progress(list(notebooks) or None, timeout=timeout)
    click.echo(json.dumps(progress_mod.as_json(results), indent=1) if as_json else progress_mod.table(results))


from ..grading.commands import cohort  # noqa: E402 (airoadmap cohort ...: instructor grading)

main.add_command(cohort)

if __name__ == "__main__":
    main()
