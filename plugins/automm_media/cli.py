"""``automm extract``, ``automm predict``, ``automm export`` and ``automm weights convert``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from automm.cli._run_output import echo_json, same_command
from automm.cli._types import (
    NON_NEGATIVE,
    RegistryChoice,
    json_option,
    out_option,
    progress_flag,
    threads_option,
)
from automm.interrupts import handled, resumable

if TYPE_CHECKING:
    from pathlib import Path

    from automm_media.extract import ExtractResult

_FILE = click.Path(exists=True, dir_okay=False)


def _fractions(ctx: click.Context, param: click.Parameter, value: str) -> tuple[float, float, float]:
    try:
        parts = tuple(float(v) for v in value.split(","))
    except ValueError:
        parts = ()
    if len(parts) != 3 or min(parts) < 0 or not sum(parts) > 0:
        raise click.BadParameter("expected three non-negative numbers, e.g. 0.7,0.15,0.15")
    total = sum(parts)
    return (parts[0] / total, parts[1] / total, parts[2] / total)


def _workers(ctx: click.Context, param: click.Parameter, value: str) -> int | str:
    if value == "auto":
        return value
    try:
        count = int(value)
    except ValueError:
        count = 0
    if count < 1:
        raise click.BadParameter(f"{value!r}: expected a number >= 1 or auto")
    return count


def backbone_note(source: dict[str, Any]) -> str:
    """One line naming the backbone weights of a feature source (random-init is said plainly)."""
    b = source.get("backbones", {})
    text = ", ".join(f"{m} {r.get('weights', '?')}" for m, r in b.items())
    if any(r.get("pretrained") is False or "random-init" in str(r.get("weights")) for r in b.values()):
        text += " (not pretrained: features are random-network projections)"
    return f"backbones: {text}"


def split_lines(record: dict[str, Any]) -> list[str]:
    """How the videos were split: method, per split its classes and linked fakes, then any notes."""
    if not record.get("counts"):
        return []
    linked = f", linked fakes {record['linked']}" if record.get("linked") else ""
    parts = []
    for name, row in record["counts"].items():
        extra = "".join(f"; {row[k]} linked {k.split('_')[1]}" for k in ("linked_kept", "linked_dropped")
                        if row.get(k))
        parts.append(f"{name} {row['videos']} ({row.get('real', 0)} real, {row.get('fake', 0)} fake{extra})")
    lines = [f"split {record['method']} (seed {record['seed']}{linked}): " + ", ".join(parts)]
    return lines + [f"warning: {note}" for note in record.get("notes", [])]


def summary(result: ExtractResult) -> str:
    """Human-readable report of an extraction run."""
    src = result.source
    if result.up_to_date:
        lines = [f"cache {result.path} is up to date ({result.samples} videos listed, "
                 f"{len(result.skipped)} skipped)"]
    else:
        splits = ", ".join(f"{k} {v}" for k, v in result.splits.items())
        used = result.samples - result.dropped - len(result.skipped)
        dropped = f"{result.dropped} linked fakes dropped, " if result.dropped else ""
        lines = [f"wrote {result.path}: {used} of {result.samples} videos ({dropped}"
                 f"{result.extracted} extracted now, {result.resumed} from an earlier run, "
                 f"{len(result.skipped)} skipped; {splits})",
                 f"time {result.seconds:.1f} s with {result.workers} worker(s) (stages summed over the "
                 "workers: " + ", ".join(f"{k} {v:.1f} s" for k, v in result.stage_seconds.items()) + ")"]
        ds = src.get("dataset", {})
        sets = [f"{d['name']} ({d['layout']}, {d['role']}, {d['videos']} videos)"
                for d in ds.get("datasets", [])]
        lines.append(f"protocol {ds.get('protocol')}: {', '.join(sets)}")
    lines += split_lines(result.split_record)
    lines.append(backbone_note(src))
    for s in result.skipped:
        lines.append(f"skipped {s['id']}: {s['kind']}: {s['reason']}")
    lines += [f"warning: {w}" for w in result.warnings]
    lines += ["next:", f"  automm search --data {result.path}"]
    return "\n".join(lines)


@click.command("extract")
@click.argument("dataset_dirs", nargs=-1, type=click.Path(file_okay=False))
@out_option("Feature-cache directory to write (resumes a partial one).", required=True)
@click.option("--dataset", type=RegistryChoice("datasets"),
              help="Dataset layout (default: detected per directory).")
@click.option("--protocol", type=click.Choice(["single", "mixed", "cross"]),
              help="Check the directories fit: single (one), mixed (several pooled, Table 2), cross "
                   "(--train-dataset A --test-dataset B, Table 4). Default: inferred.")
@click.option("--train-dataset", "train_dirs", multiple=True, type=click.Path(file_okay=False),
              help="A training dataset directory (repeatable; same as DATASET_DIRS).")
@click.option("--test-dataset", "test_dirs", multiple=True, type=click.Path(file_okay=False),
              help="Train on DATASET_DIRS (train/val), test on this one (repeatable).")
@click.option("--frames", default=8, show_default=True, help="Face crops per video, uniformly spaced.")
@click.option("--positions", default=16, show_default=True, help="Positions L per tap along time.")
@click.option("--crop", default=112, show_default=True, help="Aligned face crop size in pixels.")
@click.option("--min-seconds", default=1.0, show_default=True, type=NON_NEGATIVE,
              help="Shorter videos are skipped.")
@click.option("--backbone", "backbone_specs", multiple=True, metavar="MODALITY=NAME",
              help="Backbone of a modality: any registered one (automm plugins); repeatable; NAME none "
                   "drops the modality. Default: image=resnet34-image, audio=resnet34-audio.")
@click.option("--weights", "weights_specs", multiple=True, metavar="MODALITY=PATH",
              help="Local weights file of a modality's backbone (repeatable; default: random init).")
@click.option("--image-weights", type=_FILE, help="Same as --weights image=PATH.")
@click.option("--audio-weights", type=_FILE, help="Same as --weights audio=PATH.")
@click.option("--seed", default=0, show_default=True, help="Seed of randomly initialised backbones.")
@click.option("--split", "split", type=click.Choice(["identity", "random"]), default="identity",
              show_default=True, help="identity: each video in its primary identity's split (identities "
                                      "disjoint); random: shuffled per label (stratified).")
@click.option("--linked", type=click.Choice(["drop", "keep"]), default="drop", show_default=True,
              help="A fake naming an identity of another split: drop it (no identity in two splits) "
                   "or keep it in its primary identity's split (more videos, identities leak).")
@click.option("--fractions", "fractions", default="0.7,0.15,0.15", show_default=True, callback=_fractions,
              help="train,val,test fractions of the videos.")
@click.option("--split-seed", default=0, show_default=True)
@click.option("--device", default="auto", show_default=True, help="auto, cpu or cuda[:k].")
@threads_option
@click.option("--workers", default="auto", show_default=True, callback=_workers, metavar="N|auto",
              help="Extract in this many processes (each decodes, finds faces and runs the backbones on "
                   "batches of videos; torch threads are shared out); auto: one per usable CPU core. "
                   "Same features (within float tolerance) and resumable whatever the number.")
@click.option("--executor", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="local: --workers processes here; ray: --workers Ray actors (extra automm[ray]) on a "
                   "local Ray instance or the cluster at --ray-address (--out must then be on a "
                   "filesystem every node sees).")
@click.option("--ray-address", metavar="auto|HOST:PORT", help="Join this Ray cluster (with --executor ray).")
@progress_flag("Progress bar with elapsed and remaining time (default: when stderr is a terminal); "
               "--quiet: the earlier spelling of --no-progress.", quiet=True)
@json_option
@handled
def extract_command(dataset_dirs: tuple[str, ...], out: Path, dataset: str | None, protocol: str | None,
                    train_dirs: tuple[str, ...], test_dirs: tuple[str, ...], frames: int, positions: int,
                    crop: int, min_seconds: float, backbone_specs: tuple[str, ...],
                    weights_specs: tuple[str, ...], image_weights: str | None, audio_weights: str | None,
                    seed: int, split: str, linked: str, fractions: tuple[float, float, float],
                    split_seed: int, device: str, threads: int | None, workers: int | str, executor: str,
                    ray_address: str | None, progress: bool | None, as_json: bool) -> None:
    """Extract face and speech features of the videos in DATASET_DIRS into a feature cache.

    Several DATASET_DIRS are pooled (mixed-dataset protocol); with --test-dataset they are
    split into train/val and the test datasets form the test split. Unusable videos are
    skipped and listed; re-running resumes an interrupted extraction.
    """
    from automm.data.dataset import UnknownLayoutError
    from automm_media.backbone_set import chosen_backbones, parse_pairs
    from automm_media.extract import extract
    from automm_media.extractor import ExtractSettings
    from automm_media.planning import check_protocol

    roots = dataset_dirs + train_dirs
    check_protocol(protocol, roots, test_dirs)
    settings = ExtractSettings(frames=frames, crop=crop, positions=positions, min_seconds=min_seconds,
                               seed=seed, image_weights=image_weights, audio_weights=audio_weights,
                               backbones=chosen_backbones(backbone_specs),
                               weights=parse_pairs(weights_specs, "--weights"))
    hint = f"the videos extracted so far are kept; continue with the same command: {same_command()}"
    try:
        with resumable(lambda: hint):
            result = extract(roots, out, settings=settings, dataset=dataset, test_roots=test_dirs,
                             fractions=fractions, split_seed=split_seed, split=split, linked=linked,
                             device=device, workers=workers, executor=executor, ray_address=ray_address,
                             progress=progress)
    except UnknownLayoutError as e:
        raise UnknownLayoutError(f"{e}; pass --dataset NAME") from None
    if as_json:
        echo_json("extract", [result.path], path=str(result.path), samples=result.samples,
                  extracted=result.extracted, resumed=result.resumed, up_to_date=result.up_to_date,
                  splits=result.splits, dropped=result.dropped, split=result.split_record,
                  seconds=result.seconds, stage_seconds=result.stage_seconds, workers=result.workers,
                  skipped=result.skipped, warnings=result.warnings, source=result.source)
    else:
        click.echo(summary(result))


_THRESHOLD_HELP = ("Decision threshold on P(fake): eer or target-fpr (chosen on validation by automm "
                   "evaluate) or a number in [0, 1]; a video is labelled fake when P(fake) >= it.")


def threshold_note(threshold: dict[str, Any], origin: str) -> str:
    """One line saying which threshold labels the videos and where it comes from."""
    if threshold["point"] == "given":
        return f"threshold {threshold['value']:.4f} (given)"
    point = threshold["point"] + (f" {threshold['target']:g}" if "target" in threshold else "")
    return f"threshold {threshold['value']:.4f} ({point} on {threshold.get('split')} of {origin})"


@click.command("predict")
@click.argument("paths", nargs=-1, required=True, type=click.Path(), metavar="[MODEL_DIR] VIDEO...")
@click.option("--model", "model_file", type=_FILE,
              help="An exported detector (automm export, TorchScript or ONNX) instead of MODEL_DIR: every "
                   "argument is then a video; needs neither the run directory nor backbone weight files.")
@click.option("--threshold", help=_THRESHOLD_HELP + " Default: the exported file's; for MODEL_DIR its eer "
                                                    "threshold (no label if none was recorded).")
@click.option("--device", default="auto", show_default=True, help="auto, cpu or cuda[:k].")
@click.option("--weights", "weights_specs", multiple=True, metavar="MODALITY=PATH",
              help="Where a modality's backbone weights file is now (repeatable).")
@click.option("--image-weights", type=_FILE, help="Same as --weights image=PATH.")
@click.option("--audio-weights", type=_FILE, help="Same as --weights audio=PATH.")
@json_option
@click.pass_context
def predict_command(ctx: click.Context, paths: tuple[str, ...], model_file: str | None, threshold: str | None,
                    device: str, weights_specs: tuple[str, ...], image_weights: str | None,
                    audio_weights: str | None, as_json: bool) -> None:
    """Print P(fake) and the label at the decision threshold for each video, with the model in
    MODEL_DIR (the --out directory of automm evaluate) or the exported detector --model FILE.

    Exit status 1 when some video could not be scored.
    """
    from automm.train.thresholds import operating_threshold
    from automm_media.backbone_set import parse_pairs
    from automm_media.predict import predict_videos

    chosen: dict[str, Any] | None
    if model_file is not None:
        from automm_media.exported import ExportedDetector

        if weights_specs or image_weights or audio_weights:
            raise click.UsageError("--weights: an exported detector holds its backbone weights")
        model: Any = ExportedDetector(model_file, device=device)
        videos, origin, backbones = paths, model_file, model.description["backbones"]
        evaluation = model.description["evaluation"]
        chosen = model.threshold if threshold is None else operating_threshold(
            threshold, evaluation.get("thresholds"), f"{model_file} (from {evaluation.get('dir')})")
    else:
        from automm_media.predict import Predictor

        if len(paths) < 2:
            raise click.UsageError("give MODEL_DIR and at least one VIDEO (or --model FILE VIDEO...)")
        model = Predictor(paths[0], device=device, image_weights=image_weights, audio_weights=audio_weights,
                          weights=parse_pairs(weights_specs, "--weights"))
        videos, origin, backbones = paths[1:], paths[0], model.source["backbones"]
        recorded = model.metrics.get("thresholds")
        chosen = (operating_threshold(threshold or "eer", recorded, str(model.metrics_file))
                  if threshold is not None or recorded else None)
    results = predict_videos(model.score, videos, None if chosen is None else chosen["value"])
    failed = any("error" in r for r in results)
    if as_json:
        echo_json("predict", status="failed" if failed else "finished", model=origin,
                  backbones={m: r["weights"] for m, r in backbones.items()}, threshold=chosen,
                  predictions=results)
    else:
        click.echo(backbone_note({"backbones": backbones}), err=True)
        click.echo(threshold_note(chosen, model.description["evaluation"]["dir"] if model_file else origin)
                   if chosen else
                   f"no threshold recorded in {origin} (automm evaluate records them): P(fake) only; "
                   "--threshold NUMBER labels the videos", err=True)
        for r in results:
            if "error" in r:
                click.echo(f"automm: error: {r['video']}: {r['error']}", err=True)
            else:
                click.echo(f"{r['p_fake']:.4f}  " + (f"{r['label']}  " if "label" in r else "") + r["video"])
    if failed:
        ctx.exit(1)


@click.command("export")
@click.argument("eval_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--format", "model_format", type=click.Choice(["torchscript", "onnx"]), required=True,
              help="torchscript (runs with torch alone) or onnx (opset 17; onnxruntime, extra automm[onnx]).")
@out_option("Model file to write; its description goes beside it as FILE.json.", required=True,
            type=click.Path(dir_okay=False))
@click.option("--threshold", default="eer", show_default=True, help=_THRESHOLD_HELP)
@click.option("--weights", "weights_specs", multiple=True, metavar="MODALITY=PATH",
              help="Where a modality's backbone weights file is now (repeatable).")
def export_command(eval_dir: str, model_format: str, out: str, threshold: str,
                   weights_specs: tuple[str, ...]) -> None:
    """Export the detector of EVAL_DIR (the --out directory of automm evaluate) to one file: both
    backbones with the weights that made the feature cache and the trained fusion network, mapping
    preprocessed inputs (face crops, spectrogram) to P(fake), with a dynamic batch dimension.

    The preprocessing specification, tap names, class order and the operating threshold with its
    provenance are written into the file and beside it (FILE.json). Run it with
    automm predict --model FILE VIDEO... or from any TorchScript / ONNX runtime (docs/guide.md, Deploy).
    """
    from automm.deploy import sidecar_path
    from automm_media.backbone_set import parse_pairs
    from automm_media.export import export

    description = export(eval_dir, model_format, out, threshold=threshold,
                         weights=parse_pairs(weights_specs, "--weights"))
    inputs = ", ".join(f"{i['name']} {tuple(i['shape'])}" for i in description["inputs"])
    click.echo(f"wrote {out} ({model_format}) and {sidecar_path(out)}")
    click.echo(f"inputs: {inputs}; output: p_fake (batch,)")
    click.echo(threshold_note(description["threshold"], eval_dir))
    click.echo(backbone_note(description))
    click.echo("next:")
    click.echo(f"  automm predict --model {out} VIDEO...")


@click.group("weights")
def weights_command() -> None:
    """Backbone weight files: convert a checkpoint into the file automm extract --weights reads."""


@weights_command.command("convert")
@click.argument("source", type=_FILE, metavar="IN")
@out_option("The .safetensors file to write (torchvision's ResNet-34 key names, no classifier).",
            required=True, type=click.Path(dir_okay=False))
@click.option("--layout", type=click.Choice(["auto", "torchvision", "autospeech"]), default="auto",
              show_default=True,
              help="torchvision: a torchvision.models.resnet34 state dict (ImageNet; faces); autospeech: "
                   "AutoSpeech's VoxCeleb ResNet-34 (speech; kernels transposed to automm's frequency x "
                   "time spectrograms); auto: autospeech when the file has its 1-channel conv1 and "
                   "classifier head.")
def weights_convert_command(source: str, out: str, layout: str) -> None:
    """Turn the ResNet-34 checkpoint IN (.safetensors, or .pt/.pth read with weights_only=True; a
    state dict, or a checkpoint holding one under state_dict/model; prefixes such as module. or
    backbone. removed) into OUT.safetensors for automm extract --weights MODALITY=OUT.

    Nothing is downloaded. A file whose keys or shapes do not fit is one error naming the first
    mismatched keys (narrower speaker ResNet-34s, e.g. WeSpeaker's or voxceleb_trainer's, cannot fit).
    """
    from automm_media.weights import convert

    used, channels = convert(source, out, layout)
    use = "audio (its 1-channel conv1)" if channels == 1 else "image (or audio: conv1 summed to 1 channel)"
    click.echo(f"wrote {out}: ResNet-34 trunk of {source} (layout {used}), for {use}")
    modality = "audio" if channels == 1 else "image"
    click.echo("next:")
    click.echo(f"  automm extract DATASET_DIR --out CACHE_DIR --weights {modality}={out}")
