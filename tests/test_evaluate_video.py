"""`kcolor evaluate-video`: fidelity and flicker of a colorizer on clips, with test-double colorizers."""

import json
import math

import keras
import numpy as np
import pytest
from skimage import data as skdata

from kcolor import inference
from kcolor.cli.main import main
from kcolor.data.clips import synthetic_clip, write_clip
from kcolor.evaluate_video import RESULTS_NAME, TABLE_NAME, evaluate_video, list_clips, parse_modes, score_clip
from kcolor.export.run import save_run
from kcolor.flow import FLOW_METHOD
from kcolor.models.io import get_io

SIZE = (64, 48)
SCORES = ("psnr", "ssim", "colorfulness", "warp_error", "cdc")


class TrueColors(inference.Colorizer):
    """A perfect colorizer: the clip's frames are in color, so it returns the colors it is given."""

    kind = "test"
    io = get_io("gray_rgb")
    image_size = 32
    model_name = "true_colors"

    def colorize(self, rgb, reference=None, frames=False):
        return np.asarray(rgb, np.float32)


class Flicker(TrueColors):
    """The true colors, but every other frame's red and blue are swapped: faithful half the time, never steady."""

    model_name = "flicker"

    def __init__(self):
        self.calls = 0

    def colorize(self, rgb, reference=None, frames=False):
        self.calls += 1
        rgb = np.asarray(rgb, np.float32)
        return rgb[..., ::-1].copy() if self.calls % 2 == 0 else rgb


class NoColor(TrueColors):
    """Adds no color: each frame's gray copy, as the flow sees it."""

    model_name = "no_color"

    def colorize(self, rgb, reference=None, frames=False):
        gray = np.asarray(rgb, np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
        return np.repeat(gray[..., None], 3, axis=-1)


@pytest.fixture(scope="module")
def pan_clip(tmp_path_factory):
    """A 6-frame synthetic pan over the coffee photo, 64 x 48."""
    path = tmp_path_factory.mktemp("clips") / "coffee-pan.mp4"
    write_clip(path, synthetic_clip(skdata.coffee(), frames=6, size=SIZE, motion="pan", seed=0), fps=24)
    return str(path)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    keras.utils.set_random_seed(0)
    gray = keras.Input((32, 32, 1), name="gray")
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="tiny_conv")(gray)
    rgb = keras.layers.Conv2D(3, 3, padding="same", activation="sigmoid", name="tiny_out")(x)
    model = keras.Model(gray, rgb, name="tiny")
    return save_run(tmp_path_factory.mktemp("run"), model, model_name="tiny", io="gray_rgb", image_size=32)


def test_a_tiny_model_gets_finite_scores_and_reference_is_reported_not_applicable(tiny_run, pan_clip, tmp_path):
    result = evaluate_video(tiny_run, [pan_clip], temporal="none,reference", out_dir=tmp_path, progress=False,
                            log=lambda _: None)
    (clip,) = result["clips"]
    assert clip["name"] == "coffee-pan" and clip["input"]["frames"] == 6 and clip["input"]["size"] == list(SIZE)
    row = clip["modes"]["none"]
    assert row["status"] == "ok" and row["frames"] == 6
    for key in SCORES + ("seconds",):
        assert math.isfinite(row[key]), key
    assert 0 < row["psnr"] < 60 and -1 <= row["ssim"] <= 1 and row["warp_error"] >= 0 and row["cdc"] >= 0
    assert clip["modes"]["reference"] == {"status": "n/a", "reason": clip["modes"]["reference"]["reason"]}
    assert "takes no color reference image" in clip["modes"]["reference"]["reason"]
    saved = json.loads((tmp_path / RESULTS_NAME).read_text())
    assert saved["flow_method"] == FLOW_METHOD and saved["clips"][0]["modes"]["none"]["psnr"] == row["psnr"]
    table = (tmp_path / TABLE_NAME).read_text()
    assert table == result["table"] and "n/a (" in table and FLOW_METHOD in table and "FlowNet2" in table
    assert (tmp_path / "videos" / "coffee-pan-none.mp4").exists()


def test_true_colors_score_high_psnr_and_no_flicker_and_a_flickering_colorizer_does_not(pan_clip, tmp_path):
    kwargs = {"temporal": "none", "progress": False, "log": lambda _: None}
    true = evaluate_video(TrueColors(), [pan_clip], out_dir=tmp_path / "true", **kwargs)["clips"][0]
    flicker = evaluate_video(Flicker(), [pan_clip], out_dir=tmp_path / "flicker", **kwargs)["clips"][0]
    steady, jumpy = true["modes"]["none"], flicker["modes"]["none"]
    assert steady["psnr"] > 35 and steady["ssim"] > 0.95
    assert steady["warp_error"] < 5e-3  # the warp error of the clip's own colors: flow error and codec noise only
    assert steady["warp_error"] == pytest.approx(true["input"]["warp_error"], abs=1e-3)
    assert steady["cdc"] == pytest.approx(true["input"]["cdc"], abs=2e-3)
    assert jumpy["warp_error"] > 50 * steady["warp_error"] and jumpy["cdc"] > 4 * steady["cdc"]
    assert jumpy["psnr"] < steady["psnr"] - 10


