"""The README's benchmark numbers are the committed results file's: its block is exactly what
`render_readme` makes of docs/benchmark/results.json, and the pictures it shows exist."""

import json
import re
from pathlib import Path

import pytest

from kcolor.benchmark.report import README_BEGIN, README_END, render_readme

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "docs" / "benchmark" / "results.json"


def _block(text):
    assert README_BEGIN in text and README_END in text, "the README lost its benchmark block"
    return text.split(README_BEGIN, 1)[1].split(README_END, 1)[0].strip("\n")


def test_the_readme_benchmark_block_is_rendered_from_the_committed_results():
    results = json.loads(RESULTS.read_text())
    assert _block((ROOT / "README.md").read_text()) == render_readme(results).strip("\n")


def test_the_pictures_the_readme_shows_exist():
    text = (ROOT / "README.md").read_text()
    for path in re.findall(r"\]\((docs/benchmark/[^)]+\.png)\)", text):
        assert (ROOT / path).is_file(), path


def _steps_run(steps, rows, digest="abc"):
    return {"data": "photos", "budget": {"steps": steps, "image_size": 64, "batch_size": 16},
            "test_sets": {"single": {"digest": digest}},
            "rows": [{"name": name, "kind": kind, "test_set": "single", "psnr": p, "seen_psnr": s, "cf": 30.0}
                     for name, kind, p, s in rows] + [{"name": "ground truth", "kind": "ground truth",
                                                       "test_set": "single", "psnr": None, "cf": 40.0}]}


def test_the_steps_table_puts_each_models_runs_beside_the_gray_baseline():
    from kcolor.benchmark.report import render_steps

    gray = ("gray baseline", "baseline", 19.78, 20.71)
    default = _steps_run(400, [gray, ("autoencoder", "model", 18.33, 19.55), ("pix2pix", "model", 15.9, 17.7)])
    longer = _steps_run(2400, [gray, ("autoencoder", "model", 18.98, 22.66)])
    text = render_steps([longer, default])
    assert "(`kcolor benchmark --models autoencoder --steps 2400`;" in text and "pix2pix" not in text  # only models trained longer
    assert ("| autoencoder | 400 | 18.33 | 19.78 | 19.55 | 20.71 | 30.0 |\n"
            "| autoencoder | 2400 | 18.98 | 19.78 | 22.66 | 20.71 | 30.0 |") in text
    assert "CF in range: 20.0 to 60.0 (0.5 to 1.5 x the ground truth's 40.0)." in text
    with pytest.raises(ValueError, match="differ only in --steps"):
        render_steps([default, _steps_run(2400, [gray], digest="other")])


def test_the_readme_steps_block_is_rendered_from_the_committed_results():
    from kcolor.benchmark.report import STEPS_BEGIN, STEPS_END, render_steps

    files = sorted((ROOT / "docs" / "benchmark").glob("steps-*.json"))
    text = (ROOT / "README.md").read_text()
    assert files, "docs/benchmark/steps-*.json is missing: run make docs-steps"
    block = text.split(STEPS_BEGIN, 1)[1].split(STEPS_END, 1)[0]
    runs = [json.loads(RESULTS.read_text())] + [json.loads(path.read_text()) for path in files]
    assert block == "\n" + render_steps(runs)
