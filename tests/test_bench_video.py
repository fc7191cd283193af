"""`make bench BENCH=video`: kcolor's video path timed for real at a tiny size, and the
ratio to ONNX Runtime, the pipeline's overhead and the report computed from given timings."""

import json
import os

import numpy as np
import pytest

pytest.importorskip("imageio_ffmpeg")

from kcolor.bench import video

TINY = dict(width=128, height=72, frames=3, fps=25, size=64, base_filters=8, max_filters=32, threads=2,
            repeats=2, warmup=1, quantize=["none"], parity_frames=3)


def _model_row(label, fps, *, eligible=True, fmt="tflite"):
    return {"label": label, "format": fmt, "fps": fps, "eligible": eligible, "ms_median": 1000 / fps,
            "ms_q1": 1000 / fps, "ms_q3": 1000 / fps, "cpu_per_wall": 1.9, "bar_met": eligible,
            "parity_db": 45.0 if eligible else 20.0, "bar_db": 28.0}


def _pipeline_row(label, temporal, frame_ms, model_ms):
    return {"label": label, "temporal": temporal, "fps": 900 / frame_ms, "steady_fps": 1000 / frame_ms,
            "frame_ms": frame_ms, "model_ms": model_ms, "resize_lab_ms": 10.0, "rest_ms": frame_ms - model_ms - 10.0,
            "overhead_share": 1 - model_ms / frame_ms}


def _kcolor_rows():
    return {
        "clip": {"width": 1280, "height": 720, "frames": 30},
        "model": {"params": 1000},
        "model_alone": [
            _model_row("keras", 5.0, fmt="keras"),
            _model_row("savedmodel", 6.0, fmt="savedmodel"),
            _model_row("litert float32", 8.0),
            _model_row("litert float16", 9.0),
            _model_row("litert int8", 12.0, eligible=False),  # faster, but below its parity bar
        ],
        "pipelines": [
            _pipeline_row("savedmodel", "none", 200.0, 166.7),
            _pipeline_row("savedmodel", "flow", 260.0, 166.7),
            _pipeline_row("litert float16", "none", 140.0, 111.1),
            _pipeline_row("litert float16", "flow", 200.0, 111.1),
        ],
        "codec": {"frames": 30, "decode_ms": 4.0, "encode_ms": 20.0},
    }


def test_the_ratio_counts_only_exports_that_pass_parity_and_the_fastest_onnxruntime_round():
    onnx = [{"label": "onnxruntime", "fps": 6.0, "params": 1000}, {"label": "onnxruntime", "fps": 7.5, "params": 1000}]
    s = video.summarize(_kcolor_rows(), onnx)
    assert s["fastest"] == "litert float16" and s["fastest_fps"] == 9.0
    assert s["onnxruntime_fps"] == 7.5
    assert s["ratio"] == pytest.approx(1.2) and s["ratio_met"] is True
    assert s["same_params"] is True
    onnx[1]["fps"] = 7.6
    s = video.summarize(_kcolor_rows(), onnx)
    assert s["ratio"] == pytest.approx(9.0 / 7.6) and s["ratio_met"] is False
    onnx[0]["params"] = onnx[1]["params"] = 999
    assert video.summarize(_kcolor_rows(), onnx)["same_params"] is False


def _quantized(label, fps):
    return {"label": label, "fps": fps, "ms_median": 1000 / fps, "ms_q1": 1000 / fps, "ms_q3": 1000 / fps,
            "cpu_per_wall": 2.0, "max_abs_diff_vs_float": 0.01}


