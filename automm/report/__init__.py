"""Figures and ``report.md`` of search runs and evaluations (matplotlib, Agg canvas).

Import the modules themselves (``automm.report.build``, ``automm.report.figures``): this package
imports nothing, so code that needs only ``automm.report.source`` (a retraining, a sweep worker)
does not load matplotlib.
"""
