"""Plausible wrong answers must fail at least one test cell, and the solutions must pass them all.

A test that cannot fail is a defect: for every exercise, ``tests/mutants/m<slug>.py`` lists wrong
answers a learner might write (a missing ``zero_grad``, a sum instead of a mean, softmax over the
wrong dimension, ...). Each is swapped into the solution notebook and the test cells run in-process.
"""
from __future__ import annotations

import pytest

from conftest import SLUGS
from notebook_harness import (
    exercise_tests,
    is_solution,
    load_cells,
    load_correct,
    load_mutants,
    mutants_path,
    nbgrader_meta,
    run_graded_cells,
)

CASES = [(slug, gid, desc) for slug in SLUGS for gid, muts in load_mutants(slug).items() for desc in muts]
RIGHT = [(slug, gid, desc) for slug in SLUGS for gid, variants in load_correct(slug).items() for desc in variants]


@pytest.mark.parametrize("slug", SLUGS)
def test_every_exercise_has_wrong_answers_to_catch(slug):
    solutions = [nbgrader_meta(c)["grade_id"] for c in load_cells(slug) if is_solution(c)]
    mutants = load_mutants(slug)
    missing = [gid for gid in solutions if not mutants.get(gid)]
    assert not missing, f"{mutants_path(slug).name} has no wrong answers for {missing}"


@pytest.mark.parametrize("slug", SLUGS)
def test_solution_passes_every_test_cell(slug):
    results = run_graded_cells(slug)
    failed = {gid: repr(exc) for gid, exc in results.items() if exc is not None}
    assert results and not failed, f"the solution fails its own tests: {failed}"


@pytest.mark.parametrize("slug,grade_id,description", CASES, ids=[f"{s[:2]}-{g}-{d}" for s, g, d in CASES])
def test_wrong_answer_fails_a_test(slug, grade_id, description):
    source = load_mutants(slug)[grade_id][description]
    # the exercise's own test cells (right after it) must catch it
    results = run_graded_cells(slug, {grade_id: source}, only=exercise_tests(load_cells(slug), grade_id))
    assert results, f"{grade_id} has no test cell after it"
    assert any(exc is not None for exc in results.values()), \
        f"no test cell of {slug} catches this wrong answer to {grade_id}: {description}"


@pytest.mark.parametrize("slug,grade_id,description", RIGHT, ids=[f"{s[:2]}-{g}-{d}" for s, g, d in RIGHT])
def test_correct_answer_written_differently_passes(slug, grade_id, description):
    source = load_correct(slug)[grade_id][description]
    results = run_graded_cells(slug, {grade_id: source}, only=exercise_tests(load_cells(slug), grade_id))
    failed = {gid: repr(exc)[:300] for gid, exc in results.items() if exc is not None}
    assert results and not failed, f"expected this correct answer to {grade_id} ({description}) to pass, got {failed}"
