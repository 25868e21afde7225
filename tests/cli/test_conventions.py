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


@pytest.mark.parametrize(("ops", "warned"), [("zero", True), ("zero,sum", False)])
def test_a_search_that_cannot_learn_is_warned_about(cache_dir, tmp_path, ops: str, warned: bool) -> None:
    result = CliRunner().invoke(cli, ["search", "--data", str(cache_dir), "-o", str(tmp_path / "r"),
                                      "--epochs", "1", "--C", "8", "--L", "2", "--cells", "1", "--steps",
                                      "1", "--ops", ops, "--no-progress"])
    assert result.exit_code == 0, result.output
    warning = "automm: warning: every fusion op of the pool (zero) outputs a constant"
    assert (warning in result.stderr) is warned


def test_registry_choices_list_plugins_and_complete() -> None:
    from click.shell_completion import ShellComplete

    from automm import plugins

    commands = dict(_commands())
    strategy = _option(commands["search"], "strategy")
    assert strategy is not None and strategy.type.choices == tuple(plugins.strategies.list())
    complete = ShellComplete(cli, {}, "automm", "_AUTOMM_COMPLETE")
    assert [c.value for c in complete.get_completions(["search", "--ops"], "sum,li")] == ["sum,linear-glu"]
    assert [c.value for c in complete.get_completions(["search", "--ensemble"], "max-")] == [
        "max-soft", "max-hard"]
    assert "random" in [c.value for c in complete.get_completions(["sweep", "--strategy"], "")]


@pytest.mark.parametrize(("args", "name", "value"), [(("--strategy", "STGS"), "strategy", "stgs"),
                                                      (("--ops", "SUM, zero"), "space__ops", "sum,zero"),
                                                      (("--ensemble", "Max-Soft"), "strategy__ensemble",
                                                       "max-soft")])
def test_registry_names_convert_to_the_registered_spelling(args: tuple[str, ...], name: str,
                                                           value: str) -> None:
    assert dict(_commands())["search"].make_context("search", list(args)).params[name] == value


def test_an_unknown_registry_name_is_one_line() -> None:
    lines = _stderr_lines("search", "--ops", "sum,sums")
    assert lines == ["automm: error: unknown fusion op 'sums' (did you mean 'sum'?); known: attention, "
                     "concat-fc, linear-glu, sum, zero"]


def test_space_options_say_what_they_mean() -> None:
    help_text = CliRunner().invoke(cli, ["search", "--help"], terminal_width=200).output
    assert "--C INTEGER" in help_text and "Channels C: every tap is reduced to C channels" in help_text
    assert "Positions L: every tap is pooled to L positions" in help_text
