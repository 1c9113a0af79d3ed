# nbgrader configuration for instructors running nbgrader's own commands from this folder
# (`cd autograder && nbgrader autograde 01-pytorch-fundamentals`). The settings themselves live in
# one place, airoadmap.grading.nbtools.apply_config, which the course's tools use too.
# Put the notebooks to grade in source/ (a copy of ../solutions/NN-slug) and submitted/<student>/.
import os

from airoadmap.grading.nbtools import apply_config

c = get_config()  # noqa: F821 - provided by traitlets when nbgrader loads this file
apply_config(c, os.path.dirname(os.path.abspath(__file__)))
