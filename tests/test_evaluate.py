"""`kcolor evaluate`: several runs scored on one test split, with the gray baseline."""

import json
import os

import numpy as np
import pytest

from kcolor.cli.main import main
from kcolor.config import TrainConfig
from kcolor.evaluate import GRAY_BASELINE, TABLE_METRICS, evaluate_runs
from kcolor.export.run import save_run
from kcolor.models import build_model

SIZE = 32


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    made = []
    for name, options in (("autoencoder", {"filters": (4, 8, 8)}), ("pix2pix", {"base_filters": 8})):
        colorizer = build_model(name, SIZE, **options)["colorizer"]
        cfg = TrainConfig(model=name, data="sample", image_size=SIZE, batch_size=8, options=options)
        made.append(save_run(root / name, colorizer, model_name=name, io="gray_rgb", image_size=SIZE, config=cfg))
    return made


def test_evaluate_scores_every_run_and_the_gray_baseline(runs, tmp_path):
    result = evaluate_runs(runs, out_dir=str(tmp_path / "eval"), max_images=8)
    results = result["evaluation"]["results"]
    assert set(results) == {"autoencoder", "pix2pix", GRAY_BASELINE, "ground truth"}
    for name in ("autoencoder", "pix2pix", GRAY_BASELINE):
        for metric in TABLE_METRICS:
            summary = results[name][metric]
            assert summary["count"] == 8
            assert np.isclose(summary["total"], summary["mean"] * 8)
    # The gray baseline has no color at all; the photos do.
    assert results[GRAY_BASELINE]["colorfulness"]["mean"] < 1e-3
    assert results["ground truth"]["colorfulness"]["mean"] > 5
    assert result["evaluation"]["split"] == "test"
    for name in ("evaluation.json", "evaluation.md", "table.png", "grid.png"):
        assert os.path.getsize(tmp_path / "eval" / name) > 0
    with open(tmp_path / "eval" / "evaluation.json") as f:
        assert json.load(f)["data"] == "sample"
    assert "| gray baseline |" in result["table_markdown"]


def test_cli_evaluate_and_its_errors(runs, tmp_path, capsys):
    assert main(["evaluate", *runs, "--out", str(tmp_path / "e"), "--max-images", "4"]) == 0
    assert "autoencoder" in capsys.readouterr().out
    assert main(["evaluate", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert "nowhere" in err and "colorizer.keras" in err
