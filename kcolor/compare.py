"""Train (or reuse) several models under one config, then evaluate them together.

    python -m kcolor.compare --config flowers --models "autoencoder deep_cnn pix2pix"
    make compare CONFIG=flowers                      # all six models of Paper 001

Each model trains in its own run folder `runs/<config>-<model>`. A finished run is
reused: training resumes from its last checkpoint, which is already at the last epoch.
Then `kcolor.evaluate.evaluate_runs` scores all of them on the same test split and writes
`evaluations/<config>/`.
"""

import argparse
import os
import sys


def compare(config, models, *, data=None, overrides=(), out_dir=None, max_images=None):
    """Train every model in `models` under `config` and evaluate them; returns evaluate's result."""
    from kcolor.config import apply_overrides
    from kcolor.configs import get_config
    from kcolor.evaluate import evaluate_runs
    from kcolor.training.loop import train

    if not models:
        raise ValueError("compare needs at least one model")
    run_dirs = []
    for model in models:
        cfg = get_config(config)
        sets = [f"model={model}", *overrides]
        if data:
            sets.append(f"data={data}")
        cfg = apply_overrides(cfg, sets)
        print(f"== {model}", flush=True)
        result = train(cfg)
        run_dirs.append(result["run_dir"])
    out_dir = out_dir or os.path.join("evaluations", config if not data else f"{config}-{data.replace(':', '_').replace('/', '_')}")
    return evaluate_runs(run_dirs, data=data, out_dir=out_dir, max_images=max_images)


def main(argv=None):
    from kcolor.cli.tflogs import quiet_tensorflow

    quiet_tensorflow()  # before anything imports TensorFlow
    parser = argparse.ArgumentParser(prog="python -m kcolor.compare", description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--models", required=True, help="space- or comma-separated registry names")
    parser.add_argument("--data", default=None)
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--out", default=None)
    parser.add_argument("--max-images", type=int, default=None)
    args = parser.parse_args(argv)
    from kcolor.cli.main import _is_user_error
    from kcolor.config import expand_source
    from kcolor.fs import expand_path

    models = [m for m in args.models.replace(",", " ").split() if m]
    try:
        result = compare(
            args.config,
            models,
            data=expand_source(args.data),
            overrides=args.overrides,
            out_dir=expand_path(args.out),
            max_images=args.max_images,
        )
    except Exception as err:
        if not _is_user_error(err):
            raise  # a bug: keep the traceback
        print(f"kcolor compare: error: {str(err).strip().splitlines()[0]}", file=sys.stderr)
        return 2
    print(result["table_markdown"])
    print(f"wrote {result['out_dir']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
