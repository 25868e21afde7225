"""``automm search``: the bilevel architecture search on a feature cache, writing RUN_DIR/arch.json.

Besides the generic options, the command accepts every option of every registered strategy
(``--temperature``, ``--samples``, ...) and the simple config fields of every registered space
(``--C``, ``--cells``, ``--ops a,b,c``, ...); an option that the chosen strategy or space does
not have is an error.
"""

from __future__ import annotations

import shlex
import time
import typing
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from automm import plugins
from automm.cli._run_output import (
    Eta,
    echo_json,
    echo_line,
    echo_next,
    fresh_dir,
    given,
    metric,
    same_command,
    stdout_to_stderr,
    warn_ignored,
)
from automm.cli._space_options import space_options
from automm.cli._types import (
    NON_NEGATIVE,
    SEED,
    RegistryChoice,
    RegistryNames,
    compile_option,
    json_option,
    logger_option,
    no_verify_option,
    option_type,
    out_option,
    precision_option,
    progress_option,
    resume_option,
    threads_option,
)
from automm.errors import AutommError
from automm.interrupts import handled, resumable
from automm.locking import owned
from automm.train.settings import (
    BALANCE_HELP,
    BALANCES,
    DEVICES,
    SELECT_HELP,
    SELECTS,
    SearchSettings,
)

if TYPE_CHECKING:
    from automm.loggers import Loggers
    from automm.train.bilevel import SearchResult

STRATEGY_PREFIX = "strategy__"
SPACE_PREFIX = "space__"
FITTED = ("tap_channels", "num_classes")
"""Space config fields that the search fills from the feature cache."""


def _component_options(taken: set[str]) -> list[click.Option]:
    """One option per distinct space config field and strategy option name over the registries
    (flags already ``taken`` are skipped; config fields filled from the cache are not options)."""
    return [*_space_options(taken), *_strategy_options(taken)]


def _space_options(taken: set[str]) -> list[click.Option]:
    """The space config fields as options: what the field means (the first space describing it),
    each space's default, and for a field of registered names (``--ops``) those names."""
    fields: dict[str, tuple[str, Any, str, str | None, list[str]]] = {}
    for entry in plugins.spaces.entries():
        config_type = entry.obj.config_type
        defaults = entry.obj.default_config().to_dict()
        for flag, (field, hint) in space_options(config_type).items():
            if field not in FITTED:
                about = config_type.descriptions.get(field, f"Space config {field}")
                row = fields.setdefault(flag, (field, hint, about, config_type.registries.get(field), []))
                row[4].append(f"{entry.name}: default {_show(defaults[field])}")
    out = []
    for flag, (field, hint, about, registry, owners) in fields.items():
        if flag in taken:
            continue
        taken.add(flag)
        is_tuple = typing.get_origin(hint) is tuple
        kind: Any = RegistryNames(registry) if registry else str if is_tuple else option_type(hint)
        names = f"; comma-separated, of {', '.join(kind.choices)}" if registry else ""
        out.append(click.Option(
            [flag, SPACE_PREFIX + field], type=kind, default=None, metavar="A,B,..." if is_tuple else None,
            help=f"{about[0].upper()}{about[1:]} ({'; '.join(owners)}{names})."))
    return out


def _strategy_options(taken: set[str]) -> list[click.Option]:
    """The strategies' options, each once: its help, which strategies have it with their defaults;
    a choice when every strategy having it lists its values."""
    strategies: dict[str, tuple[Any, dict[str, Any], list[tuple[str, ...]]]] = {}
    for entry in plugins.strategies.entries():
        for option in getattr(entry.obj, "options", ()):
            row = strategies.setdefault(option.name, (option, {}, []))
            row[1][entry.name] = option.default
            row[2].append(tuple(getattr(option, "choices", ())))
    out = []
    for name, (option, owners, choices) in strategies.items():
        flag = "--" + name.replace("_", "-")
        if flag in taken:
            continue
        taken.add(flag)
        values = list(dict.fromkeys(v for c in choices for v in c)) if all(choices) else None
        out.append(click.Option(
            [flag, STRATEGY_PREFIX + name], default=None,
            type=click.Choice(values, case_sensitive=False) if values else option_type(option.type),
            help=f"{option.help} ({_defaults(owners)})."))
    return out


