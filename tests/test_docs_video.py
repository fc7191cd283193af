"""The README's video table is rendered from the committed evaluate-video results, and the
goals it states are measured the way the issue defines them."""

import json
import os

import pytest

from kcolor.evaluate_video import clip_group, goal_lines, render_summary

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = os.path.join(ROOT, "docs", "video")


def video_reports():
    """The committed evaluate-video reports, in the order docs/video/evaluations.json lists them."""
    index = os.path.join(DOCS, "evaluations.json")
    if not os.path.exists(index):
        return []
    return [json.load(open(os.path.join(DOCS, name))) for name in json.load(open(index))["reports"]]


def _report(name, rows):
    clips = [{"name": clip, "modes": {mode: dict(status="ok", psnr=p, ssim=0.9, colorfulness=30.0, warp_error=w, cdc=c,
                                                 seconds=1.0)
                                      for mode, (p, w, c) in modes.items()}} for clip, modes in rows.items()]
    return {"model_name": name, "clips": clips}


def test_goals_are_the_ratios_the_issue_names():
    image = _report("ae", {"Kite-pan": {"none": (20.0, 0.004, 0.02), "flow": (19.8, 0.0019, 0.01)},
                           "Path-zoom": {"none": (22.0, 0.002, 0.02), "flow": (21.8, 0.0011, 0.01)}})
    reference = _report("stable", {"bikes": {"none": (18.0, 0.01, 0.05), "reference": (18.5, 0.005, 0.04)}})
    flow, chained = goal_lines([image, reference], clip_group)
    # E_warp (0.0019 + 0.0011) / (0.004 + 0.002) = 0.5 and 0.2 dB lost: both goals met, just.
    assert flow.endswith("E_warp x0.50 (goal: at most x0.5), PSNR -0.20 dB (goal: at most 0.3 dB lost): met.")
    assert chained.endswith("E_warp 0.00500 vs 0.01000, CDC 0.04000 vs 0.05000: met.")
    image["clips"][0]["modes"]["flow"]["psnr"] = 19.0  # 0.6 dB lost on average
    assert goal_lines([image, reference], clip_group)[0].endswith("not met.")
    assert clip_group("bikes") == "real" and clip_group("Kite-pan") == "synthetic"


def test_the_colors_own_flicker_is_measured_above_the_gray_inputs_warp_error():
    image = _report("ae", {"Kite-pan": {"none": (20.0, 0.004, 0.02), "flow": (19.9, 0.0030, 0.01)},
                           "Path-zoom": {"none": (22.0, 0.002, 0.02), "flow": (21.9, 0.0016, 0.01)}})
    reference = _report("stable", {"bikes": {"none": (18.0, 0.01, 0.05), "reference": (18.5, 0.005, 0.04)}})
    assert len(goal_lines([image, reference], clip_group)) == 2  # no floors recorded: no flicker line
    for clip, floor in zip(image["clips"], (0.002, 0.001)):
        clip["input"] = {"gray_warp_error": floor}
    flow, excess, _ = goal_lines([image, reference], clip_group)
    assert flow.endswith("E_warp x0.77 (goal: at most x0.5), PSNR -0.10 dB (goal: at most 0.3 dB lost): not met.")
    # above the floors: none (0.002 + 0.001) / 2, flow (0.001 + 0.0006) / 2
    assert excess.endswith("(0.00150, the lightness every mode keeps): `none` 0.00150, `flow` 0.00080, x0.53.")
    assert "| 0.00150 |" in render_summary([image, reference], clip_group)
    assert excess.startswith("`ae`, the colors' own flicker")


def test_the_readme_block_is_rendered_from_the_committed_results():
    reports = video_reports()
    if not reports:
        pytest.fail("docs/video/evaluations.json is missing: run scripts/docs_video.py (make docs-video)")
    with open(os.path.join(ROOT, "README.md")) as f:
        block = f.read().split("<!-- video:begin -->", 1)[1].split("<!-- video:end -->", 1)[0]
    assert block == "\n" + render_summary(reports, clip_group)
    assert os.path.getsize(os.path.join(DOCS, "bikes_strip.jpg")) > 10_000


def test_the_readme_memory_line_is_rendered_from_the_committed_bench_results():
    from kcolor.bench.video import memory_growth, render_memory

    path = os.path.join(DOCS, "bench.json")
    if not os.path.exists(path):
        pytest.fail("docs/video/bench.json is missing: run scripts/docs_video_bench.py")
    report = json.load(open(path))
    memory = report["memory"]
    clip = memory["clip"]
    assert memory["summary"] == memory_growth(memory["rows"], clip["width"], clip["height"],
                                              flat_share=memory["summary"]["flat_share"])
    with open(os.path.join(ROOT, "README.md")) as f:
        block = f.read().split("<!-- video-memory:begin -->", 1)[1].split("<!-- video-memory:end -->", 1)[0]
    assert block == "\n" + render_memory(report)


def test_the_readme_speed_block_is_rendered_from_the_committed_bench_results():
    from kcolor.bench.video import render_speed, summarize

    report = json.load(open(os.path.join(DOCS, "bench.json")))
    assert report["summary"]["ratio"] == summarize(report["kcolor"], report["onnxruntime"])["ratio"]
    with open(os.path.join(ROOT, "README.md")) as f:
        block = f.read().split("<!-- video-speed:begin -->", 1)[1].split("<!-- video-speed:end -->", 1)[0]
    assert block == "\n" + render_speed(report)
    assert "Float weights on both sides" in block  # a ratio won by quantized weights says so
