"""Colorize video clips frame by frame: `kcolor colorize clip.mp4`.

A clip is streamed through ffmpeg (`imageio_ffmpeg`, the `video` extra): one frame is
decoded, colorized at its full size by any model kind (`load_colorizer`; each frame
keeps its own lightness, `kcolor.inference`), and sent to the encoder before the next
is read, so memory stays flat however long the clip is. The output is H.264 at CRF 18
(`CRF`) with the input's frame rate, frame count and resolution; the input's audio
track is carried over (copied when MP4 holds its codec, else re-encoded to AAC). Even
sizes are written as yuv420p, which every player plays; 4:2:0 cannot hold an odd width
or height, so an odd-sized clip is written as yuv444p rather than padded or scaled.
The file is written under a hidden temporary name beside the output (`fs.atomic_write`)
and renamed into place only once ffmpeg has finished and the written file has been
probed for its frame count and size; an error or an interrupt leaves nothing behind.

Three `temporal` modes (`kcolor.specs.TEMPORAL_MODES`, checked by `check_temporal_options`):

- `none`: every frame is colorized alone.
- `flow`: model-agnostic chroma smoothing. The chroma of the previous *output* frame
  is warped onto the current frame along dense optical flow (`kcolor.flow`), and
  blended with the current prediction where the forward and backward flows agree
  (not occluded): `ab = strength * warped + (1 - strength) * predicted`. The frame
  keeps its own lightness. Nothing is carried across a scene cut.
- `reference`: for models that colorize from a color reference (`io.uses_reference`,
  the `stable_colorizer` family). Each scene's first frame (its keyframe) is colorized
  with the reference in force, and its colorization becomes the reference for the
  rest of that scene and for the next keyframe. The first keyframe's reference is
  `reference` when given, else the first frame's own gray copy. So a scene's frames are
  colored from a frame of the same scene, as the model was trained (paper 000: first
  and last frame of one video), and colors travel from scene to scene.

A scene cut is a frame whose mean absolute difference to the previous frame, on the
0-255 gray scale, is above `scene_cut` (default `kcolor.specs.DEFAULT_SCENE_CUT` = 30).
Frames of one shot differ on average by a few levels (motion, noise, compression); a
cut between unrelated shots changes most pixels by tens of levels. 30 sits between the
two, a rule of thumb rather than a value tuned on a data set; 255 turns detection off.
Scene cuts are found in every mode (`result["scene_cuts"]`).

Example:
    result = colorize_video("runs/photos-pix2pix", "old_film.mp4", "colorized/old_film.mp4", temporal="flow")
    print(result["frames"], result["fps_achieved"], result["scene_cuts"])
"""

import fractions
import os
import re
import subprocess
import sys
import time

import numpy as np
import tensorflow as tf

from kcolor import color, fs
from kcolor.data.images import (
    ImageReadError,
    check_entry,
    find_entries,
    read_image,
    skip_summary,
)
from kcolor.data.videos import VIDEO_EXTENSIONS, decode_error, require_video_libs
from kcolor.export.colorize import load_colorizer
from kcolor.pixels import to_uint8
from kcolor.specs import DEFAULT_SCENE_CUT, DEFAULT_STRENGTH, check_temporal_options
from kcolor.timing import Progress

# x264's constant rate factor: 18 is its "visually lossless" setting (0 lossless, 51 worst).
CRF = 18
# Audio codecs an MP4 file holds and common players play: copied as they are; others become AAC.
MP4_AUDIO_CODECS = ("aac", "mp3", "ac3", "eac3", "alac", "opus", "flac")
# ffmpeg prints NTSC rates rounded (29.97); these are the exact rates they stand for.
_NTSC_RATES = {
    round(n * 1000 / 1001, 2): fractions.Fraction(n * 1000, 1001)
    for n in (24, 30, 48, 60, 120)
}
# BT.601 luma, as `kcolor.color.rgb_to_gray` and `kcolor.flow.gray_u8`, in NumPy and unrounded:
# scene cuts are found in every mode, and only `flow` needs OpenCV.
_LUMA_601 = np.array([0.299, 0.587, 0.114], np.float32)


