"""Reference/target image pairs from videos: first frame = reference, last frame = target.

Paper 000 (Bansal, "Stable Image Colorization via Reference Image Cross-Attention",
section 4.1.2) builds its reference
colorization data from KoNViD videos: the first and the last frame of a video share most
of their objects but differ in view, so the first frame is a fair color reference for
the last. `make_pairs` does this for every video in a folder tree and writes the pairs
as TFRecord shards through `kcolor.data.writer.write_records("pairs:folder:REF,TGT", ...)`.

Videos are decoded with imageio-ffmpeg (it ships its own ffmpeg binary) and frames are
written as PNGs with imageio; both come with the `video` extra
(`pip install kcolor[video]`). A video that cannot be read is skipped and reported
with its reason (`skipped PATH: why`): an entry that is not a readable file (a link to
nothing, a folder, a pipe, an empty file; `kcolor.data.images.check_entry`), or one
ffmpeg cannot decode (its complaint is quoted). A run ends with one summary line,
`skipped 2 of 9 videos: 1 cannot decode, 1 empty file`.

Example:
    from kcolor.data.videos import make_pairs
    manifest = make_pairs("~/konvid", "konvid")  # tf_records/konvid + tf_records/konvid_frames
"""

import collections
import os
import sys

import numpy as np

from kcolor import fs
from kcolor.data.images import ImageReadError, check_entry, find_entries, skip_summary
from kcolor.data.writer import write_records
from kcolor.timing import Progress

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".webm", ".mkv")
REFERENCE_SUBDIR = "reference"
TARGET_SUBDIR = "target"
# ffmpeg seeks this many seconds before the end to find the last frame quickly; a video
# where that yields nothing is decoded from the start instead.
LAST_FRAME_WINDOW_S = 3.0


def require_video_libs():
    try:
        import imageio.v3 as iio
        import imageio_ffmpeg
    except ImportError as err:
        raise ImportError(
            f"Reading videos needs imageio and imageio-ffmpeg ({err.name} is missing). "
            "Install them with: pip install kcolor[video]"
        ) from None
    return iio, imageio_ffmpeg


def find_videos(videos_dir):
    """Every video entry (mp4/avi/mov/webm/mkv, any letter case) under `videos_dir`, sorted.

    Hidden files and folders are ignored; a folder named like a video is listed, not
    searched (`kcolor.data.images.find_entries`), so that reading it reports it.

    Example:
        paths = find_videos("~/konvid")
    """
    root = os.path.expanduser(os.fspath(videos_dir))
    if not os.path.isdir(root):
        raise FileNotFoundError(f"Video folder not found: videos_dir={videos_dir!r}")
    return [path for path, _ in find_entries(root, VIDEO_EXTENSIONS)]


def ffmpeg_complaint(err) -> str:
    """The line of a decoder error that says what is wrong (ffmpeg prints its banner first)."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    tagged = [line for line in lines if line.startswith("[") and "] " in line]  # "[in#0 @ 0x...] Error ..."
    line = tagged[-1].split("] ", 1)[1] if tagged else (lines[0] if lines else type(err).__name__)
    return line[:300]


def _frames(ffmpeg, path, input_params=None):
    """Yield a video's frames as uint8 `[H, W, 3]` arrays (RGB)."""
    reader = ffmpeg.read_frames(path, pix_fmt="rgb24", input_params=input_params or [])
    try:
        meta = next(reader)
        width, height = meta["size"]
        for raw in reader:
            yield np.frombuffer(raw, dtype=np.uint8).reshape(height, width, 3)
    finally:
        reader.close()


def video_frames(path):
    """Yield a video's frames as uint8 RGB arrays `[H, W, 3]`, one at a time, decoded by ffmpeg.

    Memory stays flat for a clip of any length; closing the generator stops ffmpeg.

    Args:
        path: a video file ffmpeg can read.

    Returns:
        A generator of frames; decoding errors (OSError, RuntimeError) come from its first
        `next`, or later for a clip that breaks off (`decode_error` names the video).

    Example:
        frames = sum(1 for _ in video_frames("clip.mp4"))
    """
    _, ffmpeg = require_video_libs()
    yield from _frames(ffmpeg, path)


def decode_error(video, err) -> ImageReadError:
    """The `ImageReadError` that reports `err`, raised while reading `video`, with its reason.

    An entry that is not a readable file keeps its own reason (`check_entry`); a file ffmpeg
    cannot decode gets "cannot decode" and the line of ffmpeg's complaint that says why.

    Example:
        try: ...
        except Exception as err: print("skipped", decode_error(path, err))
    """
    if isinstance(err, ImageReadError):
        return err
    return ImageReadError(f"{video}: cannot decode video ({ffmpeg_complaint(err)})", "cannot decode")


