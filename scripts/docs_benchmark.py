"""Put a finished `kcolor benchmark` into the docs: its results, table figure and grids (as
JPEG) in docs/benchmark/, and the README's benchmark table rendered from those results.

    python scripts/docs_benchmark.py benchmarks/photos-64px      # make docs-figures runs this
    python scripts/docs_benchmark.py benchmarks/photos-64px --steps-runs benchmarks/steps-1600 benchmarks/steps-3200

The README block between `<!-- benchmark:begin -->` and `<!-- benchmark:end -->` is
`kcolor.benchmark.report.render_readme(results)`; tests/test_docs_benchmark.py checks that
the committed README and docs/benchmark/results.json agree. `--steps-runs` are benchmarks
of a few models with more `--steps` (`make docs-steps`): their results go to
docs/benchmark/steps-N.json, and the block between `<!-- benchmark-steps:begin -->` and
`<!-- benchmark-steps:end -->` is `render_steps` of them and the default run.
"""

import argparse
import glob
import json
import os
import shutil

from PIL import Image
from readme_block import write_block

from kcolor.benchmark.report import README_BEGIN, README_END, STEPS_BEGIN, STEPS_END, render_readme, render_steps


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("benchmark", nargs="?", help="a benchmark folder (results.json, table.png, grids/); "
                        "without it only the steps block is rendered, from the committed docs/benchmark/results.json")
    parser.add_argument("--docs", default="docs/benchmark")
    parser.add_argument("--readme", default="README.md")
    parser.add_argument("--steps-runs", nargs="*", default=[], help="benchmark folders of the same setting, more --steps")
    args = parser.parse_args(argv)
    if args.benchmark:
        os.makedirs(os.path.join(args.docs, "grids"), exist_ok=True)
        shutil.copy(os.path.join(args.benchmark, "results.json"), os.path.join(args.docs, "results.json"))
        shutil.copy(os.path.join(args.benchmark, "table.png"), os.path.join(args.docs, "table.png"))
        for grid in glob.glob(os.path.join(args.benchmark, "grids", "*.png")):  # JPEG: a tenth of the bytes in git
            name = os.path.splitext(os.path.basename(grid))[0] + ".jpg"
            Image.open(grid).convert("RGB").save(os.path.join(args.docs, "grids", name), quality=88)
    with open(os.path.join(args.docs, "results.json")) as f:
        results = json.load(f)
    if args.benchmark:
        write_block(args.readme, README_BEGIN, README_END, render_readme(results))
    for folder in args.steps_runs:
        with open(os.path.join(folder, "results.json")) as f:
            steps = json.load(f)["budget"]["steps"]
        shutil.copy(os.path.join(folder, "results.json"), os.path.join(args.docs, f"steps-{steps}.json"))
    steps_files = sorted(glob.glob(os.path.join(args.docs, "steps-*.json")))
    if steps_files:
        runs = [results] + [json.load(open(path)) for path in steps_files]
        write_block(args.readme, STEPS_BEGIN, STEPS_END, render_steps(runs))
    print(f"wrote {args.docs} and the benchmark blocks of {args.readme}")


if __name__ == "__main__":
    main()
