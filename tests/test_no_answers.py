"""The package never holds an exercise's answer: learners can read it.

For every function or class an exercise asks for, if the learner runtime (``airoadmap/*.py``) has a
public function or class of the same name, the exercise's own test cells are run with the
package's version in place of the solution's; they must fail. Today no name lines up (05's
``generate_batch`` had a twin in the package, ``airoadmap.chat.generate_replies``, since removed);
this test makes a future overlap fail in CI.
"""
from __future__ import annotations

import ast
import importlib
from pathlib import Path

import airoadmap
from conftest import SLUGS
from notebook_harness import exercise_tests, is_solution, load_cells, nbgrader_meta, run_graded_cells

# every module of the learner runtime (utils/airoadmap/*.py), new ones included
RUNTIME = tuple(sorted(p.stem for p in (Path(airoadmap.__file__).parent).glob("*.py") if p.stem != "__init__"))


def package_names() -> dict[str, str]:
    """Public functions and classes defined in the learner runtime: ``{name: module}``."""
    names: dict[str, str] = {}
    for short in RUNTIME:
        module = importlib.import_module(f"airoadmap.{short}")
        for name, obj in vars(module).items():
            if not name.startswith("_") and callable(obj) and getattr(obj, "__module__", None) == module.__name__:
                names.setdefault(name, module.__name__)
    return names


def asked_for(source: str) -> list[str]:
    """The functions and classes a solution cell defines at its top level."""
    return [n.name for n in ast.parse(source).body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]


def solutions(slug: str) -> list[tuple[str, str]]:
    return [(nbgrader_meta(c)["grade_id"], "".join(c["source"])) for c in load_cells(slug) if is_solution(c)]


PACKAGE = package_names()
CASES = [(slug, gid, name, PACKAGE[name]) for slug in SLUGS for gid, source in solutions(slug)
         for name in asked_for(source) if name in PACKAGE]


def passes_with_the_package_version(slug: str, grade_id: str, name: str, module: str) -> bool:
    source = dict(solutions(slug))[grade_id] + f"\nfrom {module} import {name}  # the package's version instead\n"
    results = run_graded_cells(slug, {grade_id: source}, only=exercise_tests(load_cells(slug), grade_id))
    return bool(results) and all(exc is None for exc in results.values())


def test_the_runtime_is_scanned():
    assert {"score_triage_json", "load_causal_lm", "bootstrap_ci", "assert_close"} <= set(PACKAGE)


def test_no_package_function_answers_an_exercise():
    answered = [f"{module}.{name} passes the tests of {slug}'s exercise {grade_id}" for slug, grade_id, name, module
                in CASES if passes_with_the_package_version(slug, grade_id, name, module)]
    assert not answered, "the package holds an exercise's answer: " + "; ".join(answered)


def test_a_planted_answer_is_caught(monkeypatch):
    """Guard the guard: put 07's to_prompt_completion answer into the package and the check sees it."""
    slug, grade_id = "07-sft-with-trl", "to_prompt_completion"
    namespace: dict = {"json": importlib.import_module("json")}
    exec(dict(solutions(slug))[grade_id], namespace)
    monkeypatch.setattr(importlib.import_module("airoadmap.checks"), "to_prompt_completion",
                        namespace["to_prompt_completion"], raising=False)
    assert passes_with_the_package_version(slug, grade_id, "to_prompt_completion", "airoadmap.checks")
