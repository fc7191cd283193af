"""`kcolor benchmark`: one budget, one test split, baselines, a report rendered from its
results file, full-resolution grids, resume without retraining, and bad input refused
before any training."""

import json
import os

import numpy as np
import pytest

from kcolor.benchmark import run_benchmark
from kcolor.benchmark.baselines import mean_chroma, mean_chroma_baseline
from kcolor.benchmark.report import render_table
from kcolor.benchmark.roster import NAMES, ROSTER
from kcolor.cli.main import main

MODELS = "autoencoder,pix2pix,stable_colorizer"


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("bench") / "out")
    lines = []
    result = run_benchmark(data="sample", size=32, batch=16, steps=2, models=MODELS, out=out, fid=False, log=lines.append)
    return result, out, lines


def test_results_hold_every_row_and_the_table_is_rendered_from_them(bench):
    result, out, lines = bench
    assert lines[0] == "[1/3] stable_colorizer (Paper 000): training from stable_photos_demo ..."
    with open(os.path.join(out, "results.json")) as f:
        results = json.load(f)
    rows = {row["name"]: row for row in results["rows"]}
    expected = {"autoencoder", "pix2pix", "stable_colorizer", "gray baseline", "mean chroma", "ground truth",
                "gray baseline (pairs)", "mean chroma (pairs)", "ground truth (pairs)"}
    assert set(rows) == expected
    assert results["budget"] == {"image_size": 32, "batch_size": 16, "steps": 2, "fractions": [0.6, 0.2, 0.2]}
    assert results["test_sets"]["single"]["count"] == len(results["test_sets"]["single"]["ids"]) == 16
    assert rows["stable_colorizer"]["test_set"] == "pairs" and rows["pix2pix"]["test_set"] == "single"
    for name in ("autoencoder", "pix2pix", "stable_colorizer"):
        row = rows[name]
        assert row["steps"] == 2 and row["wall_s"] > 0 and np.isfinite(row["psnr"]) and np.isfinite(row["dcf"])
        assert set(row["checks"]) == {"beats_baselines_psnr", "beats_baselines_reason", "cf_in_range", "cf_reason"}
        assert row["checks"]["beats_baselines_psnr"] or "dB <=" in row["checks"]["beats_baselines_reason"]
        # Scored on the training split too; a loss on the test photos says which way it went there.
        assert np.isfinite(row["seen_psnr"])
        assert row["checks"]["beats_baselines_psnr"] or "on the training photos" in row["checks"]["beats_baselines_reason"]
        assert row["fid"] == "not computed (--no-fid)"
        # Photo by photo against each baseline: the sample source's test split is one photo (coffee).
        for baseline in ("gray baseline", "mean chroma"):
            versus = row["vs_baselines"][baseline]
            assert versus["photos"] == 1 and versus["ci95_db"] is None and versus["won"] in (0, 1)
            floor = rows[baseline if name != "stable_colorizer" else f"{baseline} (pairs)"]
            assert versus["gain_db"] == pytest.approx(row["psnr"] - floor["psnr"], abs=1e-3)
            assert versus["won"] == (versus["gain_db"] > 0)
    assert rows["gray baseline"]["cf"] == pytest.approx(0.0, abs=1e-3)
    with open(os.path.join(out, "evaluation", "evaluation.json")) as f:
        scored = json.load(f)
    psnr = scored["per_image"]["pix2pix"]["psnr"]
    assert len(psnr) == scored["test_set"]["count"] and np.mean(psnr) == pytest.approx(rows["pix2pix"]["psnr"], abs=1e-3)
    with open(os.path.join(out, "evaluation-train", "evaluation.json")) as f:
        seen = json.load(f)
    assert seen["test_set"]["split"] == "train" and seen["test_set"]["count"] > 16
    assert rows["gray baseline"]["seen_psnr"] == pytest.approx(seen["results"]["gray baseline"]["psnr"]["mean"])
    assert rows["gray baseline"]["dcf"] == pytest.approx(rows["ground truth"]["cf"], rel=1e-4)
    with open(os.path.join(out, "table.md")) as f:
        assert f.read() == render_table(results) == result["table"]
    assert os.path.getsize(os.path.join(out, "table.png")) > 0
    assert os.listdir(os.path.join(out, "grids")) == ["coffee.png"]  # the sample source's whole test photo