def test_quantized_rows_are_set_against_litert_s_same_quantization_faster_round_first():
    rows = _kcolor_rows()
    rows["model_alone"].append(_model_row("litert dynamic", 10.0))
    onnx = [{**_quantized("onnxruntime", 6.0), "quantized": [_quantized("onnxruntime dynamic", 4.0),
                                                              _quantized("onnxruntime int8", 16.0)]},
            {**_quantized("onnxruntime", 7.5), "quantized": [_quantized("onnxruntime dynamic", 5.0),
                                                              {"label": "onnxruntime int8", "error": "Op refused"}]}]
    pairs = video.summarize(rows, onnx)["quantized_pairs"]
    assert [(p["kind"], p["kcolor_fps"], p["onnxruntime_fps"], p["eligible"]) for p in pairs] == [
        ("dynamic", 10.0, 5.0, True), ("int8", 12.0, 16.0, False)]
    assert [p["ratio"] for p in pairs] == pytest.approx([2.0, 0.75])
    report = {"settings": "test", "kcolor": rows, "onnxruntime": onnx, "date": "2026-12-07", "machine": {},
              "summary": video.summarize(rows, onnx)}
    text = "\n".join(video.format_report(report))
    assert "onnxruntime int8 [2]" in text and "Op refused" in text
    assert "quantized on both sides, int8: litert 12.00 fps / onnxruntime 16.00 fps = 0.75x" in text
    block = video.render_speed(report)
    assert "| ONNX Runtime, dynamic (faster of 2 rounds) | 5.00 |" in block
    assert "- Quantized on both sides, int8: kcolor litert int8 12.00 fps, 0.75x ONNX Runtime int8's 16.00." in block


def test_onnxruntime_s_quantized_graphs_are_timed_for_real(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("onnxruntime")
    row = video.measure_onnxruntime(dict(TINY, workdir=str(tmp_path)))
    assert [q["label"] for q in row["quantized"]] == ["onnxruntime dynamic", "onnxruntime int8"]
    for q in row["quantized"]:
        assert q["fps"] > 0 and 0 < q["max_abs_diff_vs_float"] < 0.2, q  # quantized, yet the same network
    with pytest.raises(ValueError, match="valid: dynamic, int8"):
        video.quantize_onnx(tmp_path / "onnx" / "generator.onnx", "int4", 64)


def test_the_overhead_goal_is_judged_on_the_fastest_paths_pipeline_rows():
    s = video.summarize(_kcolor_rows(), [])
    assert [(o["label"], o["temporal"]) for o in s["overhead"]] == [("litert float16", "none"), ("litert float16", "flow")]
    shares = [o["overhead_share"] for o in s["overhead"]]
    assert shares == pytest.approx([1 - 111.1 / 140, 1 - 111.1 / 200])
    assert [o["met"] for o in s["overhead"]] == [True, False] and s["overhead_met"] is False
    rows = _kcolor_rows()
    rows["pipelines"] = rows["pipelines"][:3]  # no flow row of the fastest path
    assert video.summarize(rows, [])["overhead_met"] is True
    assert video.summarize({"model_alone": rows["model_alone"]}, [])["overhead_met"] is None


def test_a_missing_onnxruntime_row_leaves_the_ratio_open_and_says_how_to_install():
    skipped = [{"label": "onnxruntime", "skipped": f"needs torch, onnxruntime: {video.INSTALL_HINT}"}]
    report = {"settings": "test", "kcolor": _kcolor_rows(), "onnxruntime": skipped}
    report["summary"] = video.summarize(report["kcolor"], skipped)
    assert report["summary"]["ratio"] is None and report["summary"]["ratio_met"] is None
    text = "\n".join(video.format_report(report))
    assert "pip install -e .[bench]" in text
    assert "ratio to ONNX Runtime: n/a" in text
    assert "litert int8" in text and "BELOW the bar: not eligible" in text
    assert "litert float16 / flow: 200 ms a frame = model 111 (56%)" in text
    assert "litert float16: flow adds 60 ms a frame" in text
    assert "encode (H.264 CRF 18) 20.0 ms" in text
    assert video.missing_peer_modules(("numpy", "kcolor_no_such_module")) == ["kcolor_no_such_module"]


def test_the_report_prints_the_ratio_against_its_goal():
    onnx = [{"label": "onnxruntime", "fps": 10.0, "ms_median": 100.0, "ms_q1": 99.0, "ms_q3": 101.0, "cpu_per_wall": 2.0}]
    report = {"settings": "test", "kcolor": _kcolor_rows(), "onnxruntime": onnx}
    report["summary"] = video.summarize(report["kcolor"], onnx)
    text = "\n".join(video.format_report(report))
    assert "litert float16 9.00 fps / ONNX Runtime 10.00 fps = 0.90x (goal >= 1.2x: NOT met)" in text
    assert "onnxruntime [1]" in text
    assert "(goal < 25%: NOT met)" in text


def test_a_frame_splits_into_model_resize_and_the_rest():
    split = video.pipeline_split([0.0, 0.2, 0.4, 0.6], [0.15] * 4, [0.1] * 4)
    assert split["frame_ms"] == pytest.approx(200.0) and split["steady_fps"] == pytest.approx(5.0)
    assert split["model_ms"] == pytest.approx(100.0) and split["predict_calls"] == 4
    assert split["resize_lab_ms"] == pytest.approx(50.0) and split["rest_ms"] == pytest.approx(50.0)
    assert split["overhead_share"] == pytest.approx(0.5)
    in_graph = video.pipeline_split([0.0, 0.3, 0.6], [0.25] * 3, [], model_ms=150.0)
    assert in_graph["model_ms"] == 150.0 and "model-alone" in in_graph["model_time_from"]
    assert in_graph["overhead_share"] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="model_ms"):
        video.pipeline_split([0.0, 0.3], [0.2] * 2, [])
    with pytest.raises(ValueError, match="two frames"):
        video.pipeline_split([0.0], [0.2], [0.1])


