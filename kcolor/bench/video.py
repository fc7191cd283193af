"""Video colorization speed: `make bench BENCH=video` (`python -m kcolor.bench.video`).

What one run measures, at 1280x720 by default, with one thread count for every engine
(`--threads`, default the cores: TensorFlow's intra- and inter-op pools, LiteRT's
`num_threads`, ONNX Runtime's intra- and inter-op threads):

| part             | what runs                                                              |
|------------------|------------------------------------------------------------------------|
| the generator    | Isola's Pix2Pix generator (`pix2pix`, `preset=isola`) at `--size` (256), random weights, saved as a run folder |
| exports          | `kcolor.export.export_run`: the SavedModel and a LiteRT file per `--quantize`, each checked by kcolor's parity bar on frames of the clip (int8 also calibrates on them) |
| model alone      | each colorizer's `predict` at the model's size, batch 1: Keras, SavedModel, every LiteRT file (a file below its parity bar is timed but not eligible) |
| ONNX Runtime     | the same architecture in PyTorch (`kcolor.bench.torch_peer.build_networks`; random weights: no weight copy exists, speed does not depend on them), `torch.onnx.export` (opset 17, static 1x1xSxS), an `InferenceSession`; then its `quantize_dynamic` and `quantize_static` (QDQ int8) versions (`quantize_onnx`), set against LiteRT's dynamic and int8; before and after kcolor's rows, the faster round counts |
| codec alone      | decoding the clip, and encoding it as `colorize_video` does (H.264, CRF 18), in ffmpeg's own processes |
| pipeline         | `kcolor.export.video.colorize_video` end to end (decode, model, flow, encode) with the SavedModel and with the fastest eligible LiteRT file, `temporal` none and flow, after a 3-frame warm-up clip of the same size |
| memory           | `colorize_video` on a short and a long pan of one size (`--memory-frames`, 64 and 640 at `--memory-size` 320x240) with a small random-weight Pix2Pix (`save_generator_run`, as the speed rows) or `--memory-model`, `temporal` none and flow, each in a fresh process: its peak RSS and fps |

The clip is synthetic but photographic: a camera pan over scikit-image's `coffee` photo
(`clip_frames`: `kcolor.data.clips.synthetic_clip`'s pan), written by `kcolor.data.clips.write_clip`. Inside a pipeline run the colorizer's
`predict` and `colorize` are timed by wrapping them on the instance (`StageTimer`; no
kcolor code changes): the steady frame time is the median interval between consecutive
frames' `colorize` calls, the model time the median `predict` call (a video's frames go
through `predict` for every format, the SavedModel's too: `colorize(frames=True)`; a
colorizer that never calls it is given its model-alone median). From these
(`pipeline_split`, `summarize`):

- ratio = kcolor's fastest eligible model-alone fps / ONNX Runtime's fps, goal >= 1.2;
- overhead share = 1 - model time / frame time, per pipeline row, goal < 25 %;
- where the time goes: model, resize and Lab conversion at full size, and the rest
  (decode, scene-cut gray, flow, uint8, encode), with flow's cost and the codec's.
- memory growth = peak RSS of the long clip - of the short one, per temporal mode
  (`memory_growth`); "flat" when it is at most `FLAT_SHARE` (10 %) of holding the extra
  frames as uint8 RGB, so a pipeline that kept even a tenth of each frame would fail.

Each engine runs in its own child process (`--case`): kcolor's rows with the thread
pools set before TensorFlow starts, ONNX Runtime's without TensorFlow loaded. Without
torch, onnx or onnxruntime (the `bench` extra) the ONNX Runtime row says how to install
them and kcolor's rows still run.

Example:
    python -m kcolor.bench.video --frames 30 --repeats 20 --out bench_video.json
    python -m kcolor.bench.video --width 320 --height 180 --frames 6 --size 64 --quantize none   # a smoke run
    python -m kcolor.bench.video --memory only --out bench_video_memory.json   # only the memory rows
"""

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

from kcolor.bench.stats import peak_rss_mb, time_steps

RATIO_GOAL = 1.2  # kcolor's fastest model path over ONNX Runtime's fps
OVERHEAD_GOAL = 0.25  # the pipeline's share of the frame time that is not the model
QUANTIZE = ("none", "float16", "dynamic", "int8")
TEMPORAL = ("none", "flow")
ONNX_OPSET = 17
PEER_MODULES = ("torch", "onnx", "onnxruntime")
INSTALL_HINT = "pip install -e .[bench]"
PHOTO = "coffee"  # scikit-image's 400x600 photo of a coffee cup (install_requires)
WARM_FRAMES = 3
MEMORY_SIZE = (320, 240)  # (width, height) of the memory rows' clips
MEMORY_FRAMES = (64, 640)  # their lengths: a short clip and a ten times longer one
MEMORY_MODEL = {"size": 32, "base_filters": 8, "max_filters": 32}  # their model: memory does not depend on its colors
FLAT_SHARE = 0.1  # "flat": the long clip's extra peak RSS at most this share of holding its extra frames (uint8)


# --------------------------------------------------------------------------- the clip