def read_first_last_frames(path):
    """The first and the last frame of a video, as uint8 RGB arrays `[H, W, 3]`.

    Raises an error (OSError, RuntimeError or ValueError) when the file cannot be decoded
    or holds no frames.

    Example:
        reference, target = read_first_last_frames("clip.mp4")
    """
    _, ffmpeg = require_video_libs()
    frames = _frames(ffmpeg, path)
    try:
        first = next(frames, None)
    finally:
        frames.close()  # stops ffmpeg after the first frame
    if first is None:
        raise ValueError(f"{path!r} holds no video frames")
    first = first.copy()
    last = None
    try:
        for frame in _frames(ffmpeg, path, ["-sseof", f"-{LAST_FRAME_WINDOW_S:g}"]):
            last = frame
    except (OSError, RuntimeError):
        last = None
    if last is None:  # seeking from the end failed (e.g. no duration in the container): decode it all
        for frame in _frames(ffmpeg, path):
            last = frame
    return first, last.copy()


def _pair_key(path, root):
    """File stem for a video's pair; sub-folders are joined with '__' to keep names unique."""
    rel = os.path.relpath(path, root)
    stem = os.path.splitext(rel)[0]
    return stem.replace(os.sep, "__")


def _pair_keys(videos, root) -> dict:
    """`{video: KEY}`: the `_pair_key` of each video, its extension appended when two
    videos share a stem (`same.mp4`, `same.mkv` -> `same_mp4`, `same_mkv`)."""
    stems = {video: _pair_key(video, root) for video in videos}
    stem_counts = collections.Counter(stems.values())
    return {
        video: stem if stem_counts[stem] == 1 else f"{stem}_{os.path.splitext(video)[1][1:]}"
        for video, stem in stems.items()
    }


def _frame_folders(frames_dir, keys):
    """`(reference_dir, target_dir)` in `frames_dir`, created, and emptied of the PNGs of
    videos not in `keys` (an earlier run's), so that they hold exactly this extraction."""
    ref_dir = os.path.join(frames_dir, REFERENCE_SUBDIR)
    tgt_dir = os.path.join(frames_dir, TARGET_SUBDIR)
    os.makedirs(ref_dir, exist_ok=True)
    os.makedirs(tgt_dir, exist_ok=True)
    wanted = {f"{k}.png" for k in keys}
    for folder in (ref_dir, tgt_dir):
        for fname in os.listdir(folder):
            if fname.endswith(".png") and fname not in wanted:
                os.remove(os.path.join(folder, fname))
    return ref_dir, tgt_dir


def _extract_one(iio, video, ref_png, tgt_png):
    """Write one video's first frame to `ref_png` and its last to `tgt_png`.

    Returns None, or for a video that cannot be read `{"video", "error", "reason"}`
    (then the PNGs an earlier run wrote for it are removed, so no stale pair stays).
    """
    try:
        check_entry(video)  # a pipe would block ffmpeg; a folder or a dangling link has no frames
        first, last = read_first_last_frames(video)
    except Exception as err:  # any decoder failure: report the video and go on
        failure = decode_error(video, err)
        reason, message = failure.reason, str(failure)
        for stale in (ref_png, tgt_png):
            if os.path.exists(stale):
                os.remove(stale)
        return {"video": video, "error": message, "reason": reason}
    iio.imwrite(ref_png, first)
    iio.imwrite(tgt_png, last)
    return None


def extract_pairs(videos_dir, frames_dir, *, progress=True, summary=True):
    """Write every video's first frame to `frames_dir/reference/KEY.png` and last to `.../target/KEY.png`.

    KEY is the video's path below `videos_dir` without its extension (sub-folders joined
    by `__`, the extension appended when two videos share a stem). A video that cannot be
    read is skipped, with one line `skipped PATH: why` on stderr, and counted. PNGs left
    in the two folders by an earlier run whose video is gone are removed, so the folders
    hold exactly this extraction. A report is written to `frames_dir/extraction.json`
    and returned.

    Args:
        videos_dir: folder searched recursively for mp4/avi/mov/webm/mkv files.
        frames_dir: output folder; `reference/` and `target/` are created in it.
        progress: show a progress line (`kcolor.timing.Progress`).
        summary: end with the summary line on stderr (`report["summary"]` either way).

    Returns:
        `{"videos", "pairs", "failed", "failures": [{"video", "error", "reason"}],
        "summary", "reference_dir", "target_dir"}`.

    Example:
        report = extract_pairs("~/konvid", "tf_records/konvid_frames")
        print(report["pairs"], "pairs,", report["failed"], "unreadable videos")
    """
    iio, _ = require_video_libs()
    root = os.path.abspath(os.path.expanduser(os.fspath(videos_dir)))
    videos = find_videos(root)
    if not videos:
        raise ValueError(
            f"No videos in videos_dir={videos_dir!r}. Valid extensions: {', '.join(VIDEO_EXTENSIONS)}"
        )
    keys = _pair_keys(videos, root)
    frames_dir = os.fspath(frames_dir)
    ref_dir, tgt_dir = _frame_folders(frames_dir, keys.values())

    failures = []
    bar = Progress("frames", len(videos), unit="videos", enabled=progress)
    for done, video in enumerate(videos, start=1):
        png = f"{keys[video]}.png"
        failure = _extract_one(iio, video, os.path.join(ref_dir, png), os.path.join(tgt_dir, png))
        if failure:
            failures.append(failure)
            bar.interrupt()  # keep the message off the progress line
            print(f"skipped {failure['error']}", file=sys.stderr, flush=True)
        bar.step(f"{done - len(failures)} pairs, {len(failures)} undecodable")
    bar.close()

    report = {
        "videos": len(videos),
        "pairs": len(videos) - len(failures),
        "failed": len(failures),
        "failures": failures,
        "summary": skip_summary([f["reason"] for f in failures], len(videos), "videos"),
        "videos_dir": root,
        "reference_dir": ref_dir,
        "target_dir": tgt_dir,
    }
    fs.atomic_write_json(os.path.join(frames_dir, "extraction.json"), report)
    if summary:
        print(report["summary"], file=sys.stderr, flush=True)
    return report


