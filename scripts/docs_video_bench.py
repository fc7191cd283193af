"""Put a finished `python -m kcolor.bench.video` run into the docs: its results as
docs/video/bench.json, the README's video speed block and its line on streaming memory
rendered from them.

    python -m kcolor.bench.video --out bench_video.json          # make bench BENCH=video
    python scripts/docs_video_bench.py bench_video.json

The README blocks between `<!-- video-speed:begin -->` and `<!-- video-speed:end -->` and
between `<!-- video-memory:begin -->` and `<!-- video-memory:end -->` are
`kcolor.bench.video.render_speed` and `render_memory`; tests/test_docs_video.py checks that
they agree with the committed results. A run with `--memory only` updates the memory line
and leaves the speed block alone; one with `--memory off` is refused (the memory line
would lose its source).
"""

import argparse
import json
import os
import shutil

from readme_block import write_block

from kcolor.bench.video import render_memory, render_speed

MEMORY_BEGIN, MEMORY_END = "<!-- video-memory:begin -->", "<!-- video-memory:end -->"
SPEED_BEGIN, SPEED_END = "<!-- video-speed:begin -->", "<!-- video-speed:end -->"


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
    target = os.path.join(args.docs, "bench.json")
    if os.path.abspath(args.results) != os.path.abspath(target):
        shutil.copy(args.results, target)
    write_block(args.readme, MEMORY_BEGIN, MEMORY_END, render_memory(report))
    if report.get("kcolor", {}).get("pipelines"):
        write_block(args.readme, SPEED_BEGIN, SPEED_END, render_speed(report))
    print(f"wrote {target} and the video blocks of {args.readme}")


if __name__ == "__main__":
    main()
