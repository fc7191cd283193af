"""Colorizing video clips (`kcolor colorize clip.mp4`): frames, rate, size, audio, lightness,
temporal smoothing, reference chains, atomic output and bad clips."""

import fractions
import itertools
import math
import os
import struct
import subprocess
import wave

import keras
import numpy as np
import pytest
from skimage import color as skcolor

imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")

from kcolor import inference
from kcolor.cli.main import main
from kcolor.export.run import save_run
from kcolor.export.video import (
    VideoReadError,
    colorize_video,
    colorize_videos,
    probe,
)
from kcolor.models.io import get_io
from kcolor.specs import check_temporal_options

SIZE = 32
W, H, N, FPS = 96, 64, 12, 10
# Mean |L| difference (0-100) between an input frame and its colorization after one more
# H.264 pass at CRF 18 plus the gamut clipping of strong predicted chroma.
L_TOLERANCE = 2.0


def _moving_gradient(n=N, w=W, h=H):
    """n frames of a colored gradient that moves right by 3 px per frame."""
    x = np.arange(w)[None, :]
    y = np.arange(h)[:, None]
    frames = []
    for t in range(n):
        r = (np.sin((x - 3 * t) / 9.0) * 90 + 128 + 0 * y).astype(np.uint8)
        g = np.broadcast_to((y * 255 // h).astype(np.uint8), (h, w))
        b = ((x - 3 * t) * 2 % 256 + 0 * y).astype(np.uint8)
        frames.append(np.stack([r, g, b], axis=-1))
    return frames


def _write_clip(path, frames, fps=FPS, audio_codec=None):
    """Write frames as H.264; with `audio_codec`, mux a 1.5 s 440 Hz sine in that codec."""
    h, w = frames[0].shape[:2]
    video = path if audio_codec is None else str(path) + ".video.mp4"
    writer = imageio_ffmpeg.write_frames(
        str(video),
        (w, h),
        fps=fps,
        codec="libx264",
        pix_fmt_out="yuv444p" if w % 2 or h % 2 else "yuv420p",
        macro_block_size=1,
        output_params=["-crf", "12"],
        ffmpeg_log_level="error",
    )
    writer.send(None)
    for frame in frames:
        writer.send(np.ascontiguousarray(frame))
    writer.close()
    if audio_codec is not None:
        wav = str(path) + ".wav"
        with wave.open(wav, "wb") as sound:
            sound.setnchannels(1)
            sound.setsampwidth(2)
            sound.setframerate(8000)
            samples = (
                int(8000 * math.sin(2 * math.pi * 440 * i / 8000)) for i in range(12000)
            )
            sound.writeframes(b"".join(struct.pack("<h", s) for s in samples))
        cmd = [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-y",
            "-v",
            "error",
            "-i",
            video,
            "-i",
            wav,
        ]
        cmd += [
            "-map",
            "0:v:0",
            "-map",
            "1:a:0",
            "-c:v",
            "copy",
            "-c:a",
            audio_codec,
            str(path),
        ]
        subprocess.run(cmd, check=True)
        os.remove(video)
        os.remove(wav)
    return str(path)


def _read_frames(path):
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    w, h = meta["size"]
    return [np.frombuffer(raw, np.uint8).reshape(h, w, 3).copy() for raw in reader]


def _lab(frame):
    return skcolor.rgb2lab(frame / 255.0)


def _tiny_colorizer(io_name):
    keras.utils.set_random_seed(0)
    io = get_io(io_name)
    inputs = {
        name: keras.Input(shape, name=name)
        for name, shape in io.input_shapes(SIZE).items()
    }
    x = list(inputs.values())
    x = keras.layers.Concatenate(name="tiny_concat")(x) if len(x) > 1 else x[0]
    x = keras.layers.Conv2D(
        8, 3, strides=2, padding="same", activation="relu", name="tiny_down"
    )(x)
    x = keras.layers.UpSampling2D(2, name="tiny_up")(x)
    out = keras.layers.Conv2D(
        3, 3, padding="same", activation="sigmoid", name="tiny_out"
    )(x)
    return keras.Model(inputs, out, name=f"tiny_{io_name}")


@pytest.fixture(scope="module")
def gray_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("gray_run")
    return save_run(
        run_dir,
        _tiny_colorizer("gray_rgb"),
        model_name="tiny_gray",
        io="gray_rgb",
        image_size=SIZE,
    )


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return _write_clip(
        tmp_path_factory.mktemp("clips") / "moving.mp4", _moving_gradient()
    )


class FlickerColorizer(inference.Colorizer):
    """Predicts one chroma, then its opposite, frame after frame; can fail after some frames."""

    kind = "fake"

    def __init__(self, fail_after=None):
        self.io, self.image_size, self.model_name = get_io("l_ab"), 16, "flicker"
        self.calls, self.fail_after = 0, fail_after

    def predict(self, inputs):
        self.calls += 1
        if self.fail_after is not None and self.calls > self.fail_after:
            raise RuntimeError("the model crashed")
        sign = 1.0 if self.calls % 2 else -1.0
        ab = np.zeros((1, 16, 16, 2), np.float32)
        ab[..., 0], ab[..., 1] = 0.25 * sign, -0.15 * sign
        return ab


class ReferenceRecorder(inference.Colorizer):
    """A reference model that records each reference and marks its output's red channel."""

    kind = "fake"

    def __init__(self):
        self.io, self.image_size, self.model_name = (
            get_io("ref_gray3_rgb"),
            16,
            "recorder",
        )
        self.references = []

    def colorize(self, rgb, reference=None, frames=False):
        self.check_reference(reference)
        self.references.append(np.array(reference))
        out = np.array(rgb, np.float32)
        out[..., 0] = len(self.references) / 64.0  # call k's output has red k/64
        return out


@pytest.mark.parametrize("temporal", ["none", "flow"])
def test_output_keeps_frames_rate_size_and_each_frames_lightness(
    gray_run, clip, temporal, tmp_path
):
    if temporal == "flow":
        pytest.importorskip("kcolor.flow")
    out = tmp_path / "out" / "moving.mp4"
    result = colorize_video(gray_run, clip, out, temporal=temporal, progress=False)
    assert result["frames"] == N and result["size"] == (W, H) and result["fps"] == FPS
    assert (
        result["temporal"] == temporal
        and result["scene_cuts"] == []
        and not result["audio_copied"]
    )
    assert probe(out) == {"frames": N, "size": (W, H), "fps": "10", "audio": None}
    assert os.listdir(out.parent) == ["moving.mp4"]  # no temporary file left
    inputs, outputs = _read_frames(clip), _read_frames(out)
    assert len(outputs) == N
    for i, (a, b) in enumerate(zip(inputs, outputs)):
        lab_in, lab_out = _lab(a), _lab(b)
        assert np.abs(lab_in[..., 0] - lab_out[..., 0]).mean() < L_TOLERANCE, i
        # The chroma is the model's, not the input's.
        assert np.abs(lab_out[..., 1:] - lab_in[..., 1:]).mean() > 1.0, i


@pytest.mark.parametrize(
    ("name", "codec", "encoding"),
    [("sound.mp4", "aac", "copy"), ("sound.mkv", "pcm_s16le", "aac")],
)
def test_audio_is_carried_over_at_an_odd_size_and_ntsc_rate(
    tmp_path, name, codec, encoding
):
    fps = fractions.Fraction(30000, 1001)
    frames = [f[:63, :95] for f in _moving_gradient(n=8)]
    path = _write_clip(tmp_path / name, frames, fps=fps, audio_codec=codec)
    assert probe(path)["audio"] == codec
    notes = []
    result = colorize_video(
        FlickerColorizer(), path, tmp_path / "out.mp4", progress=False, log=notes.append
    )
    assert (
        result["audio_copied"]
        and result["audio_codec"] == codec
        and result["audio_encoding"] == encoding
    )
    assert probe(tmp_path / "out.mp4") == {
        "frames": 8,
        "size": (95, 63),
        "fps": "29.97",
        "audio": "aac",
    }
    assert abs(result["fps"] - 30000 / 1001) < 1e-9
    assert bool(notes) == (encoding == "aac")


def test_flow_smooths_flickering_chroma(tmp_path):
    pytest.importorskip("kcolor.flow")
    clip = _write_clip(tmp_path / "still.mp4", [_moving_gradient(n=1)[0]] * 8)

    def chroma_change(temporal, strength=0.6):
        out = tmp_path / f"{temporal}-{strength}.mp4"
        colorize_video(
            FlickerColorizer(),
            clip,
            out,
            temporal=temporal,
            strength=strength,
            progress=False,
        )
        ab = [_lab(f)[..., 1:] for f in _read_frames(out)]
        return np.mean([np.abs(b - a).mean() for a, b in itertools.pairwise(ab)])

    none, flow = chroma_change("none"), chroma_change("flow")
    assert none > 20.0  # the fake's chroma flips sign every frame
    assert flow < 0.5 * none
    # strength 0: no smoothing.
    assert chroma_change("flow", strength=0.0) == pytest.approx(none, rel=0.05)


def test_reference_chain_colors_each_scene_from_its_keyframe(tmp_path):
    dark = [f // 3 for f in _moving_gradient(n=5)]
    bright = [255 - f // 3 for f in _moving_gradient(n=4)]
    clip = _write_clip(tmp_path / "cut.mp4", dark + bright)
    recorder = ReferenceRecorder()
    result = colorize_video(
        recorder, clip, tmp_path / "out.mp4", temporal="reference", progress=False
    )
    assert result["scene_cuts"] == [5] and result["frames"] == 9
    refs = recorder.references
    assert len(refs) == 9
    # First keyframe: no reference given, so the frame's own gray copy.
    assert np.allclose(refs[0], refs[0][..., :1])
    marks = [
        r[..., 0].mean() * 64 for r in refs
    ]  # which call's output each reference is
    # Frames 1-4 and the second keyframe (frame 5) are colored from keyframe 0 (call 1);
    # after the cut, frames 6-8 from keyframe 5 (call 6).
    assert np.allclose(marks[1:6], 1.0) and np.allclose(marks[6:], 6.0)

    given = np.full((20, 30, 3), 0.5, np.float32)
    recorder = ReferenceRecorder()
    colorize_video(
        recorder,
        clip,
        tmp_path / "out2.mp4",
        temporal="reference",
        reference=given,
        progress=False,
    )
    assert np.array_equal(recorder.references[0], given)


def test_reference_mode_needs_a_reference_model(gray_run, clip, tmp_path):
    with pytest.raises(
        ValueError, match=r"model 'tiny_gray'.*--temporal none or --temporal flow"
    ):
        colorize_video(gray_run, clip, tmp_path / "out.mp4", temporal="reference")
    with pytest.raises(
        ValueError, match="--reference"
    ):  # a reference model outside reference mode
        colorize_video(ReferenceRecorder(), clip, tmp_path / "out.mp4", temporal="none")
    assert not os.listdir(tmp_path)


def test_bad_options_are_named_before_any_work(clip, tmp_path):
    with pytest.raises(ValueError, match=r"'smooth'.*Valid: none, flow, reference"):
        colorize_video("no/such/model", clip, tmp_path / "out.mp4", temporal="smooth")
    with pytest.raises(ValueError, match="strength=1.0"):
        check_temporal_options("flow", strength=1.0)
    with pytest.raises(ValueError, match="scene_cut=0"):
        check_temporal_options("none", scene_cut=0)
    assert not os.listdir(tmp_path)


def test_an_interrupted_run_leaves_no_file(clip, tmp_path):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    with pytest.raises(RuntimeError, match="the model crashed"):
        colorize_video(
            FlickerColorizer(fail_after=3), clip, out_dir / "moving.mp4", progress=False
        )
    assert os.listdir(out_dir) == []


def test_an_undecodable_clip_is_named_and_nothing_is_written(clip, tmp_path):
    bad = tmp_path / "x.mp4"
    bad.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(VideoReadError, match="x.mp4: cannot decode video"):
        colorize_video(
            FlickerColorizer(), bad, tmp_path / "out" / "x.mp4", progress=False
        )
    assert not (tmp_path / "out").exists() or not os.listdir(tmp_path / "out")
    messages = []
    result = colorize_videos(
        FlickerColorizer(),
        [bad, clip],
        tmp_path / "out",
        log=messages.append,
        progress=False,
    )
    assert result["written"] == 1 and result["skipped"] == 1
    assert result["summary"] == "skipped 1 of 2 videos: 1 cannot decode"
    assert any("x.mp4" in m for m in messages)
    assert sorted(os.listdir(tmp_path / "out")) == ["moving.mp4"]


def test_cli_colorizes_videos_and_images_and_skips_a_bad_clip(
    gray_run, clip, tmp_path, capsys
):
    folder = tmp_path / "inputs"
    (folder / "nested").mkdir(parents=True)
    os.link(clip, folder / "nested" / "moving.mp4")
    imageio_v3 = pytest.importorskip("imageio.v3")
    imageio_v3.imwrite(folder / "photo.png", _moving_gradient(n=1)[0])
    bad = tmp_path / "broken.mov"
    bad.write_bytes(b"not a video\n" * 50)
    out = tmp_path / "out"
    code = main(
        [
            "colorize",
            "--colorizer",
            gray_run,
            str(folder),
            str(bad),
            "--out",
            str(out),
            "--scene-cut",
            "40",
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert (
        "colorized 1 image(s)" in captured.out
        and "colorized 1 video(s)" in captured.out
    )
    assert (
        "skipped 1 of 2 videos: 1 cannot decode" in captured.out
        and "broken.mov" in captured.err
    )
    assert probe(out / "nested" / "moving.mp4")["frames"] == N
    assert os.path.isfile(out / "photo.png")
    assert main(["colorize", "--colorizer", gray_run, str(bad), "--out", str(out)]) == 1
    with pytest.raises(SystemExit):
        main(["colorize", "--colorizer", gray_run, clip, "--temporal", "smooth"])
    assert "invalid choice: 'smooth'" in capsys.readouterr().err