def make_pairs(
    videos_dir,
    name,
    *,
    out_dir="tf_records",
    image_size=None,
    split=(0.8, 0.2, 0.0),
    frames_dir=None,
    progress=True,
):
    """Build a reference-pair TFRecord dataset from videos' first and last frames (paper 000).

    Extracts the frames with `extract_pairs` into `frames_dir` (default
    `out_dir/NAME_frames`), then writes `out_dir/NAME` with
    `kcolor.data.writer.write_records("pairs:folder:REF_DIR,TGT_DIR", name, ...)`; pairs are
    matched by file name, first frame = reference, last frame = target. Train on it with
    `--set data=pairs:records:OUT_DIR/NAME`.

    Args:
        videos_dir: folder searched recursively for mp4/avi/mov/webm/mkv files.
        name: dataset name (shards go to `out_dir/name`).
        out_dir: root folder of TFRecord datasets.
        image_size: resize the stored pairs to this square size; None keeps the frames' size.
        split: train/val/test fractions (the paper uses 80/20).
        frames_dir: where the PNG frames go; default `out_dir/NAME_frames`.
        progress: show a progress line while decoding.

    Returns:
        The dataset manifest from `write_records`, plus `"extraction"`: the report of
        `extract_pairs` (how many videos, pairs and undecodable videos), and
        `"summary"`: the one line of what was skipped and why, which the run ends with
        (on stderr): undecodable videos and any frame pair the records writer refused.

    Example:
        manifest = make_pairs("~/konvid", "konvid", image_size=256)
        print(manifest["counts"], manifest["extraction"]["failed"])
    """
    if frames_dir is None:
        frames_dir = os.path.join(out_dir, f"{name}_frames")
    remote = [f"{what}={os.fspath(p)!r}" for what, p in (("videos", videos_dir), ("frames", frames_dir)) if fs.is_remote(p)]
    if remote:
        raise ValueError(
            f"make-pairs decodes videos with ffmpeg and writes their frames on local disk; {', '.join(remote)} is not "
            f"local. Valid: local --videos and --out folders (the frames go to OUT/{name}_frames); copy OUT/{name} "
            "to the bucket afterwards"
        )
    report = extract_pairs(videos_dir, frames_dir, progress=progress, summary=False)
    if report["pairs"] == 0:
        print(report["summary"], file=sys.stderr, flush=True)
        raise ValueError(
            f"None of the {report['videos']} videos in videos_dir={videos_dir!r} could be decoded; "
            f"see {os.path.join(frames_dir, 'extraction.json')}"
        )
    for folder in (report["reference_dir"], report["target_dir"]):
        if "," in folder:
            raise ValueError(
                f"The frames folder {folder!r} contains a comma, which the 'pairs:folder:REF,TGT' "
                "source cannot express; pass a frames_dir without commas"
            )
    # Quiet: its own summary would be a second one; frame pairs it refuses join ours.
    manifest = write_records(
        f"pairs:folder:{report['reference_dir']},{report['target_dir']}",
        name,
        out_dir=out_dir,
        split=split,
        image_size=image_size,
        verbose=False,
    )
    reasons = [f["reason"] for f in report["failures"]]
    for reason, count in (manifest.get("skipped_reasons") or {}).items():
        reasons += [f"{reason} (extracted frame)"] * int(count)
    line = skip_summary(reasons, report["videos"], "videos")
    print(line, file=sys.stderr, flush=True)
    return dict(manifest, extraction=report, summary=line)