def test_the_stage_timer_wraps_the_instance_and_leaves_the_class_alone():
    class Fake:
        def predict(self, inputs):
            return inputs

        def colorize(self, rgb, reference=None, frames=False):
            return self.predict(rgb)

    fake = Fake()
    with video.StageTimer(fake) as timer:
        assert fake.colorize(1) == 1 and fake.colorize(2) == 2
    assert len(timer.starts) == len(timer.colorize) == len(timer.predict) == 2
    assert "predict" not in vars(fake) and "colorize" not in vars(fake)
    fake.colorize(3)
    assert len(timer.predict) == 2


def test_the_clip_pans_over_a_photo():
    frames = list(video.clip_frames(128, 72, 3))
    assert [f.shape for f in frames] == [(72, 128, 3)] * 3 and frames[0].dtype == np.uint8
    assert frames[0].std() > 20  # a photo, not a flat color
    assert not np.array_equal(frames[0], frames[1])
    # one pixel sideways a frame (synthetic_clip's pan; seed 0 picks the direction)
    assert np.array_equal(frames[1][:, :-1], frames[0][:, 1:]) or np.array_equal(frames[1][:, 1:], frames[0][:, :-1])
    assert np.array_equal(frames[2], list(video.clip_frames(128, 72, 3))[2])  # the same clip every run


def test_odd_sizes_and_unknown_quantizations_are_refused():
    with pytest.raises(SystemExit):
        video.main(["--width", "127"])
    with pytest.raises(SystemExit):
        video.main(["--quantize", "int4"])


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    work = tmp_path_factory.mktemp("video-bench")
    return video.measure_kcolor(dict(TINY, workdir=str(work))), work


def test_kcolor_rows_are_measured_for_real(measured):
    result, _ = measured
    json.dumps(result)  # the report is JSON
    rows = {r["label"]: r for r in result["model_alone"]}
    assert list(rows) == ["keras", "savedmodel", "litert float32"]
    for row in rows.values():
        assert row["fps"] > 0 and row["ms_median"] > 0 and row["eligible"] is True
    assert rows["savedmodel"]["parity_db"] >= rows["savedmodel"]["bar_db"]
    assert result["model"]["image_size"] == 64 and result["model"]["params"] > 0
    assert result["codec"]["frames"] == 3 and result["codec"]["encode_ms"] > 0
    assert result["threads"]["litert"] == 2


