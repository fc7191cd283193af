"""`kcolor evaluate`: several runs scored on one test split, with the gray baseline."""

import json
import os

import numpy as np
import pytest

from kcolor.cli.main import main
from kcolor.config import TrainConfig
from kcolor.evaluate import GRAY_BASELINE, TABLE_METRICS, TestSetMismatch, evaluate_runs
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
    test_set = result["evaluation"]["test_set"]
    assert test_set["source"] == "sample" and test_set["split"] == "test" and test_set["count"] == 8
    assert len(test_set["ids"]) == 8 and len(test_set["digest"]) == 64
    assert result["evaluation"]["images"] == {"autoencoder": 8, "pix2pix": 8, GRAY_BASELINE: 8, "ground truth": 8}
    assert test_set["digest"][:16] in result["table_markdown"]
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
    assert "nowhere" in err and "does not exist" in err


def _saved_run(root, name, size=SIZE, **config):
    options = {"filters": (4, 8, 8)} if name == "autoencoder" else {"base_filters": 8}
    colorizer = build_model(name, size, **options)["colorizer"]
    cfg = TrainConfig(model=name, image_size=size, batch_size=8, options=options, **config)
    return save_run(root / f"{name}-{size}", colorizer, model_name=name, io="gray_rgb", image_size=size, config=cfg)


def test_runs_from_different_configs_need_one_data_source(tmp_path):
    # Two runs trained under different configs (other source, other size) are never
    # scored on their own, different, test sets in one table.
    a = _saved_run(tmp_path, "autoencoder", data="sample", split=(0.6, 0.2, 0.2))
    b = _saved_run(tmp_path, "pix2pix", size=48, data="sample", split=(0.5, 0.25, 0.25), seed=3)
    with pytest.raises(TestSetMismatch) as err:
        evaluate_runs([a, b], out_dir=str(tmp_path / "e0"))
    message = str(err.value)
    assert "autoencoder-32" in message and "pix2pix-48" in message and "--data" in message
    assert "0.6/0.2/0.2" in message and "0.5/0.25/0.25" in message

    first = evaluate_runs([a, b], data="sample", out_dir=str(tmp_path / "e1"), max_images=6)["evaluation"]
    again = evaluate_runs([b, a], data="sample", out_dir=str(tmp_path / "e2"), max_images=6)["evaluation"]
    assert set(first["images"].values()) == {6}
    assert first["test_set"]["image_size"] == 48  # the largest run's size; the 32-px model is resized
    assert first["test_set"]["digest"] == again["test_set"]["digest"]
    assert first["test_set"]["ids"] == again["test_set"]["ids"]
    other = evaluate_runs([a, b], data="sample", split="val", out_dir=str(tmp_path / "e3"), max_images=6)
    assert other["evaluation"]["test_set"]["digest"] != first["test_set"]["digest"]
    # The CLI says the same in one line.
    assert main(["evaluate", a, b, "--out", str(tmp_path / "e4")]) == 2


def test_an_empty_split_is_an_error_not_a_fallback(tmp_path):
    run = _saved_run(tmp_path, "autoencoder", data="sample", split=(0.8, 0.2, 0.0))
    with pytest.raises(ValueError, match="test split of 'sample' is empty"):
        evaluate_runs([run], out_dir=str(tmp_path / "e"))
    result = evaluate_runs([run], split="val", out_dir=str(tmp_path / "v"), max_images=4)
    assert result["evaluation"]["test_set"]["split"] == "val"
