"""Course tooling for authors and CI (never imported by notebooks).

``cli`` (the ``airoadmap`` command), ``course`` (repository paths), ``release`` (regenerate
``course/`` from ``solutions/`` with nbgrader), ``solutions`` (execute the solution notebooks and
report), ``lab`` (JupyterLab with nbgrader configured), ``assets`` (prepare the offline assets,
per notebook).
"""