class VideoReadError(ImageReadError):
    """A video that cannot be decoded; `reason` is "cannot decode" (or an entry reason)."""

    def __init__(self, message, reason="cannot decode"):
        super().__init__(message, reason)


def is_video_name(path) -> bool:
    """True when `path` ends in a video extension (`VIDEO_EXTENSIONS`, any letter case)."""
    return os.path.splitext(os.fspath(path))[1].lower() in VIDEO_EXTENSIONS


def _check_mode(colorizer, temporal, reference) -> None:
    """Raise when the model and the temporal mode (and reference) do not go together."""
    if temporal != "reference":
        # A reference model needs a reference here; any other model takes none.
        colorizer.check_reference(reference)
        return
    if not colorizer.io.uses_reference:
        name = colorizer.model_name or colorizer.source
        raise ValueError(
            f"temporal='reference' needs a model that colorizes from a reference image; model '{name}' "
            f"(io {colorizer.io.name}) does not. Use --temporal none or --temporal flow with it"
        )


def reference_rgb(reference):
    """A reference given as a path or an array → float32 RGB (H, W, 3) in [0, 1], or None."""
    if reference is None:
        return None
    if isinstance(reference, (np.ndarray, tf.Tensor)):
        array = np.asarray(reference)
        return (
            array.astype(np.float32) / 255.0
            if array.dtype == np.uint8
            else array.astype(np.float32)
        )
    try:
        return read_image(reference).rgb
    except ImageReadError as err:
        raise ValueError(f"cannot read the reference image: {err}") from err


# XLA fuses the elementwise Lab maths: 3-4x faster than plain graphs on CPU (640x360).
@tf.function(jit_compile=True)
def _lightness_and_chroma(frame, colorized):
    """The frame's own L (H, W, 1) and the colorization's a, b (H, W, 2), in Lab units."""
    return color.rgb_to_lab(frame)[..., :1], color.rgb_to_lab(colorized)[..., 1:]


@tf.function(jit_compile=True)
def _lab_to_rgb(L, ab):
    return color.lab_to_rgb(tf.concat([L, ab], axis=-1))


class _EachFrame:
    """temporal='none': every frame colorized alone."""

    def __init__(self, colorizer, reference):
        self.colorizer, self.reference = colorizer, reference

    def __call__(self, frame, rgb, cut):
        return self.colorizer.colorize(rgb, self.reference, frames=True)


class _FlowSmoothing:
    """temporal='flow': the previous output's chroma, warped along the flow, blended in."""

    def __init__(self, colorizer, reference, strength):
        from kcolor import flow

        self.flow, self.colorizer, self.reference, self.strength = (
            flow,
            colorizer,
            reference,
            strength,
        )
        self.prev_gray = self.prev_ab = None

    def __call__(self, frame, rgb, cut):
        flow = self.flow
        predicted = self.colorizer.colorize(rgb, self.reference, frames=True)
        gray = flow.gray_u8(frame)
        if self.prev_ab is None or cut:
            out = predicted
            ab = _lightness_and_chroma(rgb, predicted)[1].numpy()
        else:
            L, ab = (t.numpy() for t in _lightness_and_chroma(rgb, predicted))
            # flow_fw: frame t(x) ≈ frame t-1(x + flow_fw(x)), so warping t-1 along it lands on t.
            flow_fw = flow.dis_flow(gray, self.prev_gray)
            flow_bw = flow.dis_flow(self.prev_gray, gray)
            warped = flow.warp(self.prev_ab, flow_fw)
            mask = flow.non_occluded(flow_fw, flow_bw)
            ab = np.asarray(
                flow.blend_chroma(warped, ab, mask, self.strength), np.float32
            )
            out = _lab_to_rgb(L, ab).numpy()
        self.prev_gray, self.prev_ab = gray, ab
        return out


class _ReferenceChain:
    """temporal='reference': each keyframe's colorization is the reference of its scene."""

    def __init__(self, colorizer, reference):
        self.colorizer, self.reference = colorizer, reference
        self.started = False

    def __call__(self, frame, rgb, cut):
        if self.started and not cut:
            return self.colorizer.colorize(rgb, self.reference, frames=True)
        if (
            self.reference is None
        ):  # the first keyframe, no reference given: its own gray copy
            self.reference = np.repeat(
                (frame.astype(np.float32) @ _LUMA_601)[..., None] / 255.0, 3, axis=-1
            )
        self.reference = self.colorizer.colorize(rgb, self.reference, frames=True)
        self.started = True
        return self.reference


