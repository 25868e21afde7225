"""Graphviz rendering of search spaces and architectures."""

from automm.render.dag import (
    MODALITY_COLOURS,
    PALETTE,
    ROLE_STYLES,
    architecture_graph,
    modality_colours,
    space_graph,
)
from automm.render.output import FORMATS, PNG_DPI, STDOUT, architecture_file, format_for, write_graph

__all__ = [
    "FORMATS",
    "MODALITY_COLOURS",
    "PALETTE",
    "PNG_DPI",
    "ROLE_STYLES",
    "STDOUT",
    "architecture_file",
    "architecture_graph",
    "format_for",
    "modality_colours",
    "space_graph",
    "write_graph",
]
