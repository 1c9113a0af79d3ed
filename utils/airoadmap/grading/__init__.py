"""Instructor tooling on top of nbgrader: release student notebooks, autograde, report.

``nbtools`` drives nbgrader from Python in a course directory of our own making, so that the
repository's ``solutions/`` stay the single source and nothing nbgrader writes lands there.
"""
