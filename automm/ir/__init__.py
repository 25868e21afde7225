"""Search-space IR and architectures."""

from automm.ir.architecture import (
    FORMAT,
    Architecture,
    architecture_from_dict,
    build_space_for,
    load_architecture,
    save_architecture,
)
from automm.ir.cells import CELL_INPUT, OP_FAMILY, STEP_INPUT, Tap, build_cell_space
from automm.ir.kinds import NodeKind
from automm.ir.space import INPUT, OP, Choice, SearchSpace, SpaceConfig, SpaceDefinition

__all__ = [
    "CELL_INPUT",
    "FORMAT",
    "INPUT",
    "OP",
    "OP_FAMILY",
    "STEP_INPUT",
    "Architecture",
    "Choice",
    "NodeKind",
    "SearchSpace",
    "SpaceConfig",
    "SpaceDefinition",
    "Tap",
    "architecture_from_dict",
    "build_cell_space",
    "build_space_for",
    "load_architecture",
    "save_architecture",
]
