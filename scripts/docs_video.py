"""Put finished `kcolor evaluate-video` runs into the docs: their results in docs/video/,
the README's video table rendered from them, and a strip of six frames of the street clip.

    python scripts/docs_video.py EVAL [EVAL ...] [--clip bikes]       # make docs-video

Each EVAL is an evaluation folder: an image model's (modes none and flow) or a reference
model's (none and reference). Each report is copied to docs/video/MODEL.json, and
docs/video/evaluations.json lists them in order; the strip comes from the first EVAL,
which must have run none and flow. The README block between `<!-- video:begin -->` and
`<!-- video:end -->` is `kcolor.evaluate_video.render_summary` of the reports in that
order; tests/test_docs_video.py checks that it agrees with the committed results.
"""

import argparse
import json
import os
import shutil

import numpy as np
from PIL import Image
from readme_block import write_block

from kcolor.data.videos import video_frames
from kcolor.evaluate_video import RESULTS_NAME, clip_group, render_summary
from kcolor.pictures import save_image_grid

README_BEGIN, README_END = "<!-- video:begin -->", "<!-- video:end -->"
STRIP_FRAMES, STRIP_STEP = 6, 4


def _frames(path, picks):
    return [frame.astype(np.float32) / 255.0 for i, frame in enumerate(video_frames(path)) if i in picks]


def write_strip(evaluation, clip, out):
    """Six frames, STRIP_STEP apart from the clip's middle: gray input, none, flow, true colors."""
    report = json.load(open(os.path.join(evaluation, RESULTS_NAME)))
    row = next(c for c in report["clips"] if c["name"] == clip)
    start = row["input"]["frames"] // 2
    picks = set(range(start, start + STRIP_FRAMES * STRIP_STEP, STRIP_STEP))
    truth = _frames(row["path"], picks)
    gray = [np.repeat(f @ np.array([0.299, 0.587, 0.114], np.float32), 3).reshape(f.shape) for f in truth]
    modes = {m: _frames(os.path.join(evaluation, "videos", f"{clip}-{m}.mp4"), picks) for m in ("none", "flow")}
    columns = [(f"frame {i}", [gray[k], modes["none"][k], modes["flow"][k], truth[k]])
               for k, i in enumerate(sorted(picks))]
    png = out.replace(".jpg", ".png")
    save_image_grid(columns, png, title=f"{clip}: rows gray input, --temporal none, --temporal flow, true colors "
                    f"({report['model_name']})", panel=(2.4, 1.1), interpolation="antialiased")
    Image.open(png).convert("RGB").save(out, quality=88)
    os.remove(png)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("evals", nargs="+", help="evaluate-video output folders; the first gives the strip")
    parser.add_argument("--clip", default="bikes")
    parser.add_argument("--docs", default="docs/video")
    parser.add_argument("--readme", default="README.md")
    args = parser.parse_args(argv)
    os.makedirs(args.docs, exist_ok=True)
    reports, names = [], []
    for folder in args.evals:
        report = json.load(open(os.path.join(folder, RESULTS_NAME)))
        name = f"{report['model_name']}.json"
        shutil.copy(os.path.join(folder, RESULTS_NAME), os.path.join(args.docs, name))
        reports.append(report)
        names.append(name)
    with open(os.path.join(args.docs, "evaluations.json"), "w") as f:
        json.dump({"reports": names}, f, indent=1)
        f.write("\n")
    write_strip(args.evals[0], args.clip, os.path.join(args.docs, f"{args.clip}_strip.jpg"))
    write_block(args.readme, README_BEGIN, README_END, render_summary(reports, clip_group))
    print(f"wrote {args.docs} and the video block of {args.readme}")


if __name__ == "__main__":
    main()
