"""The ``airoadmap`` command: set up and run the course, release and grade it.

    airoadmap assets       prepare the offline models and datasets (idempotent)
    airoadmap lab          start JupyterLab on 127.0.0.1 with course/ open
    airoadmap release      regenerate course/ from solutions/ with nbgrader
    airoadmap solutions    execute the solution notebooks and write a report
"""
from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ai-engineer-roadmap")
def main() -> None:
    """The AI-engineer roadmap course tools."""


@main.command()
@click.option("--force", is_flag=True, help="Rebuild every asset even if it is already prepared.")
def assets(force: bool) -> None:
    """Prepare the offline models and datasets (a second run takes seconds)."""
    try:
        from . import assets as assets_mod
    except ImportError:
        click.echo("No offline assets to prepare yet.")
        return
    assets_mod.prepare(force=force)


def main_entry() -> None:  # pragma: no cover
    main()
