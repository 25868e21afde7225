"""The schema mechanism of :mod:`automm.schema`: one line per problem, naming the field."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pytest

from automm.errors import AutommError
from automm.schema import (
    ANY,
    MISSING,
    boolean,
    check,
    dataclass_schema,
    field_name,
    integer,
    list_of,
    map_of,
    mutated,
    mutations,
    nullable,
    number,
    obj,
    optional,
    problem,
    string,
)

SPEC = obj({
    "name": string(pattern=r"[a-z]+"),
    "size": integer(1, 10),
    "rate": optional(nullable(number(0, 1))),
    "kind": optional(string("a", "b")),
    "flag": optional(boolean()),
    "items": optional(list_of(obj({"id": string(low=1)}), high=3)),
    "counts": optional(map_of(integer(0))),
    "free": optional(ANY),
})
VALID = {"name": "x", "size": 3, "rate": None, "kind": "a", "flag": True, "items": [{"id": "i"}],
         "counts": {"real": 2}, "free": {"note": [1.5]}, "extra": "kept"}


def test_a_valid_document_passes_with_unknown_keys():
    assert problem(VALID, SPEC) is None
    assert problem({"name": "x", "size": 1}, SPEC) is None  # optional fields may be missing


@pytest.mark.parametrize(("change", "message"), [
    ({"size": "3"}, "field size must be an integer from 1 to 10 (got '3')"),
    ({"size": True}, "field size must be an integer from 1 to 10 (got True)"),
    ({"size": 11}, "field size must be an integer from 1 to 10 (got 11)"),
    ({"size": 10**20}, "field size must be an integer from 1 to 10 (got 100000000000000000000)"),
    ({"rate": 10**5000}, "field rate must be null or a finite number from 0 to 1 (got an integer of "
                         "more than 300 digits)"),
    ({"rate": math.nan}, "field rate must be null or a finite number from 0 to 1 (got nan)"),
    ({"rate": 1.5}, "field rate must be null or a finite number from 0 to 1 (got 1.5)"),
    ({"kind": "c"}, "field kind must be one of 'a', 'b' (got 'c')"),
    ({"name": "x\n"}, "field name must be a string matching [a-z]+ (got 'x\\n')"),
    ({"flag": 1}, "field flag must be true or false (got 1)"),
    ({"items": [{"id": "i"}, {"id": ""}]}, "field items[1].id must be a string (not empty) (got '')"),
    ({"items": [{}] * 4}, "field items must be a list of at most 3 items (got a list of 4 item(s))"),
    ({"counts": {"real": -1}}, "field counts.real must be an integer >= 0 (got -1)"),
    ({"counts": []}, "field counts must be a JSON object (got a list of 0 item(s))"),
    ({"free": {"note": [math.inf]}}, "field free.note[0] must be a finite number (got inf)"),
    ({"extra": {"deep": -math.inf}}, "field extra.deep must be a finite number (got -inf)"),
])
def test_the_first_problem_names_the_field(change, message):
    assert problem({**VALID, **change}, SPEC) == message


def test_missing_required_field_and_wrong_top_level():
    assert problem({"size": 1}, SPEC) == "field name is missing (must be a string matching [a-z]+)"
    assert problem([1], SPEC) == "top level must be a JSON object (got a list of 1 item(s))"


def test_check_raises_one_line_naming_the_file():
    with pytest.raises(AutommError, match=r"^f\.json: field size must be") as info:
        check({**VALID, "size": "x" * 500}, SPEC, "f.json")
    assert len(str(info.value)) < 200


def test_every_generated_mutation_is_refused_naming_its_field():
    cases = list(mutations(VALID, SPEC))
    assert len(cases) > 30
    for keys, bad in cases:
        found = problem(mutated(VALID, keys, bad), SPEC)
        name = f"field {field_name(keys)} " if keys else "top level "
        assert found is not None and found.startswith(name), (keys, bad, found)
    assert {bad for keys, bad in cases if keys == ("size",)} >= {None, "1", math.nan, math.inf, 1.5, 0, 11}
    assert (("name",), MISSING) in cases and (("rate",), MISSING) not in cases


@dataclass
class Settings:
    epochs: int = 1
    lr: float = 0.1
    name: str = "x"
    on: bool = False
    select: str | None = None
    pairs: tuple[tuple[str, str], ...] = ()


def test_dataclass_schema_types_fields_from_annotations():
    spec = dataclass_schema(Settings, epochs=optional(integer(1)))
    assert problem({"epochs": 1, "lr": 1, "name": "a", "on": True, "select": None, "pairs": [["a", "b"]]},
                   spec) is None
    assert problem({}, spec) is None  # a missing field takes its default
    for field, bad in (("epochs", 0), ("lr", "1"), ("name", 1), ("on", 0), ("select", 3), ("pairs", "ab")):
        assert problem({field: bad}, spec).startswith(f"field {field} must be")