def test_the_reason_a_model_loses_is_measured_on_its_training_photos():
    from kcolor.benchmark.report import _checks

    floors = {"gray baseline": {"psnr": 20.0, "seen_psnr": 21.0}, "mean chroma": {"psnr": 19.0, "seen_psnr": 20.0}}
    memorised = _checks({"psnr": 18.0, "seen_psnr": 24.0, "cf": 30.0}, floors, 40.0)
    assert memorised["beats_baselines_reason"] == (
        "PSNR 18.00 dB <= gray baseline 20.00 dB; PSNR 18.00 dB <= mean chroma 19.00 dB; on the training photos "
        "24.00 dB (gray baseline 21.00 dB, mean chroma 20.00 dB): it beats both on the photos it trained on: "
        "it learned their colors, not general ones"
    )
    underfit = _checks({"psnr": 19.5, "seen_psnr": 20.5, "cf": 30.0}, floors, 40.0)
    assert underfit["beats_baselines_reason"].endswith(
        "under-fit within the budget: it loses to gray baseline even on the photos it trained on"
    )
    assert _checks({"psnr": 21.0, "seen_psnr": 20.5, "cf": 30.0}, floors, 40.0)["beats_baselines_reason"] is None


def test_a_second_call_skips_finished_runs(bench):
    _, out, _ = bench
    model_file = os.path.join(out, "runs", "pix2pix", "colorizer.keras")
    before = os.path.getmtime(model_file)
    lines = []
    run_benchmark(data="sample", size=32, batch=16, steps=2, models=MODELS, out=out, fid=False, log=lines.append)
    assert "[2/3] autoencoder (Paper 001): finished earlier (2 steps" in lines[1] and lines[1].endswith("skipped")
    assert os.path.getmtime(model_file) == before
    for name in MODELS.split(","):  # every row trains under op determinism, one op at a time
        with open(os.path.join(out, "runs", name, "config.json")) as f:
            assert json.load(f)["deterministic"] is True, name
    with open(os.path.join(out, "results.json")) as f:
        assert {row["name"]: row["steps"] for row in json.load(f)["rows"] if row["kind"] == "model"} == {
            "autoencoder": 2, "pix2pix": 2, "stable_colorizer": 2}


