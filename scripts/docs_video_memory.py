"""Put a finished `python -m kcolor.bench.video --memory only` run into the docs: its results
as docs/video/memory.json and the README's line on streaming memory rendered from them.

    python -m kcolor.bench.video --memory only --out bench_video_memory.json
    python scripts/docs_video_memory.py bench_video_memory.json

The README block between `<!-- video-memory:begin -->` and `<!-- video-memory:end -->` is
`kcolor.bench.video.render_memory`; tests/test_docs_video.py checks that it agrees with
the committed results.
"""

import argparse
import json
import os
import shutil

from readme_block import write_block

from kcolor.bench.video import render_memory

README_BEGIN, README_END = "<!-- video-memory:begin -->", "<!-- video-memory:end -->"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", help="the bench's results file (it must hold `memory`)")
    parser.add_argument("--docs", default="docs/video")
    parser.add_argument("--readme", default="README.md")
    args = parser.parse_args(argv)
    report = json.load(open(args.results))
    if "memory" not in report or "error" in report["memory"]:
        raise SystemExit(f"{args.results} holds no finished memory rows (run the bench with --memory on or only)")
    os.makedirs(args.docs, exist_ok=True)
    target = os.path.join(args.docs, "memory.json")
    if os.path.abspath(args.results) != os.path.abspath(target):
        shutil.copy(args.results, target)
    write_block(args.readme, README_BEGIN, README_END, render_memory(report))
    print(f"wrote {target} and the video-memory block of {args.readme}")


if __name__ == "__main__":
    main()