def test_the_pipeline_is_timed_frame_by_frame_for_both_modes(measured):
    result, work = measured
    pipes = {(r["label"], r["temporal"]): r for r in result["pipelines"]}
    assert set(pipes) == {(label, mode) for label in ("savedmodel", "litert float32") for mode in ("none", "flow")}
    for (label, mode), row in pipes.items():
        assert row["frames"] == 3 and row["fps"] > 0
        assert 0 < row["overhead_share"] < 1 and row["frame_ms"] > row["model_ms"] > 0
        assert os.path.isfile(os.path.join(str(work), f"{label.replace(' ', '-')}-{mode}.mp4"))
        # every format's predict runs once a frame: a clip's frames take colorize(frames=True)
        assert row["predict_calls"] == 3
        assert row["model_time_from"] == "timed predict calls"
    s = video.summarize(result, [])
    assert s["fastest"] in {"keras", "savedmodel", "litert float32"} and s["ratio"] is None
    assert len(s["overhead"]) == 2 and len(s["where_time_goes"]) == 4 + 2 + 1


def _stream_row(temporal, frames, rss, fps=20.0):
    return {"temporal": temporal, "frames": frames, "peak_rss_mb": rss, "fps": fps, "seconds": frames / fps}


def test_memory_growth_is_judged_against_holding_every_extra_frame():
    rows = [_stream_row("none", 64, 900.0), _stream_row("none", 640, 905.0),
            _stream_row("flow", 640, 1010.0), _stream_row("flow", 64, 950.0)]
    s = video.memory_growth(rows, 320, 240, flat_share=0.1)
    frame_mb = 320 * 240 * 3 / 2**20
    assert s["frame_mb"] == pytest.approx(frame_mb)
    none, flow = s["modes"]
    assert (none["temporal"], none["short_frames"], none["long_frames"]) == ("none", 64, 640)
    assert none["growth_mb"] == pytest.approx(5.0)
    assert none["growth_mb_per_100_frames"] == pytest.approx(500.0 / 576)
    assert none["held_mb"] == pytest.approx(576 * frame_mb) and none["budget_mb"] == pytest.approx(57.6 * frame_mb)
    assert none["flat"] is True  # 5 MB against 13.2 MB
    assert flow["growth_mb"] == pytest.approx(60.0) and flow["flat"] is False  # the rows' order does not matter
    assert s["flat"] is False
    assert video.memory_growth(rows[:2], 320, 240)["flat"] is True
    assert video.memory_growth([], 320, 240)["flat"] is None
    with pytest.raises(ValueError, match="two clip lengths"):
        video.memory_growth(rows[:1], 320, 240)


def test_memory_options_are_checked():
    for bad in (["--memory-size", "65x48"], ["--memory-size", "big"], ["--memory-frames", "64"],
                ["--memory-frames", "64,64"], ["--memory", "sometimes"]):
        with pytest.raises(SystemExit):
            video.main(bad)


def test_memory_rows_run_end_to_end_into_the_results_file(tmp_path):
    """`--memory only` at 64x48, 3 and 6 frames, with the default model (saved in its own
    process): every row in its own process, the JSON and the verdict."""
    out = tmp_path / "bench_video.json"
    code = video.main(["--memory", "only", "--memory-size", "64x48", "--memory-frames", "6,3", "--threads", "2",
                       "--workdir", str(tmp_path / "work"), "--out", str(out)])
    assert code == 0
    report = json.loads(out.read_text())
    memory = report["memory"]
    assert memory["model"]["model"] == "pix2pix" and memory["model"]["options"]["base_filters"] == 8
    assert memory["clip"] == {"width": 64, "height": 48, "frames": [3, 6], "content": f"pan over skimage {video.PHOTO}"}
    assert [(r["temporal"], r["frames"]) for r in memory["rows"]] == [(m, n) for m in video.TEMPORAL for n in (3, 6)]
    for row in memory["rows"]:
        assert row["peak_rss_mb"] > 100 and row["fps"] > 0 and row["seconds"] > 0
    assert os.path.isfile(tmp_path / "work" / "memory" / "out-flow-6.mp4")
    s = memory["summary"]
    assert s == video.memory_growth(memory["rows"], 64, 48)  # the verdict is the arithmetic on the rows
    assert [m["temporal"] for m in s["modes"]] == list(video.TEMPORAL)
    assert report["kcolor"] == {} and report["onnxruntime"] == []
    text = "\n".join(video.format_report(report))
    assert "memory in the clip's length (64x48" in text and "3 -> 6" in text
