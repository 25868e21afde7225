"""``automm sweep``: a grid of searches (the paper's Table 3: temperature x sampling times x seeds,
or any strategy option or space config field), each point a normal run directory, run on local
worker processes or as Ray Tune trials, resumable, with one results row per point.

Modules: :mod:`~automm.sweep.grid` (axes, points, keys), :mod:`~automm.sweep.point` (one point),
:mod:`~automm.sweep.executors` (local, Ray), :mod:`~automm.sweep.results` (files and rows),
:mod:`~automm.sweep.runner` (skip, resume, record). Tables and figures:
:mod:`automm.report.sweep`.
"""