def clip_frames(width, height, count, *, photo=PHOTO):
    """Yield `count` uint8 RGB frames (height, width, 3): a camera pan over a photo.

    `kcolor.data.clips.synthetic_clip`'s pan (seed 0) over `skimage.data.<photo>`, the
    window moving `width // 320` px a frame (at least 1).

    Example:
        frames = list(clip_frames(128, 72, 3))   # 3 x (72, 128, 3) uint8
    """
    from skimage import data

    from kcolor.data.clips import synthetic_clip
    from kcolor.pixels import to_uint8

    pan = synthetic_clip(getattr(data, photo)(), frames=int(count), size=(width, height), motion="pan", seed=0,
                         step=max(1, width // 320))
    for frame in pan:
        yield to_uint8(frame)


def write_clip(path, width, height, count, *, fps=25):
    """Write `clip_frames(width, height, count)` as an H.264 file (CRF 12, yuv420p); returns `path`.

    Example:
        write_clip("/tmp/pan.mp4", 1280, 720, 30)
    """
    from kcolor.data.clips import write_clip as encode

    return encode(path, clip_frames(width, height, count), fps=fps, crf=12)["path"]


# --------------------------------------------------------------------------- kcolor's rows


def save_generator_run(run_dir, size, *, base_filters=64, max_filters=512, seed=0):
    """Build Pix2Pix (`preset=isola`) with random weights and save it as a run folder.

    Args:
        run_dir: the folder to write (`kcolor.export.run.save_run`: model.json, colorizer.keras).
        size: the model's square input size S.
        base_filters, max_filters: the U-Net's widths (Isola's: 64 and 512).
        seed: Keras' random seed.

    Returns:
        `{"run_dir", "io", "image_size", "options", "params"}` (trainable parameters).

    Example:
        save_generator_run("/tmp/run", 64, base_filters=8, max_filters=32)
    """
    import keras

    from kcolor.export.run import save_run
    from kcolor.models.params import count_params
    from kcolor.models.registry import build_model, get_model

    keras.utils.set_random_seed(int(seed))
    options = {"preset": "isola", "base_filters": int(base_filters), "max_filters": int(max_filters)}
    colorizer = build_model("pix2pix", int(size), **options)["colorizer"]
    io = get_model("pix2pix").io
    save_run(run_dir, colorizer, model_name="pix2pix", io=io, image_size=int(size), options=options)
    params = count_params(colorizer)["trainable"]
    return {"run_dir": run_dir, "io": io, "image_size": int(size), "options": options, "params": params}


def _variant_label(fmt, quantize):
    if fmt == "savedmodel":
        return "savedmodel"
    return "litert " + ("float32" if quantize == "none" else quantize)


def _rejected(target):
    """A variant whose parity was below its bar: its report and file (`<target>.rejected`)."""
    from kcolor import fs

    folder = f"{fs.absolute(target).rstrip('/')}.rejected"
    report = fs.read_json(fs.join(folder, "parity.json"))
    return report, fs.join(folder, fs.basename(report["path"]))


def export_variants(run_dir, out_dir, images, quantizations=QUANTIZE):
    """Export the run as a SavedModel and as LiteRT files, each through kcolor's parity check.

    Args:
        run_dir: the run folder (`save_generator_run`).
        out_dir: where the exports go (one folder each).
        images: uint8 RGB frames; parity is measured (and int8 calibrated) on them.
        quantizations: LiteRT quantizations (`kcolor.export.tflite.QUANTIZE`).

    Returns:
        A list of `{"label", "format", "quantize", "path", "parity_db", "bar_db", "bar_met",
        "file_mb"}`; a variant that could not be exported has `"error"` instead.

    Example:
        variants = export_variants("/tmp/run", "/tmp/exports", frames, ("none", "int8"))
    """
    from kcolor import fs
    from kcolor.export import ParityError, export_run

    variants = []
    for fmt, quantize in [("savedmodel", "none")] + [("tflite", q) for q in quantizations]:
        label = _variant_label(fmt, quantize)
        target = fs.join(out_dir, label.replace(" ", "-"))
        row = {"label": label, "format": fmt, "quantize": quantize}
        try:
            result = export_run(run_dir, fmt, quantize, target, images=images, max_images=len(images),
                                calibration_images=len(images), repeats=2)
            report, path = result["parity"], result["path"]
        except ParityError:
            report, path = _rejected(target)
        except ImportError as err:  # ai-edge-litert, the tflite extra
            variants.append({**row, "error": f"{err} (pip install -e .[tflite])"})
            continue
        variants.append({
            **row, "path": path, "parity_db": report["model"]["psnr_db"], "bar_db": report["bar_db"],
            "bar_met": bool(report.get("bar_met")), "file_mb": report["file_size_mb"],
        })
    return variants


def load_variant(variant, threads):
    """The `kcolor.inference.Colorizer` of an exported variant; LiteRT with `threads` threads."""
    if variant["format"] == "savedmodel":
        from kcolor.export.savedmodel import SavedModelColorizer

        return SavedModelColorizer(variant["path"])
    from kcolor.export.tflite import TFLiteColorizer

    return TFLiteColorizer(variant["path"], num_threads=int(threads))


def model_inputs(colorizer, frame):
    """The model's inputs for one uint8 frame, at its size S (`kcolor.inference.prepare`), as NumPy."""
    from kcolor.inference import prepare

    inputs = prepare(np.asarray(frame, np.float32) / 255.0, colorizer.io, colorizer.image_size)
    return {name: np.asarray(value) for name, value in inputs.items()}


def time_model(predict, inputs, *, repeats, warmup):
    """Frames/s of `predict(inputs)` at batch 1: the median of `repeats` calls after `warmup`.

    Returns:
        `{"fps", "ms_median", "ms_q1", "ms_q3", "ms_min", "cpu_per_wall"}`
        (`kcolor.bench.stats.time_steps`, the one timing of every bench row).

    Example:
        time_model(colorizer.predict, model_inputs(colorizer, frame), repeats=20, warmup=3)
    """
    row = time_steps(lambda: predict(inputs), int(repeats), 1, warmup=int(warmup))
    return {
        "fps": row["images_per_sec"],
        "ms_median": row["step_ms_median"],
        "ms_q1": row["step_ms_q1"],
        "ms_q3": row["step_ms_q3"],
        "ms_min": row["step_ms_min"],
        "cpu_per_wall": row["cpu_per_wall"],
    }


def measure_models(run_dir, variants, frame, *, threads, repeats, warmup):
    """Model-alone rows: the Keras colorizer and every exported variant, one at a time.

    A variant below its parity bar is timed too, with `eligible` False (it cannot be the
    fastest path); Keras is the reference of the parity check, so it is eligible.

    Returns:
        A list of rows: the variant's keys, `eligible`, and `time_model`'s numbers.
    """
    import gc

    from kcolor.export.run import KerasColorizer

    rows = []
    for variant in [{"label": "keras", "format": "keras", "quantize": "none", "bar_met": True}] + list(variants):
        row = dict(variant)
        if "error" in variant:
            rows.append(row)
            continue
        colorizer = KerasColorizer.from_path(run_dir) if variant["format"] == "keras" else load_variant(variant, threads)
        row.update(time_model(colorizer.predict, model_inputs(colorizer, frame), repeats=repeats, warmup=warmup))
        row["eligible"] = bool(variant.get("bar_met"))
        rows.append(row)
        del colorizer
        gc.collect()
    return rows


def measure_codec(clip, out_path):
    """ffmpeg alone on the clip: ms per frame to decode it, and to encode it as `colorize_video` does.

    Both run in ffmpeg's own processes with ffmpeg's own threads, and each figure includes
    starting ffmpeg; inside the pipeline they overlap with the model.

    Returns:
        `{"frames", "decode_ms", "encode_ms"}`.
    """
    import imageio_ffmpeg

    from kcolor.export.video import CRF

    start = time.perf_counter()
    reader = imageio_ffmpeg.read_frames(os.fspath(clip), pix_fmt="rgb24")
    meta = next(reader)
    frames = [bytes(raw) for raw in reader]
    decode = time.perf_counter() - start
    width, height = meta["size"]
    start = time.perf_counter()
    writer = imageio_ffmpeg.write_frames(
        os.fspath(out_path), (width, height), fps=meta.get("fps") or 25, codec="libx264", pix_fmt_out="yuv420p",
        quality=None, macro_block_size=1, output_params=["-crf", str(CRF)], ffmpeg_log_level="error",
    )
    writer.send(None)
    for raw in frames:
        writer.send(np.frombuffer(raw, np.uint8).reshape(height, width, 3))
    writer.close()
    encode = time.perf_counter() - start
    count = max(len(frames), 1)
    return {"frames": len(frames), "decode_ms": 1000 * decode / count, "encode_ms": 1000 * encode / count}


class StageTimer:
    """Times a colorizer's `predict` and `colorize` calls while it colorizes a clip.

    The two methods are wrapped on the instance (and unwrapped on exit), so
    `colorize_video` runs unchanged: `starts` holds when each `colorize` call began,
    `colorize` and `predict` each call's seconds.

    Example:
        with StageTimer(colorizer) as timer:
            colorize_video(colorizer, "clip.mp4", "out.mp4", progress=False)
        pipeline_split(timer.starts, timer.colorize, timer.predict)
    """

    def __init__(self, colorizer):
        self.colorizer = colorizer
        self.starts, self.colorize, self.predict = [], [], []

    def _wrap(self, name, durations, starts=None):
        inner = getattr(self.colorizer, name)

        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            if starts is not None:
                starts.append(t0)
            try:
                return inner(*args, **kwargs)
            finally:
                durations.append(time.perf_counter() - t0)

        setattr(self.colorizer, name, timed)

    def __enter__(self):
        self._wrap("predict", self.predict)
        self._wrap("colorize", self.colorize, self.starts)
        return self

    def __exit__(self, *exc):
        for name in ("predict", "colorize"):
            self.colorizer.__dict__.pop(name, None)  # the class's methods again
        return False


def pipeline_split(starts, colorize, predict, *, model_ms=None):
    """Where a pipeline frame's time goes, from `StageTimer`'s records (seconds).

    Args:
        starts: when each frame's `colorize` call began (at least two frames).
        colorize: each `colorize` call's duration.
        predict: each `predict` call's duration; empty when the colorizer runs its model
            inside its own graph (SavedModel), then `model_ms` (its model-alone median) is used.
        model_ms: the model time to use when `predict` is empty.

    Returns:
        `{"frame_ms", "steady_fps", "model_ms", "model_time_from", "resize_lab_ms",
        "rest_ms", "overhead_share", "predict_calls"}`: medians; the frame time is the
        interval between consecutive frames; resize_lab = colorize - model (resize to S,
        Lab at full size, chroma upsampling); rest = frame - colorize (decode, scene-cut
        gray, flow, uint8, encode).

    Example:
        pipeline_split([0.0, 0.2, 0.4], [0.15] * 3, [0.1] * 3)["overhead_share"]   # 0.5
    """
    if len(starts) < 2:
        raise ValueError(f"pipeline_split needs at least two frames. Received: {len(starts)}")
    frame_ms = 1000 * statistics.median(np.diff(np.asarray(starts, np.float64)).tolist())
    colorize_ms = 1000 * statistics.median(colorize)
    if predict:
        model_ms, source = 1000 * statistics.median(predict), "timed predict calls"
    elif model_ms is None:
        raise ValueError("the colorizer's predict was never called: pass model_ms (its model-alone median)")
    else:
        source = "model-alone median (the model runs inside the colorizer's graph)"
    return {
        "frame_ms": frame_ms,
        "steady_fps": 1000 / frame_ms,
        "model_ms": model_ms,
        "model_time_from": source,
        "resize_lab_ms": colorize_ms - model_ms,
        "rest_ms": frame_ms - colorize_ms,
        "overhead_share": 1 - model_ms / frame_ms,
        "predict_calls": len(predict),
    }


def _quiet(message):
    pass


def measure_pipeline(colorizer, clip, out_path, *, temporal, warm_clip=None, model_ms=None):
    """`colorize_video` end to end on `clip`, after a warm-up run on `warm_clip` (same size).

    Returns:
        `pipeline_split`'s numbers plus `{"temporal", "frames", "seconds", "fps",
        "scene_cuts"}`; `fps` is `colorize_video`'s own `fps_achieved` (the whole call:
        ffmpeg's start, every frame, the output's probe), `steady_fps` one frame's rate.

    Example:
        measure_pipeline(colorizer, "pan.mp4", "out.mp4", temporal="flow", warm_clip="warm.mp4")
    """
    from kcolor.export.video import colorize_video

    if warm_clip:  # traces the full-size graphs (and XLA-compiles flow's Lab maths) before timing
        colorize_video(colorizer, warm_clip, out_path, temporal=temporal, progress=False, log=_quiet)
    with StageTimer(colorizer) as timer:
        result = colorize_video(colorizer, clip, out_path, temporal=temporal, progress=False, log=_quiet)
    row = pipeline_split(timer.starts, timer.colorize, timer.predict, model_ms=model_ms)
    row.update(temporal=temporal, frames=result["frames"], seconds=result["seconds"],
               fps=result["fps_achieved"], scene_cuts=len(result["scene_cuts"]))
    return row


def fastest(rows):
    """The eligible row with the most frames/s, or None."""
    ok = [r for r in rows if r.get("eligible") and "fps" in r]
    return max(ok, key=lambda r: r["fps"]) if ok else None


def measure_pipelines(variants, model_rows, clip, warm_clip, out_dir, *, threads, temporal=TEMPORAL):
    """Pipeline rows for the SavedModel and the fastest eligible LiteRT file, each temporal mode."""
    by_label = {r["label"]: r for r in model_rows}
    litert = fastest([r for r in model_rows if r["format"] == "tflite"])
    chosen = [v for v in variants if "error" not in v and (
        v["format"] == "savedmodel" and by_label[v["label"]].get("eligible") or litert and v["label"] == litert["label"])]
    rows = []
    for variant in chosen:
        colorizer = load_variant(variant, threads)
        for mode in temporal:
            out = os.path.join(out_dir, f"{variant['label'].replace(' ', '-')}-{mode}.mp4")
            row = measure_pipeline(colorizer, clip, out, temporal=mode, warm_clip=warm_clip,
                                   model_ms=by_label[variant["label"]]["ms_median"])
            rows.append({"label": variant["label"], **row})
        del colorizer
    return rows


def _versions():
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in ("tensorflow", "keras", "ai-edge-litert", "opencv-python-headless", "imageio-ffmpeg"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            pass
    return found


def measure_kcolor(case):
    """kcolor's rows, in their own process: clip, run folder, exports, model alone, codec, pipelines.

    Case keys: `workdir`, `width`, `height`, `frames`, `fps`, `size`, `base_filters`,
    `max_filters`, `threads`, `repeats`, `warmup`, `quantize` (list), `parity_frames`.

    Returns:
        `{"clip", "model", "exports", "model_alone", "codec", "pipelines", "threads",
        "peak_rss_mb", "versions"}`.

    Example:
        measure_kcolor(dict(workdir="/tmp/vb", width=128, height=72, frames=3, fps=25, size=64,
                            base_filters=8, max_filters=32, threads=2, repeats=3, warmup=1, quantize=["none"]))
    """
    # the thread pools are set before TensorFlow runs its first op
    from kcolor.training.strategy import set_threads

    threads = int(case["threads"])
    set_threads(threads, threads)
    work = case["workdir"]
    os.makedirs(work, exist_ok=True)
    size = (int(case["width"]), int(case["height"]))
    clip = write_clip(os.path.join(work, "pan.mp4"), *size, int(case["frames"]), fps=case.get("fps", 25))
    warm = write_clip(os.path.join(work, "warm.mp4"), *size, WARM_FRAMES, fps=case.get("fps", 25))
    frames = list(clip_frames(*size, int(case["frames"])))
    picks = np.linspace(0, len(frames) - 1, min(len(frames), int(case.get("parity_frames", 8)))).round().astype(int)
    images = [frames[i] for i in sorted(set(picks.tolist()))]
    model = save_generator_run(os.path.join(work, "run"), case["size"], base_filters=case["base_filters"],
                               max_filters=case["max_filters"])
    variants = export_variants(model["run_dir"], os.path.join(work, "exports"), images, tuple(case["quantize"]))
    model_rows = measure_models(model["run_dir"], variants, frames[0], threads=threads,
                                repeats=case["repeats"], warmup=case["warmup"])
    codec = measure_codec(clip, os.path.join(work, "codec.mp4"))
    pipelines = measure_pipelines(variants, model_rows, clip, warm, work, threads=threads)
    return {
        "clip": {"width": size[0], "height": size[1], "frames": int(case["frames"]), "content": f"pan over skimage {PHOTO}",
                 "parity_images": len(images)},
        "model": model,
        "exports": variants,
        "model_alone": model_rows,
        "codec": codec,
        "pipelines": pipelines,
        "threads": {"tensorflow_intra_op": threads, "tensorflow_inter_op": threads, "litert": threads},
        "peak_rss_mb": peak_rss_mb(),
        "versions": _versions(),
    }


# --------------------------------------------------------------------------- memory in the clip's length


def _generator_run_case(case):
    """The memory rows' default model: `save_generator_run` at `case`'s size and widths, as JSON."""
    saved = save_generator_run(case["run_dir"], case["size"], base_filters=case["base_filters"],
                               max_filters=case["max_filters"])
    return {"run_dir": saved["run_dir"], "model": "pix2pix", "image_size": saved["image_size"],
            "options": saved["options"], "params": saved["params"]}


def measure_stream(case):
    """One memory row, in a fresh process: `colorize_video` on `case["clip"]`, its peak RSS and fps.

    Case keys: `run_dir`, `clip`, `out`, `temporal`, `threads`.

    Returns:
        `{"temporal", "frames", "seconds", "fps", "peak_rss_mb"}`: `peak_rss_mb` this Python
        process's high-water mark (`ru_maxrss`: TensorFlow, the model, every frame buffer).
        ffmpeg's decoder and encoder are left out: `RUSAGE_CHILDREN` would report them at
        this process's size, since a forked child's `ru_maxrss` starts at its parent's.
    """
    from kcolor.training.strategy import set_threads

    set_threads(int(case["threads"]), int(case["threads"]))
    from kcolor.export.video import colorize_video

    result = colorize_video(case["run_dir"], case["clip"], case["out"], temporal=case["temporal"], progress=False,
                            log=_quiet)
    return {"temporal": case["temporal"], "frames": result["frames"], "seconds": result["seconds"],
            "fps": result["fps_achieved"], "peak_rss_mb": peak_rss_mb()}


def memory_growth(rows, width, height, *, flat_share=FLAT_SHARE):
    """Per temporal mode, the peak RSS of the longest clip less the shortest's, and the verdict.

    The criterion: a clip's frames held in memory would add at least one uint8 RGB frame
    (`width * height * 3` bytes) per frame, so the growth from the short clip to the long
    one is **flat** when it is at most `flat_share` of that, i.e. `growth_mb <= flat_share *
    (long frames - short frames) * width * height * 3 / 2**20`.

    Args:
        rows: `measure_stream` rows (`temporal`, `frames`, `peak_rss_mb`, `fps`), at least two
            clip lengths per mode.
        width, height: the clips' frame size.
        flat_share: the share of "every extra frame held" that still counts as flat.

    Returns:
        `{"frame_mb", "flat_share", "modes": [{"temporal", "short_frames", "long_frames",
        "short_rss_mb", "long_rss_mb", "growth_mb", "growth_mb_per_100_frames", "held_mb",
        "budget_mb", "flat", "short_fps", "long_fps"}], "flat"}`.

    Example:
        memory_growth([{"temporal": "none", "frames": 64, "peak_rss_mb": 900.0, "fps": 30.0},
                       {"temporal": "none", "frames": 640, "peak_rss_mb": 902.0, "fps": 31.0}], 320, 240)
    """
    frame_mb = width * height * 3 / 2**20
    modes = []
    for mode in dict.fromkeys(r["temporal"] for r in rows):
        ok = sorted((r for r in rows if r["temporal"] == mode), key=lambda r: r["frames"])
        short, long = ok[0], ok[-1]
        extra = long["frames"] - short["frames"]
        if extra <= 0:
            raise ValueError(f"memory_growth needs two clip lengths for temporal={mode}. "
                             f"Received: frames {[r['frames'] for r in ok]}")
        growth = long["peak_rss_mb"] - short["peak_rss_mb"]
        held = extra * frame_mb
        modes.append({"temporal": mode, "short_frames": short["frames"], "long_frames": long["frames"],
                      "short_rss_mb": short["peak_rss_mb"], "long_rss_mb": long["peak_rss_mb"], "growth_mb": growth,
                      "growth_mb_per_100_frames": 100 * growth / extra, "held_mb": held,
                      "budget_mb": flat_share * held, "flat": growth <= flat_share * held,
                      "short_fps": short["fps"], "long_fps": long["fps"]})
    return {"frame_mb": frame_mb, "flat_share": flat_share, "modes": modes,
            "flat": all(m["flat"] for m in modes) if modes else None}


def measure_memory(workdir, *, width, height, frames=MEMORY_FRAMES, temporal=TEMPORAL, threads=1, timeout=3600,
                   run_dir=None, default_model=MEMORY_MODEL):
    """Does `colorize_video` stream? The same pipeline on clips of each length in `frames`, each in a fresh process.

    The clips are `write_clip` pans of one frame size; the model is `run_dir`, else a small
    random-weight Pix2Pix saved here (`save_generator_run` with `default_model`'s size and
    widths, in its own process: the memory does not depend on how good its colors are).
    Every (mode, length) row runs in its own `python -m kcolor.bench.video --case` process,
    so each peak RSS is that clip's alone.

    Returns:
        `{"clip", "model", "rows", "summary"}`: `rows` `measure_stream`'s, `summary`
        `memory_growth`'s; a failed child gives `{"error"}` in `model` or as `rows`' error.

    Example:
        measure_memory("/tmp/mem", width=320, height=240, frames=(64, 640), threads=2)
    """
    os.makedirs(workdir, exist_ok=True)
    clips = {n: write_clip(os.path.join(workdir, f"pan-{n}.mp4"), width, height, int(n)) for n in frames}
    if run_dir:
        model = {"run_dir": os.fspath(run_dir), "given": True}
    else:
        model = _run_child(dict(kind="generator_run", run_dir=os.path.join(workdir, "run"), **default_model), timeout)
        if "error" in model:
            return {"clip": {}, "model": model, "rows": [], "summary": memory_growth([], width, height)}
    rows = []
    for mode in temporal:
        for n, clip in clips.items():
            case = dict(kind="stream", run_dir=model["run_dir"], clip=clip, temporal=mode, threads=threads,
                        out=os.path.join(workdir, f"out-{mode}-{n}.mp4"))
            rows.append({"temporal": mode, "frames": int(n), **_run_child(case, timeout)})
    failed = [r for r in rows if "error" in r]
    result = {"clip": {"width": width, "height": height, "frames": [int(n) for n in frames],
                       "content": f"pan over skimage {PHOTO}"},
              "model": model, "threads": threads, "rows": rows}
    if failed:
        result["error"] = failed[0]["error"]
        result["summary"] = memory_growth([], width, height)
    else:
        result["summary"] = memory_growth(rows, width, height)
    return result


def memory_lines(memory):
    """The printed memory rows and verdicts (`measure_memory`'s result)."""
    if not memory:
        return []
    if "error" in memory or "error" in memory.get("model", {}):
        return [f"memory in the clip's length: failed: {memory.get('error') or memory['model']['error']}"]
    clip, s = memory["clip"], memory["summary"]
    lines = [f"memory in the clip's length ({clip['width']}x{clip['height']}, one fresh process a row; flat: growth "
             f"<= {s['flat_share']:.0%} of holding every extra frame as uint8 RGB, {s['frame_mb']:.3f} MB a frame)",
             f"{'temporal':>8} {'frames':>13} {'peak RSS MB':>17} {'growth MB':>10} {'/100 frames':>12} "
             f"{'budget MB':>10} {'fps':>13}  verdict"]
    for m in s["modes"]:
        lines.append(f"{m['temporal']:>8} {m['short_frames']:>6} -> {m['long_frames']:<4} "
                     f"{m['short_rss_mb']:7.1f} -> {m['long_rss_mb']:<7.1f} {m['growth_mb']:10.1f} "
                     f"{m['growth_mb_per_100_frames']:12.2f} {m['budget_mb']:10.1f} "
                     f"{m['short_fps']:5.1f} -> {m['long_fps']:<5.1f}  {'flat' if m['flat'] else 'GROWS'}")
    return lines


def render_memory(report):
    """The README's line on streaming memory, from a bench report holding `memory` (docs/video/bench.json).

    Example:
        render_memory(json.load(open("docs/video/bench.json")))
    """
    memory = report["memory"]
    clip, s = memory["clip"], memory["summary"]
    parts = []
    for m in s["modes"]:
        parts.append(f"`{m['temporal']}` {m['short_rss_mb']:.0f} MB at {m['short_frames']} frames and "
                     f"{m['long_rss_mb']:.0f} MB at {m['long_frames']} frames ({m['growth_mb']:+.1f} MB, "
                     f"{m['growth_mb_per_100_frames']:+.2f} MB per 100 frames; {m['long_fps']:.1f} fps)")
    extra = s["modes"][0]["long_frames"] - s["modes"][0]["short_frames"]
    verdict = "flat" if s["flat"] else "NOT flat"
    return (f"Peak memory of `kcolor colorize --colorizer RUN CLIP.mp4` in the clip's length, {clip['width']}x{clip['height']}, "
            f"each clip in a fresh process: {'; '.join(parts)}. Holding the {extra} extra frames as uint8 RGB would "
            f"add {s['modes'][0]['held_mb']:.0f} MB; the growth is {verdict} by the bench's criterion (at most "
            f"{s['flat_share']:.0%} of that). Measured by the memory rows of `python -m kcolor.bench.video` on "
            f"{report['date'][:10]} ({report['machine'].get('logical_cores', '?')} cores).\n")


FLOAT_LABELS = ("keras", "savedmodel", "litert float32", "litert float16")  # paths that keep float weights


def render_speed(report):
    """The README's video speed block, from a bench report with its speed rows (docs/video/bench.json).

    The model-alone and pipeline tables, the two goals as `summarize` measured them, and the
    fastest float path against ONNX Runtime (which runs the float32 graph), so a ratio won
    by quantized weights is not read as a like-for-like one.

    Example:
        render_speed(json.load(open("docs/video/bench.json")))
    """
    k, s = report["kcolor"], report["summary"]
    clip = k.get("clip", {})
    lines = ["| model alone, batch 1 | fps | ms (median) | parity |", "|---|---|---|---|"]
    for row in k.get("model_alone", []):
        if "fps" in row:
            parity = f"{row['parity_db']:.1f} dB (bar {row['bar_db']:.0f})" if "parity_db" in row else "the reference"
            lines.append(f"| kcolor {row['label']} | {row['fps']:.2f} | {row['ms_median']:.1f} | {parity} |")
    timed = [r for r in report["onnxruntime"] if "fps" in r]
    if timed:
        ort = max(timed, key=lambda r: r["fps"])
        lines.append(f"| ONNX Runtime, float32 (faster of {len(timed)} rounds) | {ort['fps']:.2f} | "
                     f"{ort['ms_median']:.1f} | |")
        for label, row in fastest_quantized(report["onnxruntime"]).items():
            lines.append(f"| ONNX Runtime, {label.split()[-1]} (faster of {len(timed)} rounds) | {row['fps']:.2f} | "
                         f"{row['ms_median']:.1f} | max diff to its float32 {row['max_abs_diff_vs_float']:.3f} |")
    lines += ["", "| pipeline | temporal | fps (steady) | frame ms | model ms | overhead |", "|---|---|---|---|---|---|"]
    for r in k.get("pipelines", []):
        lines.append(f"| {r['label']} | {r['temporal']} | {r['steady_fps']:.2f} | {r['frame_ms']:.1f} | "
                     f"{r['model_ms']:.1f} | {r['overhead_share']:.0%} |")
    lines.append("")
    if s["ratio"] is not None:
        lines.append(f"- kcolor's fastest path, {s['fastest']}, {s['fastest_fps']:.2f} fps against ONNX Runtime's "
                     f"{s['onnxruntime_fps']:.2f}: {s['ratio']:.2f}x (goal at least {s['ratio_goal']}x: "
                     f"{_yes(s['ratio_met'])}).")
        floats = [r for r in k.get("model_alone", []) if r.get("label") in FLOAT_LABELS and "fps" in r]
        if floats:
            best = max(floats, key=lambda r: r["fps"])
            lines.append(f"- Float weights on both sides: kcolor {best['label']} {best['fps']:.2f} fps, "
                         f"{best['fps'] / s['onnxruntime_fps']:.2f}x ONNX Runtime's.")
        for pair in s.get("quantized_pairs", []):
            lines.append(f"- Quantized on both sides, {pair['kind']}: kcolor litert {pair['kind']} {pair['kcolor_fps']:.2f} "
                         f"fps, {pair['ratio']:.2f}x ONNX Runtime {pair['kind']}'s {pair['onnxruntime_fps']:.2f}.")
    shares = ", ".join(f"{o['temporal']} {o['overhead_share']:.0%}" for o in s["overhead"])
    lines.append(f"- The pipeline's own share of a frame (decode, resize, Lab at {clip.get('width')}x{clip.get('height')}, "
                 f"flow, encode) on the fastest path: {shares} (goal below {s['overhead_goal']:.0%}: "
                 f"{_yes(s['overhead_met'])}).")
    lines.append(f"- Measured by `python -m kcolor.bench.video` on {report['date'][:10]} "
                 f"({report['machine'].get('logical_cores', '?')} cores): {report['settings']}.")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- ONNX Runtime's row


def missing_peer_modules(modules=PEER_MODULES):
    """The modules of the ONNX Runtime row (the `bench` extra) that are not installed."""
    return [m for m in modules if importlib.util.find_spec(m) is None]


def export_onnx(path, size, *, base_filters=64, max_filters=512, seed=0):
    """Export the PyTorch generator (`torch_peer.build_networks`, eval mode) to ONNX, opset 17.

    The input `gray` is static, (1, 1, size, size) in [0, 1]; the output `rgb` (1, 3, size,
    size). The TorchScript exporter is used (`dynamo=False`): the dynamo one needs
    `onnxscript`, which the bench extra does not install.

    Returns:
        `{"path", "params", "torch", "example", "reference"}`: params the generator's
        trainable parameters; `reference` is torch's own output on the input `example`.

    Example:
        export_onnx("/tmp/g.onnx", 64, base_filters=8, max_filters=32)
    """
    import warnings

    from kcolor.bench.torch_peer import build_networks, count_parameters, require_torch

    torch = require_torch()
    torch.manual_seed(int(seed))
    generator, _ = build_networks(int(size), base_filters=int(base_filters), max_filters=int(max_filters))
    generator.eval()
    example = torch.rand(1, 1, int(size), int(size))
    kwargs = dict(opset_version=ONNX_OPSET, input_names=["gray"], output_names=["rgb"])
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        try:
            torch.onnx.export(generator, (example,), os.fspath(path), dynamo=False, **kwargs)
        except TypeError:  # a torch without the `dynamo` argument exports with TorchScript anyway
            torch.onnx.export(generator, (example,), os.fspath(path), **kwargs)
        reference = generator(example).numpy()
    return {"path": os.fspath(path), "params": count_parameters(generator), "torch": torch.__version__,
            "example": example.numpy(), "reference": reference}


def onnxruntime_session(path, threads):
    """An ONNX Runtime CPU `InferenceSession` with `threads` intra-op and inter-op threads."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = int(threads)
    options.inter_op_num_threads = int(threads)
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(os.fspath(path), options, providers=["CPUExecutionProvider"])


ORT_QUANTIZED = ("dynamic", "int8")  # ONNX Runtime's counterparts of LiteRT's `dynamic` and `int8`
CALIBRATION_INPUTS = 8


def quantize_onnx(path, kind, size, *, seed=0):
    """An ONNX Runtime quantization of the float model at `path`, beside it: `kind` "dynamic"
    (`quantize_dynamic`: int8 weights, activations quantized at run time, as LiteRT's dynamic
    range) or "int8" (`quantize_static`, QDQ format, int8 weights and uint8 activations
    calibrated with MinMax on `CALIBRATION_INPUTS` uniform random gray inputs: the generator's
    weights are random too, and the speed does not depend on the ranges).

    Weight scales are per tensor (`per_channel=False`, the quantizer's default, passed
    explicitly). LiteRT's int8 export uses per-channel scales for convolutions; per-channel
    ONNX Runtime rows were not measured.

    Example:
        quantize_onnx("/tmp/g.onnx", "int8", 64)   # "/tmp/g.int8.onnx"
    """
    from onnxruntime import quantization as q

    if kind not in ORT_QUANTIZED:
        raise ValueError(f"ONNX Runtime quantization {kind!r} unknown; valid: {', '.join(ORT_QUANTIZED)}")
    out = os.path.splitext(os.fspath(path))[0] + f".{kind}.onnx"
    if kind == "dynamic":
        q.quantize_dynamic(os.fspath(path), out, weight_type=q.QuantType.QInt8, per_channel=False)
        return out
    rng = np.random.default_rng(seed)
    feeds = iter([{"gray": rng.random((1, 1, int(size), int(size)), dtype=np.float32)}
                  for _ in range(CALIBRATION_INPUTS)])

    class Reader(q.CalibrationDataReader):
        def get_next(self):
            return next(feeds, None)

    q.quantize_static(os.fspath(path), out, Reader(), quant_format=q.QuantFormat.QDQ,
                      activation_type=q.QuantType.QUInt8, weight_type=q.QuantType.QInt8, per_channel=False)
    return out


def measure_onnxruntime(case):
    """ONNX Runtime's rows, in a process without TensorFlow: export, check, time the float32
    graph, then each of its quantizations (`quantize_onnx`) on the same input.

    Case keys: `workdir`, `size`, `base_filters`, `max_filters`, `threads`, `repeats`, `warmup`.

    Returns:
        `time_model`'s numbers plus `{"label", "params", "max_abs_diff_vs_torch", "threads",
        "onnxruntime", "torch", "quantized": [time_model's numbers plus {"label",
        "max_abs_diff_vs_float"} or {"label", "error"}]}`, or `{"skipped": why}` without the
        bench extra.
    """
    missing = missing_peer_modules()
    if missing:
        return {"skipped": f"the ONNX Runtime row needs {', '.join(missing)}: {INSTALL_HINT}"}
    import onnxruntime as ort
    import torch

    threads = int(case["threads"])
    torch.set_num_threads(threads)
    os.makedirs(case["workdir"], exist_ok=True)
    exported = export_onnx(os.path.join(case["workdir"], "generator.onnx"), case["size"],
                           base_filters=case["base_filters"], max_filters=case["max_filters"])
    session = onnxruntime_session(exported["path"], threads)
    check = session.run(None, {"gray": exported["example"]})[0]
    gray = np.random.default_rng(0).random((1, 1, int(case["size"]), int(case["size"])), dtype=np.float32)
    row = time_model(lambda feed: session.run(None, feed), {"gray": gray}, repeats=case["repeats"], warmup=case["warmup"])
    quantized = []
    for kind in ORT_QUANTIZED:
        label = f"onnxruntime {kind}"
        try:
            small = onnxruntime_session(quantize_onnx(exported["path"], kind, case["size"]), threads)
        except Exception as err:  # an op the quantizer or the CPU provider refuses: the row says so
            quantized.append({"label": label, "error": f"{type(err).__name__}: {err}"[:300]})
            continue
        out = small.run(None, {"gray": exported["example"]})[0]
        timed = time_model(lambda feed: small.run(None, feed), {"gray": gray}, repeats=case["repeats"],
                           warmup=case["warmup"])
        quantized.append({"label": label, **timed, "max_abs_diff_vs_float": float(np.max(np.abs(out - check)))})
    return {
        "label": "onnxruntime",
        **row,
        "quantized": quantized,
        "params": exported["params"],
        "max_abs_diff_vs_torch": float(np.max(np.abs(check - exported["reference"]))),
        "threads": {"intra_op": threads, "inter_op": threads},
        "onnxruntime": ort.__version__,
        "torch": exported["torch"],
        "peak_rss_mb": peak_rss_mb(),
    }


def measure_case(case):
    """One child process's work: `kind` "kcolor", "onnxruntime", "stream" or "generator_run"."""
    kinds = {"kcolor": measure_kcolor, "onnxruntime": measure_onnxruntime, "stream": measure_stream,
             "generator_run": _generator_run_case}
    if case.get("kind") not in kinds:
        raise ValueError(f"Unknown video bench case kind {case.get('kind')!r}. Valid: {', '.join(kinds)}")
    return kinds[case["kind"]](case)


# --------------------------------------------------------------------------- the summary


def _headline(kcolor):
    """The pipeline rows of kcolor's fastest path: of the colorizers the pipeline ran, the one
    whose model alone is fastest (the fastest eligible LiteRT file, unless the SavedModel beats it)."""
    speed = {r["label"]: r.get("fps", 0.0) for r in kcolor.get("model_alone", [])}
    pipelines = kcolor.get("pipelines", [])
    if not pipelines:
        return []
    label = max({r["label"] for r in pipelines}, key=lambda name: speed.get(name, 0.0))
    return [r for r in pipelines if r["label"] == label]


def where_time_goes(kcolor):
    """Lines saying where a pipeline frame's time goes, what flow adds, and the codec's own cost."""
    lines = []
    clip = kcolor.get("clip", {})
    size = f"{clip.get('width')}x{clip.get('height')}"
    for row in kcolor.get("pipelines", []):
        f, m, r, o = row["frame_ms"], row["model_ms"], row["resize_lab_ms"], row["rest_ms"]
        lines.append(
            f"{row['label']} / {row['temporal']}: {f:.0f} ms a frame = model {m:.0f} ({m / f:.0%}) + resize to the model "
            f"and Lab at {size} {r:.0f} ({r / f:.0%}) + decode, scene-cut gray, flow, uint8, encode {o:.0f} ({o / f:.0%})"
        )
    by_key = {(r["label"], r["temporal"]): r for r in kcolor.get("pipelines", [])}
    for (label, mode), row in by_key.items():
        base = by_key.get((label, "none"))
        if mode == "flow" and base:
            lines.append(f"{label}: flow adds {row['frame_ms'] - base['frame_ms']:.0f} ms a frame "
                         "(DIS flow both ways, warp, occlusion mask, blend, Lab back to RGB)")
    codec = kcolor.get("codec")
    if codec:
        lines.append(f"ffmpeg alone on the clip: decode {codec['decode_ms']:.1f} ms, encode (H.264 CRF 18) "
                     f"{codec['encode_ms']:.1f} ms a frame, in its own processes (overlapping the model in the pipeline)")
    return lines


def summarize(kcolor, onnx_rounds, *, ratio_goal=RATIO_GOAL, overhead_goal=OVERHEAD_GOAL):
    """The goals, from the rows: kcolor's fastest path over ONNX Runtime, and the pipeline's overhead.

    Args:
        kcolor: `measure_kcolor`'s result (its `model_alone` and `pipelines` rows).
        onnx_rounds: `measure_onnxruntime`'s results; the fastest timed round counts
            (the one least slowed by a shared machine, so the ratio is not flattered).
        ratio_goal: kcolor's fastest fps over ONNX Runtime's, at least.
        overhead_goal: the pipeline's share of the frame time besides the model, below.

    Returns:
        `{"fastest", "fastest_fps", "onnxruntime_fps", "ratio", "ratio_goal", "ratio_met",
        "overhead": [{"label", "temporal", "overhead_share", "met"}] (the pipeline rows of
        kcolor's fastest path, `_headline`), "overhead_goal", "overhead_met", "same_params",
        "where_time_goes"}`; `ratio` and `ratio_met` are None
        without an ONNX Runtime row, `overhead_met` None without a pipeline row.

    Example:
        s = summarize({"model_alone": [{"label": "litert int8", "eligible": True, "fps": 12.0}]},
                      [{"label": "onnxruntime", "fps": 8.0}])
        s["ratio"]   # 1.5
    """
    best = fastest(kcolor.get("model_alone", []))
    timed = [r for r in onnx_rounds if "fps" in r]
    ort_row = max(timed, key=lambda r: r["fps"]) if timed else None
    ratio = best["fps"] / ort_row["fps"] if best and ort_row else None
    overhead = [
        {"label": r["label"], "temporal": r["temporal"], "overhead_share": r["overhead_share"],
         "met": r["overhead_share"] < overhead_goal}
        for r in _headline(kcolor)
    ]
    params = (kcolor.get("model") or {}).get("params")
    return {
        "quantized_pairs": quantized_pairs(kcolor, onnx_rounds),
        "fastest": best["label"] if best else None,
        "fastest_fps": best["fps"] if best else None,
        "onnxruntime_fps": ort_row["fps"] if ort_row else None,
        "ratio": ratio,
        "ratio_goal": ratio_goal,
        "ratio_met": None if ratio is None else ratio >= ratio_goal,
        "overhead": overhead,
        "overhead_goal": overhead_goal,
        "overhead_met": all(o["met"] for o in overhead) if overhead else None,
        "same_params": None if not (ort_row and params) else params == ort_row.get("params"),
        "where_time_goes": where_time_goes(kcolor),
    }


def fastest_quantized(onnx_rounds) -> dict:
    """{label: row} of ONNX Runtime's quantized rows, the faster of the rounds for each label."""
    best = {}
    for round_ in onnx_rounds:
        for row in round_.get("quantized", []):
            if "fps" in row and row["fps"] > best.get(row["label"], {}).get("fps", -1):
                best[row["label"]] = row
    return best


def quantized_pairs(kcolor, onnx_rounds) -> list:
    """Quantized against quantized: each LiteRT quantization that ONNX Runtime also has
    (`ORT_QUANTIZED`), `[{"kind", "kcolor_fps", "onnxruntime_fps", "ratio", "eligible"}]`
    (eligible: the LiteRT file met kcolor's parity bar)."""
    theirs = fastest_quantized(onnx_rounds)
    pairs = []
    for kind in ORT_QUANTIZED:
        mine = next((r for r in kcolor.get("model_alone", []) if r.get("label") == f"litert {kind}" and "fps" in r), None)
        other = theirs.get(f"onnxruntime {kind}")
        if mine and other:
            pairs.append({"kind": kind, "kcolor_fps": mine["fps"], "onnxruntime_fps": other["fps"],
                          "ratio": mine["fps"] / other["fps"], "eligible": bool(mine.get("eligible", True))})
    return pairs


def _model_line(row):
    if "error" in row or "skipped" in row:
        return f"{row.get('label', 'onnxruntime'):<24} {row.get('error') or row.get('skipped')}"
    parity = ""
    if "parity_db" in row:
        verdict = "ok" if row["bar_met"] else "BELOW the bar: not eligible"
        parity = f"{row['parity_db']:.1f} dB (bar {row['bar_db']:.0f}) {verdict}"
    elif row["label"] == "keras":
        parity = "the parity reference"
    return (f"{row['label']:<24} {row['fps']:8.2f} {row['ms_median']:9.1f} {row['ms_q1']:7.1f}-{row['ms_q3']:<7.1f} "
            f"{row['cpu_per_wall']:6.2f}  {parity}")


def _yes(flag):
    return "n/a" if flag is None else ("met" if flag else "NOT met")


def format_report(report):
    """The printed report: model-alone table, pipeline table, goals, where the time goes, memory."""
    memory = memory_lines(report.get("memory"))
    if memory and not report["kcolor"] and not report["onnxruntime"]:  # --memory only
        return [f"video bench: {report['settings']}", ""] + memory
    k, s = report["kcolor"], report["summary"]
    lines = [f"video bench: {report['settings']}", ""]
    lines.append(f"{'model alone (batch 1)':<24} {'fps':>8} {'ms':>9} {'q1-q3 ms':>15} {'cpu/s':>6}  parity")
    lines += [_model_line(r) for r in k.get("model_alone", [])]
    for i, row in enumerate(report["onnxruntime"], 1):
        lines.append(_model_line({**row, "label": f"onnxruntime [{i}]"} if "fps" in row else row))
        lines += [_model_line({**q, "label": f"{q['label']} [{i}]"}) for q in row.get("quantized", [])]
    if k.get("pipelines"):
        lines += ["", (f"{'pipeline':<24} {'temporal':>8} {'fps':>7} {'steady':>7} {'frame ms':>9} {'model':>7} "
                       f"{'resize/Lab':>10} {'rest':>7} {'overhead':>9}")]
        for r in k["pipelines"]:
            lines.append(f"{r['label']:<24} {r['temporal']:>8} {r['fps']:7.2f} {r['steady_fps']:7.2f} {r['frame_ms']:9.1f} "
                         f"{r['model_ms']:7.1f} {r['resize_lab_ms']:10.1f} {r['rest_ms']:7.1f} {r['overhead_share']:9.0%}")
    lines.append("")
    if s["ratio"] is None:
        lines.append(f"ratio to ONNX Runtime: n/a (fastest kcolor path: {s['fastest']})")
    else:
        lines.append(f"kcolor's fastest path {s['fastest']} {s['fastest_fps']:.2f} fps / ONNX Runtime "
                     f"{s['onnxruntime_fps']:.2f} fps = {s['ratio']:.2f}x (goal >= {s['ratio_goal']}x: {_yes(s['ratio_met'])})")
    for pair in s.get("quantized_pairs", []):
        lines.append(f"quantized on both sides, {pair['kind']}: litert {pair['kcolor_fps']:.2f} fps / onnxruntime "
                     f"{pair['onnxruntime_fps']:.2f} fps = {pair['ratio']:.2f}x")
    if s["same_params"] is not None:
        lines.append(f"same parameter count in both frameworks: {'yes' if s['same_params'] else 'NO'}")
    shares = ", ".join(f"{o['label']} {o['temporal']} {o['overhead_share']:.0%}" for o in s["overhead"]) or "no pipeline row"
    lines.append(f"pipeline overhead (kcolor's fastest path): {shares} (goal < {s['overhead_goal']:.0%}: {_yes(s['overhead_met'])})")
    lines += ["", "where the time goes:"] + [f"  {line}" for line in s["where_time_goes"]]
    return lines + ([""] + memory if memory else [])


# --------------------------------------------------------------------------- driver


def _run_child(case, timeout):
    """Run `measure_case(case)` in a fresh `python -m kcolor.bench.video --case JSON`; its JSON result."""
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        proc = subprocess.run([sys.executable, "-m", "kcolor.bench.video", "--case", json.dumps(case)],
                              capture_output=True, text=True, timeout=timeout, env=env, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        return {"error": " | ".join(tail) or f"exit code {proc.returncode}"}
    return json.loads(lines[-1])


def _size(text):
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT. Received: {text!r}") from None
    if width < 2 or height < 2 or width % 2 or height % 2:
        raise argparse.ArgumentTypeError(f"width and height must be even and >= 2 (H.264 4:2:0). Received: {text!r}")
    return width, height


def _lengths(text):
    try:
        lengths = tuple(sorted({int(v) for v in text.split(",")}))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected frame counts such as 64,640. Received: {text!r}") from None
    if len(lengths) < 2 or lengths[0] < 2:
        raise argparse.ArgumentTypeError(f"need two different lengths of at least 2 frames. Received: {text!r}")
    return lengths


def _parser():
    cores = os.cpu_count() or 1
    parser = argparse.ArgumentParser(prog="python -m kcolor.bench.video", description=__doc__.split("\n\n")[0])
    parser.add_argument("--width", type=int, default=1280, help="clip width (default 1280)")
    parser.add_argument("--height", type=int, default=720, help="clip height (default 720)")
    parser.add_argument("--frames", type=int, default=30, help="frames of the timed clip (default 30)")
    parser.add_argument("--fps", type=int, default=25, help="the clip's frame rate (default 25)")
    parser.add_argument("--size", type=int, default=256, help="the generator's input size (default 256)")
    parser.add_argument("--base-filters", type=int, default=64, help="U-Net base filters (Isola: 64)")
    parser.add_argument("--max-filters", type=int, default=512, help="U-Net max filters (Isola: 512)")
    parser.add_argument("--threads", type=int, default=cores, help=f"threads of every engine (default the cores, {cores})")
    parser.add_argument("--repeats", type=int, default=20, help="timed model-alone calls (default 20)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed model-alone calls first (default 3)")
    parser.add_argument("--quantize", default=",".join(QUANTIZE), help="LiteRT quantizations (default all)")
    parser.add_argument("--onnx", default="on", choices=("on", "off"), help="the ONNX Runtime rows")
    parser.add_argument("--workdir", default=None, help="where clips and exports go (default: a temporary folder)")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds per child process")
    parser.add_argument("--out", default="bench_video.json", help="the results file (default bench_video.json)")
    parser.add_argument("--memory", default="on", choices=("on", "off", "only"),
                        help="the memory rows: peak RSS against the clip's length (only: nothing else)")
    parser.add_argument("--memory-size", type=_size, default=MEMORY_SIZE, metavar="WxH",
                        help="the memory clips' frame size (default %dx%d)" % MEMORY_SIZE)
    parser.add_argument("--memory-frames", type=_lengths, default=MEMORY_FRAMES, metavar="N,N",
                        help="the memory clips' lengths (default %d,%d)" % MEMORY_FRAMES)
    parser.add_argument("--memory-model", default=None, metavar="RUN",
                        help="the memory rows' model (default: a small random-weight Pix2Pix)")
    parser.add_argument("--case", help=argparse.SUPPRESS)
    return parser


def _check_args(parser, args):
    quantize = [q.strip() for q in args.quantize.split(",") if q.strip()]
    unknown = sorted(set(quantize) - set(QUANTIZE))
    if unknown:
        parser.error(f"--quantize {unknown} unknown. Valid: {', '.join(QUANTIZE)}")
    if args.frames < 2 or args.repeats < 1 or args.warmup < 0 or args.threads < 1:
        parser.error(f"need --frames >= 2, --repeats >= 1, --warmup >= 0, --threads >= 1. Received: frames={args.frames}, "
                     f"repeats={args.repeats}, warmup={args.warmup}, threads={args.threads}")
    if args.width % 2 or args.height % 2:
        parser.error(f"--width and --height must be even (H.264 4:2:0). Received: {args.width}x{args.height}")
    return quantize


def _speed_rows(args, quantize, work, load):
    """kcolor's rows and the ONNX Runtime rounds around them: `(kcolor, onnx_rounds)`."""
    case = dict(workdir=work, width=args.width, height=args.height, frames=args.frames, fps=args.fps, size=args.size,
                base_filters=args.base_filters, max_filters=args.max_filters, threads=args.threads,
                repeats=args.repeats, warmup=args.warmup, quantize=quantize)
    onnx_case = dict(case, kind="onnxruntime", workdir=os.path.join(work, "onnx"))
    missing = missing_peer_modules()
    if args.onnx == "on" and missing:
        print(f"bench video: the ONNX Runtime rows need {', '.join(missing)}; {INSTALL_HINT} (kcolor's rows still run)")
    kcolor, onnx_rounds = {}, []
    for kind in ("onnxruntime", "kcolor", "onnxruntime"):  # ONNX Runtime around kcolor's rows: two rounds
        if kind == "onnxruntime" and (args.onnx == "off" or missing):
            continue
        print(f"bench video: {kind} rows ...", flush=True)
        result = _run_child(onnx_case if kind == "onnxruntime" else dict(case, kind="kcolor"), args.timeout)
        load.append(os.getloadavg()[0])
        if kind == "kcolor":
            kcolor = result
        else:
            onnx_rounds.append(result)
    if missing and args.onnx == "on":
        onnx_rounds = [{"label": "onnxruntime", "skipped": f"needs {', '.join(missing)}: {INSTALL_HINT}"}]
    return kcolor, onnx_rounds


def main(argv=None):
    """Run the video bench (see the module docstring); 0 when its rows ran, else 1."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.case:  # a child process: one case, one JSON line
        print(json.dumps(measure_case(json.loads(args.case)), default=lambda v: v.item() if hasattr(v, "item") else str(v)))
        return 0
    quantize = _check_args(parser, args)
    cleanup = args.workdir is None
    work = args.workdir or tempfile.mkdtemp(prefix="kcolor-bench-video-")
    started, load = time.time(), [os.getloadavg()[0]]
    kcolor, onnx_rounds, memory = {}, [], None
    try:
        if args.memory != "only":
            kcolor, onnx_rounds = _speed_rows(args, quantize, work, load)
        if args.memory != "off":
            print("bench video: memory rows ...", flush=True)
            memory = measure_memory(os.path.join(work, "memory"), width=args.memory_size[0],
                                    height=args.memory_size[1], frames=args.memory_frames, threads=args.threads,
                                    timeout=args.timeout, run_dir=args.memory_model)
            load.append(os.getloadavg()[0])
    finally:
        if cleanup:
            import shutil

            shutil.rmtree(work, ignore_errors=True)
    return _finish(args, kcolor, onnx_rounds, started, load, memory=memory)


def _finish(args, kcolor, onnx_rounds, started, load, *, memory=None):
    """Summarize, print and write the report; 1 when kcolor's rows (or the memory rows) failed."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # machine_info imports TensorFlow
    from kcolor.bench.run import machine_info
    from kcolor.fs import atomic_write_json

    settings = (f"{args.width}x{args.height}, {args.frames} frames; pix2pix isola at {args.size} px "
                f"(filters {args.base_filters}..{args.max_filters}, random weights); {args.threads} threads "
                f"(TensorFlow intra/inter, LiteRT, ONNX Runtime intra/inter); model alone: median of {args.repeats} "
                f"after {args.warmup}")
    if args.memory == "only":
        settings = (f"memory only: {args.memory_size[0]}x{args.memory_size[1]} clips of "
                    f"{', '.join(map(str, args.memory_frames))} frames; {args.threads} threads")
    if "error" in kcolor:
        kcolor_rows = {}
        print(f"bench video: kcolor's rows failed: {kcolor['error']}")
    else:
        kcolor_rows = kcolor
    report = {"settings": settings, "kcolor": kcolor_rows, "onnxruntime": onnx_rounds,
              "summary": summarize(kcolor_rows, onnx_rounds), "machine": machine_info(),
              "load_average": load, "wall_time_s": time.time() - started, "date": time.strftime("%Y-%m-%d %H:%M:%S")}
    if "error" in kcolor:
        report["kcolor_error"] = kcolor["error"]
    if memory is not None:
        report["memory"] = memory
    print("\n".join(format_report(report)))
    atomic_write_json(args.out, report)
    print(f"\nWrote {args.out} ({report['wall_time_s']:.0f} s; load average {' -> '.join(f'{x:.1f}' for x in load)})")
    memory_failed = memory is not None and ("error" in memory or "error" in memory.get("model", {}))
    return 1 if "error" in kcolor or memory_failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
