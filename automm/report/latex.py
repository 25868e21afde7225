"""LaTeX tabulars (booktabs rules) of a run's metrics, a sweep's table and a comparison of runs,
for ``automm report --latex``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

PREAMBLE = "% written by automm report --latex; needs \\usepackage{booktabs}\n"
_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
            "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def escape(text: object) -> str:
    """``text`` with LaTeX's special characters escaped (one line)."""
    return "".join(_SPECIAL.get(ch, ch) for ch in " ".join(str(text).split()))


def number(value: Any, digits: int = 3) -> str:
    """A number to ``digits`` decimals (integers as they are), ``--`` when missing."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "--"
    return f"{value:,}".replace(",", "{,}") if isinstance(value, int) else f"{value:.{digits}f}"


def interval(value: Any, digits: int = 3) -> str:
    """``[0.610, 0.920]`` of a two-number list, ``--`` otherwise."""
    if isinstance(value, list | tuple) and len(value) == 2:
        return f"[{number(value[0], digits)}, {number(value[1], digits)}]"
    return "--"


def tabular(columns: Sequence[str], rows: Sequence[Sequence[str]], align: str | None = None) -> str:
    """A tabular of cells already in LaTeX (headers are escaped), first column left-aligned."""
    spec = align or "l" + "r" * (len(columns) - 1)
    body = [" & ".join(cells) + r" \\" for cells in rows]
    return "\n".join([f"\\begin{{tabular}}{{{spec}}}", r"\toprule", " & ".join(map(escape, columns)) + r" \\",
                      r"\midrule", *body, r"\bottomrule", r"\end{tabular}"]) + "\n"


def run_table(search: Mapping[str, Any], test: Mapping[str, Any] | None) -> str:
    """The metrics of one run: search validation (arch.json) and, when evaluated, test metrics
    with their intervals and the AUC per fake category and method (metrics.json)."""
    rows = [[escape("search validation AUC"), number(search.get("val_auc")), "--"],
            [escape("search validation accuracy"), number(search.get("val_acc")), "--"]]
    if test is not None:
        rows += [[escape(label), number(test.get(key)), interval(test.get(f"{key}_ci"))]
                 for key, label in (("test_auc", "test AUC"), ("test_acc", "test accuracy"),
                                    ("test_eer", "test EER"))]
        for key in ("category", "method"):
            groups = (test.get(f"by_{key}") or {}).get("groups") or {}
            rows += [[escape(f"test AUC, {key} {name} ({g.get('fakes')} fakes)"), number(g.get("auc")),
                      interval(g.get("auc_ci"))] for name, g in groups.items()]
    rows.append([escape("parameters (fusion network)"), number((test or search).get("params")), "--"])
    return PREAMBLE + tabular(["metric", "value", "95% interval"], rows)