def _stepper(colorizer, temporal, strength, reference):
    if temporal == "flow":
        return _FlowSmoothing(colorizer, reference, strength)
    if temporal == "reference":
        return _ReferenceChain(colorizer, reference)
    return _EachFrame(colorizer, reference)


def _open_clip(ffmpeg, path):
    """Start decoding `path`: `(reader, metadata)`, or VideoReadError naming the file."""
    # A pipe would block ffmpeg; a folder or a dangling link has no frames.
    check_entry(path)
    reader = ffmpeg.read_frames(path, pix_fmt="rgb24")
    try:
        meta = next(reader)
    except Exception as err:  # ffmpeg's refusal, or a header imageio cannot parse
        reader.close()
        raise VideoReadError(str(decode_error(path, err))) from err
    return reader, meta


def _decoded(reader, path, size):
    """Yield uint8 RGB frames (H, W, 3); a decoder failure is a VideoReadError naming `path`."""
    width, height = size
    while True:
        try:
            raw = next(reader)
        except StopIteration:
            return
        except Exception as err:
            raise VideoReadError(str(decode_error(path, err))) from err
        yield np.frombuffer(raw, np.uint8).reshape(height, width, 3)


def exact_fps(fps) -> fractions.Fraction:
    """The frame rate ffmpeg printed (rounded: 29.97) as an exact fraction (30000/1001).

    A stream whose rate ffmpeg does not state (0) is taken as 25 fps, ffmpeg's own default.
    """
    fps = float(fps or 0.0)
    if fps <= 0:
        return fractions.Fraction(25)
    return _NTSC_RATES.get(
        round(fps, 2), fractions.Fraction(fps).limit_denominator(1001)
    )


def _audio_plan(meta):
    """`(audio codec of the input or None, codec argument for the writer or None)`."""
    codec = meta.get("audio_codec")
    if not codec:
        return None, None
    codec = codec.strip().rstrip(",")
    return codec, ("copy" if codec in MP4_AUDIO_CODECS else "aac")


def probe(path) -> dict:
    """Frames, size and audio of a video file, from a stream copy by ffmpeg (no decoding).

    Returns:
        `{"frames": n, "size": (width, height), "fps": text, "audio": codec or None}`.

    Example:
        probe("clip.mp4")   # {'frames': 12, 'size': (96, 64), 'fps': '10', 'audio': 'aac'}
    """
    _, ffmpeg = require_video_libs()
    cmd = [
        ffmpeg.get_ffmpeg_exe(),
        "-hide_banner",
        "-i",
        fs.path_str(path),
        "-map",
        "0:v:0",
        "-c",
        "copy",
    ]
    text = subprocess.run(
        [*cmd, "-f", "null", "-"], check=False, capture_output=True, text=True
    ).stderr
    video = [
        line
        for line in text.splitlines()
        if re.match(r"\s*Stream #0:\d+.*: Video: ", line)
    ]
    audio = re.search(r"Stream #0:\d+.*: Audio: (\w+)", text)
    frames = re.findall(r"frame=\s*(\d+)", text)
    size = re.search(r", (\d+)x(\d+)[, ]", video[0]) if video else None
    fps = re.search(r", ([\d.]+k?) fps", video[0]) if video else None
    return {
        "frames": int(frames[-1]) if frames else 0,
        "size": (int(size.group(1)), int(size.group(2))) if size else None,
        "fps": fps.group(1) if fps else None,
        "audio": audio.group(1) if audio else None,
    }


