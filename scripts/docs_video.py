"""Put two finished `kcolor evaluate-video` runs into the docs: their results in docs/video/,
the README's video table rendered from them, and a strip of six frames of the street clip.

    python scripts/docs_video.py IMAGE_RUN_EVAL REFERENCE_RUN_EVAL [--clip bikes]

IMAGE_RUN_EVAL is an image model's evaluation (modes none and flow), REFERENCE_RUN_EVAL a
reference model's (none and reference). The README block between `<!-- video:begin -->`
and `<!-- video:end -->` is `kcolor.evaluate_video.render_summary`; tests/test_docs_video.py
checks that it agrees with the committed results.
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
    parser.add_argument("image_eval")
    parser.add_argument("reference_eval")
    parser.add_argument("--clip", default="bikes")
    parser.add_argument("--docs", default="docs/video")
    parser.add_argument("--readme", default="README.md")
    args = parser.parse_args(argv)
    os.makedirs(args.docs, exist_ok=True)
    reports = []
    for name, folder in (("image", args.image_eval), ("reference", args.reference_eval)):
        shutil.copy(os.path.join(folder, RESULTS_NAME), os.path.join(args.docs, f"{name}.json"))
        reports.append(json.load(open(os.path.join(args.docs, f"{name}.json"))))
    write_strip(args.image_eval, args.clip, os.path.join(args.docs, f"{args.clip}_strip.jpg"))
    write_block(args.readme, README_BEGIN, README_END, render_summary(reports, clip_group))
    print(f"wrote {args.docs} and the video block of {args.readme}")


if __name__ == "__main__":
    main()