@pytest.mark.parametrize(
    "args, words",
    [
        (["--models", "autoencoder,nope"], ["'nope'", "Valid choices: " + ", ".join(NAMES)]),
        (["--steps", "0"], ["steps=0"]),
        (["--size", "40"], ["size=40"]),
        (["--data", "nowhere"], ["'nowhere'", "Valid forms"]),
    ],
)
def test_bad_input_is_refused_before_training(tmp_path, capsys, args, words):
    out = tmp_path / "out"
    assert main(["benchmark", "--data", "sample", *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("kcolor benchmark: error:") and all(w in err for w in words), err
    assert not out.exists()


def test_help_lists_the_roster(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["benchmark", "--help"])
    assert exit_info.value.code == 0
    assert "--steps" in capsys.readouterr().out
    assert len(ROSTER) == 13 and len(set(NAMES)) == 13


def test_mean_chroma_is_the_training_mean_ab():
    from skimage.color import rgb2lab

    rng = np.random.default_rng(0)
    images = rng.uniform(0.0, 1.0, (5, 8, 8, 3)).astype(np.float32)
    batches = [{"rgb": images[:3]}, {"rgb": images[3:]}]
    expected = rgb2lab(images.astype(np.float64))[..., 1:].reshape(-1, 2).mean(axis=0)
    ab = mean_chroma(batches)
    np.testing.assert_allclose(ab, expected, atol=0.05)
    gray = np.full((1, 4, 4, 3), 0.5, np.float32)  # mid-gray: the chroma is laid on without clipping
    out = np.asarray(mean_chroma_baseline(ab)({"rgb": gray}), np.float64)
    np.testing.assert_allclose(rgb2lab(out)[..., 1:].reshape(-1, 2).mean(axis=0), ab, atol=0.5)


@pytest.mark.parametrize("rows", [2, 20])
def test_a_table_figure_is_cropped_to_its_table(tmp_path, rows):
    from PIL import Image

    from kcolor.pictures import save_table_figure

    path = save_table_figure([f"row {i}" for i in range(rows)], ["a", "b", "c"],
                             [["1.00", "2.00", "3.00"]] * rows, str(tmp_path / "t.png"), title="a title")
    ink = np.asarray(Image.open(path).convert("L")) < 250
    for axis in (1, 0):  # rows, then columns: about the 0.15-inch pad (15 px at 100 dpi) around the drawing
        drawn = np.flatnonzero(ink.any(axis=axis))
        assert drawn[0] <= 30 and ink.shape[1 - axis] - 1 - drawn[-1] <= 30, (ink.shape, drawn[0], drawn[-1])


def test_every_table_cell_holds_its_text():
    # The benchmark table's long headers ("gain on gray (dB, 95% CI)") and its rows' labels
    # each fit inside their cells, whatever the page width the figure chose.
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from kcolor.benchmark.report import COLUMNS
    from kcolor.pictures import table_figure

    long = (["unavailable offline", "8/16, 10/16", "+0.34 [-1.22, +2.01]"] * len(COLUMNS))[: len(COLUMNS)]
    cells = [["1"] * len(COLUMNS), ["1"] * len(COLUMNS), long]  # short cells (the header decides) and long ones
    fig = table_figure(["stable_colorizer", "gray baseline (pairs)", "x"], list(COLUMNS), cells, title="a title")
    canvas = FigureCanvasAgg(fig)
    canvas.draw()  # the cells place their text when drawn
    renderer = canvas.get_renderer()
    (table,) = fig.axes[0].tables
    for (row, col), cell in table.get_celld().items():
        box, text = cell.get_window_extent(renderer), cell.get_text().get_window_extent(renderer)
        assert box.x0 <= text.x0 and text.x1 <= box.x1, (row, col, cell.get_text().get_text(), box, text)


def test_a_grid_draws_each_full_resolution_column_shrunk_to_twice_its_panel_width():
    from kcolor.benchmark.figures import SHOWN_WIDTH, shown

    wide = np.random.default_rng(0).random((1600, 2560, 3)).astype(np.float32)
    small = shown(wide)
    assert small.shape == (round(1600 * SHOWN_WIDTH / 2560), SHOWN_WIDTH, 3) and small.dtype == np.float32
    assert abs(float(small.mean()) - float(wide.mean())) < 0.01  # the same picture, averaged down
    narrow = wide[:100, :200]
    assert np.array_equal(shown(narrow), narrow)  # never enlarged


def test_write_grids_hands_matplotlib_only_shrunk_columns(tmp_path, monkeypatch):
    """Every column of a 2560-px-wide photo (gray, each model's full-resolution output, ground
    truth) reaches the figure at `SHOWN_WIDTH`; a model's output is taken at full resolution."""
    from kcolor.benchmark import figures
    from kcolor.export import colorize

    photo = np.random.default_rng(1).random((1600, 2560, 3)).astype(np.float32)
    asked, drawn = [], []

    class FullResolution:
        def colorize(self, gray, reference=None):
            asked.append(gray.shape)
            return gray

    monkeypatch.setattr(colorize, "load_colorizer", lambda run: FullResolution())
    monkeypatch.setattr(figures, "test_photos", lambda data, size: [("wide", photo)])
    monkeypatch.setattr(figures.pictures, "save_image_grid",
                        lambda columns, path, **kw: drawn.extend(img.shape for _, imgs in columns for img in imgs))
    figures.write_grids(ROSTER[:3], data="photos", size=64, out=str(tmp_path))
    assert asked == [photo.shape] * 3
    assert drawn == [(round(1600 * figures.SHOWN_WIDTH / 2560), figures.SHOWN_WIDTH, 3)] * 5