def _encode(tmp, frames, step, meta, *, path, scene_cut, bar):
    """Colorize and write every frame of `frames` to `tmp`; returns the frame count and cuts."""
    _, ffmpeg = require_video_libs()
    width, height = meta["size"]
    audio, audio_codec = _audio_plan(meta)
    odd = width % 2 or height % 2
    writer = ffmpeg.write_frames(
        tmp,
        (width, height),
        fps=exact_fps(meta.get("fps")),
        codec="libx264",
        pix_fmt_out="yuv444p" if odd else "yuv420p",
        quality=None,
        macro_block_size=1,
        output_params=["-crf", str(CRF)],
        ffmpeg_log_level="error",
        audio_path=path if audio else None,
        audio_codec=audio_codec,
    )
    writer.send(None)  # start ffmpeg
    count, cuts, prev_gray = 0, [], None
    try:
        for frame in frames:
            gray = frame.astype(np.float32) @ _LUMA_601
            cut = (
                prev_gray is not None
                and float(np.mean(np.abs(gray - prev_gray))) > scene_cut
            )
            if cut:
                cuts.append(count)
            colorized = step(frame, frame.astype(np.float32) / 255.0, cut)
            writer.send(np.ascontiguousarray(to_uint8(np.asarray(colorized))))
            prev_gray, count = gray, count + 1
            bar.step()
    finally:
        writer.close()  # ffmpeg finishes the file (a partial one is removed by the caller)
    if count == 0:
        raise VideoReadError(f"{path}: holds no video frames")
    return count, cuts


def _check_written(tmp, out_path, frames, size, audio) -> None:
    """Raise OSError unless ffmpeg wrote every frame at the input's size (and the audio)."""
    found = probe(tmp)
    if (
        found["frames"] != frames
        or tuple(found["size"] or ()) != tuple(size)
        or bool(found["audio"]) != bool(audio)
    ):
        raise OSError(
            f"ffmpeg did not write {out_path} whole: {found['frames']} of {frames} frames, size {found['size']} "
            f"(expected {tuple(size)}), audio {found['audio']} (input's: {audio})"
        )


def colorize_video(
    model,
    path,
    out_path,
    *,
    temporal="none",
    strength=DEFAULT_STRENGTH,
    reference=None,
    scene_cut=DEFAULT_SCENE_CUT,
    progress=True,
    log=None,
) -> dict:
    """Colorize one video clip into an H.264 file with the input's fps, frame count, size and audio.

    Args:
        model: a path (`kcolor.export.colorize.MODEL_KINDS`) or a loaded `Colorizer`.
        path: the clip (anything ffmpeg decodes; a local file).
        out_path: the output file (`.mp4`; a local path), written whole or not at all.
        temporal: "none", "flow" or "reference" (see the module docstring).
        strength: weight of the warped previous chroma in `flow` mode, in [0, 1).
        reference: a color image (path or RGB array); required by reference models in
            `none` and `flow` modes, optional in `reference` mode, refused by other models.
        scene_cut: mean absolute gray difference (0-255) above which a frame starts a scene.
        progress: show a progress line in frames (`kcolor.timing.Progress`).
        log: a `print`-like function for notes (default: stderr).

    Returns:
        `{"out", "frames", "fps", "size": (width, height), "seconds", "fps_achieved",
        "temporal", "strength", "scene_cuts": [frame index, ...], "audio_copied": bool
        (the input's audio track is in the output), "audio_codec": the input's audio codec
        or None, "audio_encoding": "copy", "aac" (re-encoded) or None}`.

    Example:
        colorize_video("exports/pix2pix.tflite", "clip.mp4", "out/clip.mp4", temporal="flow", strength=0.8)
    """
    check_temporal_options(temporal, strength, scene_cut)
    log = log or (lambda msg: print(msg, file=sys.stderr))
    path, out_path = fs.path_str(path), fs.path_str(out_path)
    if fs.is_remote(path) or fs.is_remote(out_path):
        raise ValueError(
            f"ffmpeg reads and writes local files only: {path} -> {out_path}"
        )
    colorizer = load_colorizer(model)
    ref = reference_rgb(reference)
    _check_mode(colorizer, temporal, ref)
    step = _stepper(colorizer, temporal, strength, ref)
    _, ffmpeg = require_video_libs()
    reader, meta = _open_clip(ffmpeg, path)
    fps = exact_fps(meta.get("fps"))
    audio, audio_codec = _audio_plan(meta)
    if audio_codec == "aac":
        log(
            f"{path}: audio {audio} is re-encoded to AAC (MP4 does not hold it as it is)"
        )
    bar = Progress(
        f"colorize {fs.basename(path)}",
        round(meta.get("duration", 0) * fps),
        unit="frames",
        enabled=progress,
    )
    done = {}

    def write(tmp):
        frames = _decoded(reader, path, meta["size"])
        done["frames"], done["cuts"] = _encode(
            tmp, frames, step, meta, path=path, scene_cut=scene_cut, bar=bar
        )
        _check_written(tmp, out_path, done["frames"], meta["size"], audio)

    start = time.perf_counter()
    try:
        fs.atomic_write(out_path, write)
    finally:
        reader.close()
        bar.close()
    seconds = time.perf_counter() - start
    return {
        "out": out_path,
        "frames": done["frames"],
        "fps": float(fps),
        "size": tuple(meta["size"]),
        "seconds": seconds,
        "fps_achieved": done["frames"] / max(seconds, 1e-9),
        "temporal": temporal,
        "strength": strength,
        "scene_cuts": done["cuts"],
        "audio_copied": audio is not None,
        "audio_codec": audio,
        "audio_encoding": audio_codec,
    }