def _defaults(owners: Mapping[str, Any]) -> str:
    """Which strategies have an option and their defaults: ``strategy a, b; default 1`` when
    they agree, else ``strategy a: default 1; b: default 2``."""
    if len(set(map(str, owners.values()))) == 1:
        return f"strategy {', '.join(owners)}; default {next(iter(owners.values()))}"
    return "strategy " + "; ".join(f"{name}: default {value}" for name, value in owners.items())


def _show(value: Any) -> str:
    return ",".join(map(str, value)) if isinstance(value, list) else str(value)


class SearchCommand(click.Command):
    """A command whose strategy and space options come from the registries on first use."""

    _generated = False

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        if not self._generated:
            self._generated = True
            taken = {flag for p in self.params for flag in getattr(p, "opts", [])}
            self.params.extend(_component_options(taken))
        return super().get_params(ctx)


def _given(extra: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    return {k.removeprefix(prefix): v for k, v in extra.items() if k.startswith(prefix) and v is not None}


def _strategy_params(name: str, extra: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
    factory = plugins.strategies.get(name)
    given = _given(extra, STRATEGY_PREFIX)
    known = [o.name for o in getattr(factory, "options", ())]
    foreign = [k for k in given if k not in known]
    if foreign:
        raise AutommError(f"--{foreign[0].replace('_', '-')} is not an option of strategy {name!r} "
                          f"(its options: {', '.join('--' + k.replace('_', '-') for k in known) or 'none'})")
    return factory, given


def _space_values(definition: Any, name: str, extra: Mapping[str, Any]) -> dict[str, Any]:
    fields = {field: (flag, hint) for flag, (field, hint) in space_options(definition.config_type).items()}
    values = {}
    for field, value in _given(extra, SPACE_PREFIX).items():
        if field not in fields:
            raise AutommError(f"--{field.replace('_', '-')} is not a config field of space {name!r} "
                              f"(its options: {', '.join(flag for flag, _ in fields.values())})")
        is_tuple = typing.get_origin(fields[field][1]) is tuple
        values[field] = tuple(v.strip() for v in value.split(",") if v.strip()) if is_tuple else value
    return values


def _default_run_dir(strategy: str) -> Path:
    return fresh_dir(Path("runs") / f"{strategy}-{time.strftime('%Y%m%d-%H%M%S')}")


def _print_epoch(record: Mapping[str, Any], eta: Eta) -> None:
    f = metric
    epochs = eta.epochs
    entropy = " ".join(f"{k} {f(v)}" for k, v in record["entropy"].items())
    total = f"/{epochs}" if epochs else ""
    echo_line(f"epoch {record['epoch']}{total}  train loss {f(record['train_loss'])} "
               f"acc {f(record['train_acc'])} | val acc {f(record['val_acc'])} auc {f(record['val_auc'])} "
               f"| derived acc {f(record['derived_val_acc'])} auc {f(record['derived_val_auc'])} "
               f"| entropy {entropy} | {record['seconds']:.1f}s{eta(record)}")


def _on_epoch(run_dir: Path, record: Mapping[str, Any], eta: Eta) -> None:
    """Print the epoch; stop the run when its training loss was not finite (a NaN metric is
    never printed as a result)."""
    _print_epoch(record, eta)
    if record.get("train_loss") is None:
        raise AutommError(f"{run_dir}: epoch {record['epoch']}: the training loss is not finite (NaN or "
                          "infinity); the search stopped without an arch.json")


def _print_result(result: SearchResult) -> None:
    from automm.run.layout import ARCH

    m, run = result.architecture.metrics, result.run_dir
    arch = run / ARCH
    scores = ", ".join(f"val {k} {m[f'val_{k}']:.4f}" for k in ("acc", "auc") if m[f"val_{k}"] is not None)
    click.echo(f"search {result.stopped} after {m['epochs']} epochs in {m['search_seconds']:.1f}s; "
               f"best epoch {m['best_epoch']}: {scores or 'no validation score'}; "
               f"fusion params {m['params']}")
    click.echo(f"wrote {arch}")
    echo_next((f"automm show {arch}", f"automm render {arch}",
               f"automm evaluate {arch} --out {run / 'eval'}", f"automm report {run}",
               f"automm predict {run / 'eval'} VIDEO...   # after evaluate"))


@click.command("search", cls=SearchCommand)
@click.option("--strategy", type=RegistryChoice("strategies"), default="stgs", show_default=True,
              help="Search strategy (automm plugins).")
@click.option("--space", "space_name", type=RegistryChoice("spaces"), default="bimodal-deepfake",
              show_default=True, help="Search space (automm plugins).")
@click.option("--data", help="Feature cache directory, or what the space accepts (e.g. a video dataset "
                             "directory); omitted: the space's default data (e.g. the demo corpus).")
@out_option("Run directory (default: runs/STRATEGY-TIMESTAMP).")
@click.option("--seed", type=SEED, default=0, show_default=True)
@click.option("--epochs", type=click.IntRange(1), default=SearchSettings.epochs, show_default=True,
              help="Maximum number of epochs.")
@click.option("--batch-size", type=click.IntRange(1), default=SearchSettings.batch_size, show_default=True)
@click.option("--device", default=SearchSettings.device, show_default=True, help=DEVICES + ".")
@threads_option
@click.option("--entropy-tol", type=NON_NEGATIVE, default=SearchSettings.entropy_tol, show_default=True,
              help="Converged when every choice family's entropy changes by less than this ...")
@click.option("--patience", type=click.IntRange(0), default=SearchSettings.patience, show_default=True,
              help="... for this many consecutive epochs.")
@click.option("--balance", type=click.Choice(BALANCES), default=SearchSettings.balance, show_default=True,
              help=BALANCE_HELP)
@precision_option
@click.option("--select", type=click.Choice(SELECTS), default=None, help=SELECT_HELP)
@compile_option
@resume_option("search", legacy_dir=True)
@logger_option
@click.option("--rerun", type=click.Path(file_okay=False, exists=True, path_type=Path), metavar="RUN_DIR",
              help="Repeat the finished search of RUN_DIR from the settings its arch.json records, into "
                   "--out (default: RUN_DIR-rerun); only --device may differ.")
@progress_option
@no_verify_option
@json_option
@click.pass_context
@handled
def command(ctx: click.Context, strategy: str, space_name: str, data: str | None, out: Path | None,
            seed: int, epochs: int, batch_size: int, device: str, threads: int | None, entropy_tol: float,
            patience: int, resume: bool | Path, rerun: Path | None, loggers: tuple[str, ...],
            progress: bool | None, no_verify: bool, as_json: bool, **extra: Any) -> None:
    """Search an architecture and write RUN_DIR/arch.json (plus metrics.jsonl and checkpoint.pt).

    RUN_DIR is owned by one process at a time (a lock file beside it)."""
    if isinstance(resume, Path):
        if out is not None and out != resume:
            raise click.UsageError("--resume RUN_DIR and --out: give one directory (--out RUN_DIR --resume)")
        out, resume = resume, True
    if resume and rerun is not None:
        raise click.UsageError("--resume and --rerun: give one")
    if resume and out is None:
        raise click.UsageError("--resume continues the search in --out: give --out RUN_DIR")
    if rerun is not None and out is None:
        out = fresh_dir(rerun.with_name(f"{rerun.name}-rerun"))
    run_dir = out or _default_run_dir(strategy)
    with stdout_to_stderr(as_json):
        with resumable(partial(_stop_hint, run_dir)), owned(run_dir):
            if resume:
                result = _resume(ctx, run_dir, device, progress, loggers)
            elif rerun is not None:
                result = _rerun(ctx, rerun, run_dir, device, progress, loggers)
            else:
                result = _start(strategy, space_name, data, run_dir, seed, epochs, batch_size, device,
                                entropy_tol, patience, progress, not no_verify, loggers, extra)
        _print_result(result)
    if as_json:
        _echo_json(result)


def _stop_hint(run_dir: Path) -> str:
    """How to continue a search stopped by a signal: from its checkpoint, or from the start."""
    from automm.run.layout import CHECKPOINT

    if (run_dir / CHECKPOINT).is_file():
        return f"continue with: automm search --out {shlex.quote(str(run_dir))} --resume"
    return f"nothing to resume (no checkpoint yet); start again with: {same_command()}"


def _echo_json(result: SearchResult) -> None:
    """The ``--json`` object of a search: its run directory, arch.json, why it stopped and the
    metrics arch.json records."""
    from automm.run.layout import ARCH, CHECKPOINT, METRICS

    run = result.run_dir
    echo_json("search", [run / name for name in (ARCH, METRICS, CHECKPOINT) if (run / name).exists()],
              run_dir=str(run), arch=str(run / ARCH), stopped=result.stopped,
              metrics=result.architecture.to_dict()["metrics"])


def _start(strategy: str, space_name: str, data: str | None, out: Path, seed: int, epochs: int,
           batch_size: int, device: str, entropy_tol: float, patience: int, progress: bool | None,
           verify: bool, loggers: tuple[str, ...], extra: Mapping[str, Any]) -> SearchResult:
    from automm.report.source import describe_source
    from automm.run import search as search_run
    from automm.train.device import resolve_device

    definition = plugins.spaces.get(space_name)
    factory, params = _strategy_params(strategy, extra)
    values = _space_values(definition, space_name, extra)
    settings = SearchSettings(epochs=epochs, batch_size=batch_size, seed=seed, entropy_tol=entropy_tol,
                              patience=patience, device=device, balance=extra["balance"],
                              precision=extra["precision"], compile=extra["compile"],
                              select=extra["select"])
    new = search_run.start(out, space=space_name, config=values, strategy=factory(**params),
                           settings=settings, data=data, verify=verify)
    for line in new.notes:
        click.echo(f"automm: note: {line}", err=True)
    for line in new.warnings:
        click.echo(f"automm: warning: {line}", err=True)
    click.echo(f"searching {space_name} with {strategy} on {new.cache.path} -> {out} "
               f"(device {resolve_device(device)})")
    note = describe_source(new.cache.manifest.get("source", {})).weights
    if note:
        click.echo(f"backbone weights of these features: {note}")
    return new.run(progress=progress, on_epoch=partial(_on_epoch, out, eta=Eta(epochs, up_to=True)),
                   loggers=search_loggers(loggers, out))


def search_loggers(names: tuple[str, ...], run_dir: Path) -> Loggers:
    """The loggers ``names`` of a search in ``run_dir``."""
    from automm.loggers import LoggerContext, open_loggers

    return open_loggers(names, LoggerContext("search", run_dir, run_dir.resolve().name))


def _resume(ctx: click.Context, run_dir: Path, device: str, progress: bool | None,
            loggers: tuple[str, ...]) -> SearchResult:
    from automm.run import search as search_run

    warn_ignored(ctx, ("resume", "out", "device", "threads", "progress", "loggers", "as_json"), "--resume")
    click.echo(f"resuming {run_dir}")
    return search_run.resume(run_dir, device=device if given(ctx, "device") else None, progress=progress,
                             on_epoch=partial(_on_epoch, run_dir, eta=Eta(None)),
                             loggers=search_loggers(loggers, run_dir))


def _rerun(ctx: click.Context, original: Path, out: Path, device: str, progress: bool | None,
           loggers: tuple[str, ...]) -> SearchResult:
    from automm.run.layout import check_new_run
    from automm.train.bilevel import rerun_search

    warn_ignored(ctx, ("rerun", "out", "device", "threads", "progress", "loggers", "as_json"), "--rerun")
    check_new_run(out)
    click.echo(f"repeating the search of {original} -> {out}")
    return rerun_search(original, out, device=device if given(ctx, "device") else None, progress=progress,
                        on_epoch=partial(_on_epoch, out, eta=Eta(None)), loggers=search_loggers(loggers, out))