def test_the_gray_copys_warp_error_is_the_floor_that_only_color_flicker_rises_above(pan_clip, tmp_path):
    from kcolor.evaluate_video import excess_warp

    kwargs = {"temporal": "none", "progress": False, "log": lambda _: None}
    gray = evaluate_video(NoColor(), [pan_clip], out_dir=tmp_path / "gray", **kwargs)["clips"][0]
    flicker = evaluate_video(Flicker(), [pan_clip], out_dir=tmp_path / "flicker", **kwargs)["clips"][0]
    floor = gray["input"]["gray_warp_error"]
    assert 0 < floor < gray["input"]["warp_error"]  # the true colors move too; their gray copy less
    # written and read back as the modes are, the gray copy scores what a colorizer adding no color scores
    assert gray["modes"]["none"]["warp_error"] == pytest.approx(floor, rel=0.02)
    assert abs(excess_warp(gray["modes"]["none"], gray["input"])) < 0.02 * floor
    assert excess_warp(flicker["modes"]["none"], flicker["input"]) > 50 * floor
    assert "gray input (no color)" in (tmp_path / "gray" / TABLE_NAME).read_text()
    assert (tmp_path / "gray" / "videos" / "coffee-pan-gray.mp4").exists()


def test_a_clip_that_cannot_be_read_is_named_skipped_and_counted(pan_clip, tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(np.random.default_rng(0).bytes(4000))
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    lines = []
    result = evaluate_video(TrueColors(), [str(broken), pan_clip, str(empty)], temporal="none",
                            out_dir=tmp_path / "out", progress=False, log=lines.append)
    assert [c["name"] for c in result["clips"]] == ["coffee-pan"]
    assert {s["clip"]: s["reason"] for s in result["skipped"]} == {"broken": "cannot decode", "empty": "empty file"}
    assert result["summary"] == "skipped 2 of 3 clips: 1 cannot decode, 1 empty file"
    assert any(line.startswith(f"skipped {broken}: cannot decode video") for line in lines)
    assert str(broken) in result["table"] and result["summary"] in result["table"]


class Broken(TrueColors):
    model_name = "broken"

    def colorize(self, rgb, reference=None, frames=False):
        raise RuntimeError("lens cap on")


class NeedsReference(TrueColors):
    io = get_io("ref_gray3_rgb")
    model_name = "needs_reference"


def test_a_mode_that_breaks_is_failed_and_counted_and_one_that_does_not_apply_is_na(pan_clip, tmp_path):
    kwargs = {"temporal": "none,reference", "progress": False, "log": lambda _: None}
    broken = evaluate_video(Broken(), [pan_clip], out_dir=tmp_path / "broken", **kwargs)
    assert broken["failed"] == 1 and broken["clips"][0]["modes"]["none"]["status"] == "failed"
    assert "RuntimeError: lens cap on" in broken["clips"][0]["modes"]["none"]["reason"]
    assert "failed (RuntimeError: lens cap on)" in broken["table"]
    modes = evaluate_video(NeedsReference(), [pan_clip], out_dir=tmp_path / "ref", **kwargs)["clips"][0]["modes"]
    assert modes["none"]["status"] == "n/a" and "--reference" in modes["none"]["reason"]


def test_by_default_the_real_clips_and_synthetic_ones_are_listed(tmp_path, monkeypatch):
    monkeypatch.setenv("KCOLOR_CLIPS", str(tmp_path / "no_clips"))
    monkeypatch.setenv("KCOLOR_PHOTOS", str(tmp_path / "no_photos"))
    clips, notes = list_clips(None, out_dir=tmp_path / "eval", log=lambda _: None)
    assert [(c["name"], c["kind"]) for c in clips] == [("coffee-pan", "synthetic"), ("coffee-zoom", "synthetic")]
    assert all(c["path"].startswith(str(tmp_path / "eval" / "synthetic")) for c in clips)
    assert any("kcolor fetch-clips" in n for n in notes) and any("coffee.png" in n for n in notes)


def test_score_clip_of_a_clip_against_itself_is_perfect_fidelity(pan_clip):
    scores = score_clip(pan_clip, pan_clip)
    assert scores["frames"] == 6 and scores["psnr"] == 200.0 and scores["ssim"] == pytest.approx(1.0)


def test_modes_are_checked_and_the_cli_prints_the_table(tiny_run, pan_clip, tmp_path, capsys):
    assert parse_modes("flow, none,flow") == ("flow", "none")
    with pytest.raises(ValueError, match="Valid: none, flow, reference"):
        parse_modes("none,optical")
    assert main(["evaluate-video", "--colorizer", tiny_run, "--temporal", "sideways", pan_clip]) == 2
    assert "Valid: none, flow, reference" in capsys.readouterr().err
    out_dir = tmp_path / "cli"
    assert main(["evaluate-video", "--colorizer", tiny_run, "--temporal", "none", "--out", str(out_dir), pan_clip]) == 0
    printed = capsys.readouterr().out
    assert "| coffee-pan | 6 | input (true colors) |" in printed and f"wrote {out_dir}" in printed