def split_inputs(inputs) -> tuple:
    """Sort `kcolor colorize` inputs into image inputs and videos.

    A file named with a video extension is a video; any other file is an image input
    (a bad one is reported when read). A folder contributes its videos (searched
    recursively, `(path, sub-folder/stem)`) and stays an image input when it holds images
    too, or nothing at all (so that the image path says so).

    Returns:
        `(image_inputs, [(video path, output stem), ...])`.

    Example:
        images, videos = split_inputs(["scans/", "film.mp4"])
    """
    images, videos = [], []
    for item in inputs:
        item = fs.expand_path(fs.path_str(item))
        if fs.isdir(item):
            found = find_entries(item, VIDEO_EXTENSIONS)
            videos.extend((full, os.path.splitext(rel)[0]) for full, rel in found)
            if find_entries(item) or not found:
                images.append(item)
        elif is_video_name(item):
            videos.append((item, os.path.splitext(fs.basename(item))[0]))
        else:
            images.append(item)
    return images, videos


def colorize_videos(model, videos, out_dir="colorized", *, log=None, **options) -> dict:
    """Colorize clips into `<out_dir>/<stem>.mp4`, skipping (and naming) those that cannot be decoded.

    Args:
        model: a path (`MODEL_KINDS`) or a loaded `Colorizer`.
        videos: `(path, stem)` pairs (`split_inputs`) or plain paths.
        out_dir: where the clips go (created if needed).
        log: a `print`-like function for `skipped PATH: why` lines (default: stderr).
        **options: `colorize_video`'s keyword options (temporal, strength, reference, ...).

    Returns:
        `{"written", "skipped", "outputs", "results", "errors": [{"path", "error", "reason"}],
        "summary": "skipped 1 of 3 videos: 1 cannot decode"}`.

    Example:
        colorize_videos("runs/photos-pix2pix", ["a.mp4", "b.mov"], "out", temporal="flow")
    """
    log = log or (lambda msg: print(msg, file=sys.stderr))
    check_temporal_options(
        options.get("temporal", "none"),
        options.get("strength", DEFAULT_STRENGTH),
        options.get("scene_cut", DEFAULT_SCENE_CUT),
    )
    colorizer = load_colorizer(model)
    options["reference"] = reference_rgb(options.get("reference"))
    used, results, errors = set(), [], []
    for item in videos:
        path, stem = (
            item
            if isinstance(item, tuple)
            else (item, os.path.splitext(fs.basename(item))[0])
        )
        name, n = stem, 1
        while name in used:
            name, n = f"{stem}_{n}", n + 1
        used.add(name)
        try:
            results.append(
                colorize_video(
                    colorizer, path, fs.join(out_dir, name + ".mp4"), log=log, **options
                )
            )
        except (
            ImageReadError
        ) as err:  # VideoReadError, or an entry that is no readable file
            errors.append({"path": path, "error": str(err), "reason": err.reason})
            log(f"skipped {err}")
    return {
        "written": len(results),
        "skipped": len(errors),
        "outputs": [r["out"] for r in results],
        "results": results,
        "errors": errors,
        "summary": skip_summary([e["reason"] for e in errors], len(videos), "videos"),
    }
