"""One command language: the same option spelled the same on every verb (issue #23 item 7)."""

from __future__ import annotations

from collections.abc import Iterator

import click
import pytest
import torch
from click.testing import CliRunner

from automm.cli import cli


def _commands() -> Iterator[tuple[str, click.Command]]:
    ctx = click.Context(cli)

    def walk(group: click.Group, path: str) -> Iterator[tuple[str, click.Command]]:
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            if isinstance(command, click.Group):
                yield from walk(command, f"{path} {name}")
            elif command is not None:
                yield f"{path} {name}".strip(), command

    return walk(cli, "")


def _option(command: click.Command, name: str) -> click.Option | None:
    return next((p for p in command.params if isinstance(p, click.Option) and p.name == name), None)


@pytest.mark.parametrize(("verb", "command"), list(_commands()))
def test_shared_options_have_one_spelling(verb: str, command: click.Command) -> None:
    out = _option(command, "out")
    if out is not None:
        assert sorted(out.opts) == ["--out", "-o"], verb
    progress = _option(command, "progress")
    if progress is not None:
        assert progress.opts == ["--progress"] and progress.secondary_opts[0] == "--no-progress", verb
    assert _option(command, "quiet") is None, f"{verb}: --quiet is an alias of --no-progress"
    as_json = _option(command, "as_json")
    if as_json is not None:
        assert as_json.opts == ["--json"], verb


def test_every_verb_that_trains_or_writes_has_the_shared_options() -> None:
    commands = dict(_commands())
    for verb in ("search", "evaluate", "sweep", "report", "extract", "export", "render", "nni search"):
        assert _option(commands[verb], "out") is not None, verb
    for verb in ("search", "evaluate", "sweep", "extract", "demo-data", "nni search"):
        assert _option(commands[verb], "progress") is not None, verb
    for verb in ("search", "evaluate", "extract"):
        assert _option(commands[verb], "threads") is not None, verb


@pytest.mark.parametrize(("args", "expected"), [((), None), (("--progress",), True),
                                                 (("--no-progress",), False), (("--quiet",), False)])
def test_quiet_is_no_progress(args: tuple[str, ...], expected: bool | None) -> None:
    command = dict(_commands())["extract"]
    ctx = command.make_context("extract", ["-o", "cache", *args], resilient_parsing=True)
    assert ctx.params["progress"] is expected


def test_threads_sets_torch_threads(tmp_path) -> None:
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        result = CliRunner().invoke(cli, ["search", "--threads", "1", "--data", str(tmp_path / "none")])
        assert result.exit_code != 0
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def _stderr_lines(*args: object) -> list[str]:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == 2, result.output
    return result.stderr.splitlines()


def test_resume_is_a_flag_continuing_out_and_the_old_search_spelling_still_works(tmp_path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "checkpoint.pt").write_bytes(b"not a checkpoint")
    new = _stderr_lines("search", "--out", run, "--resume")
    old = _stderr_lines("search", "--resume", run)
    assert old == [f"automm: warning: --resume RUN_DIR is deprecated; write --out {run} --resume", *new]
    assert new[-1].startswith(f"automm: error: {run / 'checkpoint.pt'}: unreadable checkpoint")
    assert "give --out RUN_DIR" in _stderr_lines("search", "--resume")[-1]


def test_sweep_resume_needs_a_sweep(cache_dir, tmp_path) -> None:
    lines = _stderr_lines("sweep", "--data", cache_dir, "-o", tmp_path / "s", "--grid", "temperature=5",
                          "--resume")
    assert lines == [f"automm: error: {tmp_path / 's'}: holds no sweep to resume; drop --resume to start one"]
