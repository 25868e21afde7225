"""Every field of each file kind's schema, mutated (wrong type, NaN and infinity, out of range,
missing), gives one error line naming the file and the field through the CLI; the files the
real commands write pass their schemas."""

from __future__ import annotations

import json

from faults import CLEAN, run_cli

from automm.data.manifest import SCHEMA as MANIFEST
from automm.ir.architecture import SCHEMA as ARCH
from automm.schema import field_name, mutated, mutations, problem


def _json(doc) -> str:
    """``doc`` as JSON text, infinity written as the overflowing number ``1e999`` (which
    parses to infinity: the schema must catch it); NaN stays ``NaN`` (refused when parsed)."""
    return json.dumps(doc).replace("-Infinity", "-1e999").replace("Infinity", "1e999")


def _named(keys, bad) -> str:
    """What the error line must say: the field (NaN: the parser's refusal, before any field)."""
    return "NaN is not a JSON number" if bad != bad else field_name(keys) if keys else "top level"


def test_files_written_by_search_and_evaluate_pass_their_schemas(pristine):
    for path in (pristine / "run" / "arch.json", pristine / "run" / "eval" / "arch.json"):
        assert problem(json.loads(path.read_text()), ARCH) is None, path


def _expect_field_errors(path, doc, spec, command, minimum):
    """Write each mutation of ``doc`` (by ``spec``) to ``path``; ``command`` must end in one line
    naming ``path`` and the field."""
    cases = list(mutations(doc, spec))
    assert len(cases) >= minimum
    for keys, bad in cases:
        path.write_text(_json(mutated(doc, keys, bad)))
        outcome = run_cli(command, timeout=10)
        named = str(path) in outcome.stderr and _named(keys, bad) in outcome.stderr
        assert outcome.kind == CLEAN and named, (keys, bad, outcome)


def test_every_arch_json_field_mutation_is_one_line_naming_the_field(pristine, tmp_path):
    arch = tmp_path / "arch.json"
    doc = json.loads((pristine / "run" / "arch.json").read_text())
    _expect_field_errors(arch, doc, ARCH, ["show", arch], 100)


def test_every_manifest_field_mutation_is_one_line_naming_the_field(copy, tiny):
    cache = copy("cache")
    doc = json.loads((cache / "manifest.json").read_text())
    assert problem(doc, MANIFEST) is None
    _expect_field_errors(cache / "manifest.json", doc, MANIFEST,
                         ["search", "--data", cache, "--out", cache.parent / "run", *tiny], 40)


def test_a_cache_without_its_manifest_is_named_as_such(copy, tiny):
    cache = copy("cache")
    (cache / "manifest.json").unlink()
    outcome = run_cli(["search", "--data", cache, "--out", cache.parent / "run", *tiny])
    assert outcome.kind == CLEAN and f"{cache / 'manifest.json'}: no such file" in outcome.stderr, outcome
