"""Put a finished `kcolor benchmark` into the docs: its results, table figure and grids (as
JPEG) in docs/benchmark/, and the README's benchmark table rendered from those results.

    python scripts/docs_benchmark.py benchmarks/photos-64px      # make docs-figures runs this

The README block between `<!-- benchmark:begin -->` and `<!-- benchmark:end -->` is
`kcolor.benchmark.report.render_readme(results)`; tests/test_docs_benchmark.py checks that
the committed README and docs/benchmark/results.json agree.
"""

import argparse
import glob
import json
import os
import shutil

from PIL import Image
from readme_block import write_block

from kcolor.benchmark.report import README_BEGIN, README_END, render_readme


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("benchmark", help="a benchmark folder (results.json, table.png, grids/)")
    parser.add_argument("--docs", default="docs/benchmark")
    parser.add_argument("--readme", default="README.md")
    args = parser.parse_args(argv)
    with open(os.path.join(args.benchmark, "results.json")) as f:
        results = json.load(f)
    os.makedirs(os.path.join(args.docs, "grids"), exist_ok=True)
    shutil.copy(os.path.join(args.benchmark, "results.json"), os.path.join(args.docs, "results.json"))
    shutil.copy(os.path.join(args.benchmark, "table.png"), os.path.join(args.docs, "table.png"))
    for grid in glob.glob(os.path.join(args.benchmark, "grids", "*.png")):  # JPEG: a tenth of the bytes in git
        name = os.path.splitext(os.path.basename(grid))[0] + ".jpg"
        Image.open(grid).convert("RGB").save(os.path.join(args.docs, "grids", name), quality=88)
    write_block(args.readme, README_BEGIN, README_END, render_readme(results))
    print(f"wrote {args.docs} and the benchmark block of {args.readme}")


if __name__ == "__main__":
    main()
