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
    a = _saved_run(tmp_path, "autoencoder", data="sample", fractions=(0.6, 0.2, 0.2))
    b = _saved_run(tmp_path, "pix2pix", size=48, data="sample", fractions=(0.5, 0.25, 0.25), seed=3)
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
    run = _saved_run(tmp_path, "autoencoder", data="sample", fractions=(0.8, 0.2, 0.0))
    # The runs' own fractions give the test split no share: refused before any image is read.
    with pytest.raises(ValueError) as err:
        evaluate_runs([run], out_dir=str(tmp_path / "e"))
    message = str(err.value)
    assert "test split of 'sample' would be empty" in message and "0.8/0.2/0" in message
    assert "the runs' own" in message and "--fractions 0,0,1" in message
    assert not (tmp_path / "e").exists()
    result = evaluate_runs([run], split="val", out_dir=str(tmp_path / "v"), max_images=4)
    assert result["evaluation"]["test_set"]["split"] == "val"


def test_a_split_given_no_share_is_refused_before_the_runs_are_read(tmp_path):
    # Paper 004's COCO run holds out 0.96/0.04/0: scoring another source by those
    # fractions would score an empty test split.
    with pytest.raises(ValueError, match=r"test split of 'sample' would be empty: the fractions 0.96/0.04/0 \(--fractions\)"):
        evaluate_runs([str(tmp_path / "no-such-run")], data="sample", fractions=(0.96, 0.04, 0.0))
    with pytest.raises(ValueError, match="val split of 'sample' would be empty"):
        evaluate_runs([str(tmp_path / "no-such-run")], data="sample", fractions=(0, 0, 1), split="val")


def test_fractions_0_0_1_score_every_image_of_a_source_as_test(tmp_path, capsys):
    from kcolor.specs import parse_fractions

    run = _saved_run(tmp_path, "autoencoder", data="sample", fractions=(0.96, 0.04, 0.0))
    every = evaluate_runs([run], data="sample", fractions=(0, 0, 1), out_dir=str(tmp_path / "all"))["evaluation"]
    own = evaluate_runs([run], data="sample", fractions=(0.6, 0.2, 0.2), out_dir=str(tmp_path / "own"))["evaluation"]
    assert every["test_set"]["fractions"] == [0.0, 0.0, 1.0]
    # The held-out photos of `sample` (val and test) are all test now.
    assert set(own["test_set"]["ids"]) < set(every["test_set"]["ids"])
    assert main(["evaluate", run, "--data", "sample", "--fractions", "0,0,1", "--max-images", "4",
                 "--out", str(tmp_path / "cli")]) == 0  # fmt: skip
    # Training (and the commands that write a training set) still need a train share.
    assert parse_fractions("0,0,1", need_train=False) == (0.0, 0.0, 1.0)
    with pytest.raises(ValueError, match="0,0,1"):
        parse_fractions("0,0,1")


def test_the_train_split_is_scored_when_asked_for(tmp_path):
    run = _saved_run(tmp_path, "autoencoder", data="sample", fractions=(0.6, 0.2, 0.2))
    train = evaluate_runs([run], split="train", out_dir=str(tmp_path / "t"), max_images=4)["evaluation"]
    test = evaluate_runs([run], split="test", out_dir=str(tmp_path / "s"), max_images=4)["evaluation"]
    assert train["test_set"]["split"] == "train" and train["test_set"]["count"] == 4
    assert not set(train["test_set"]["ids"]) & set(test["test_set"]["ids"])


def _fid(runs, out, **kwargs):
    return evaluate_runs(runs, out_dir=str(out), fid=True, fid_weights="none", max_images=6, **kwargs)


def test_fid_is_computed_on_the_first_fid_images_of_the_scored_set(tmp_path):
    run = _saved_run(tmp_path, "autoencoder", data="sample", fid_images=3)
    with pytest.warns(UserWarning, match="N=3"):
        first = _fid([run], tmp_path / "own")
    fid, test_set = first["evaluation"]["fid"], first["evaluation"]["test_set"]
    assert (fid["count"], fid["requested"], fid["offered"], test_set["count"]) == (3, 3, 6, 6)
    assert first["evaluation"]["results"]["autoencoder-32"]["psnr"]["count"] == 6  # the other metrics: every image
    assert "the first 3 of the 6 scored images" in first["table_markdown"]
    # The same three images, scored alone, give the same FID: FID saw the first three.
    with pytest.warns(UserWarning, match="N=3"):
        alone = evaluate_runs([run], out_dir=str(tmp_path / "alone"), fid=True, fid_weights="none", max_images=3,
                              fid_images="all")["evaluation"]  # fmt: skip
    assert alone["test_set"]["ids"] == test_set["ids"][:3]
    for row, value in fid["rows"].items():
        assert value == pytest.approx(alone["fid"]["rows"][row], rel=1e-6)
    # --fid-images overrides the config; "all" is every scored image.
    with pytest.warns(UserWarning):
        assert _fid([run], tmp_path / "four", fid_images=4)["evaluation"]["fid"]["count"] == 4
    with pytest.warns(UserWarning):
        assert _fid([run], tmp_path / "all", fid_images="all")["evaluation"]["fid"]["count"] == 6
    # More than the set holds: FID on what there is, said in the results.
    with pytest.warns(UserWarning, match="asked for 10 images"):
        short = _fid([run], tmp_path / "short", fid_images=10)["evaluation"]["fid"]
    assert (short["count"], short["requested"]) == (6, 10) and "asked for 10" in short["warning"]


def test_fid_images_of_runs_that_disagree_and_bad_values_are_refused(tmp_path, capsys):
    a = _saved_run(tmp_path, "autoencoder", data="sample", fid_images=3)
    b = _saved_run(tmp_path, "pix2pix", data="sample")
    with pytest.raises(ValueError, match=r"fid_images: autoencoder-32: 3, pix2pix-32: all.*--fid-images"):
        _fid([a, b], tmp_path / "e")
    evaluate_runs([a, b], out_dir=str(tmp_path / "nofid"), max_images=2)  # without FID the count does not matter
    with pytest.raises(ValueError, match="needs fid=True"):
        evaluate_runs([a], fid_images=3)
    with pytest.raises(ValueError, match="positive number"):
        evaluate_runs([a], fid=True, fid_weights="none", fid_images=0)
    assert main(["evaluate", a, "--fid", "--fid-images", "x"]) == 2
    assert "--fid-images must be a positive number of images or 'all'. Received: x" in capsys.readouterr().err
    out = tmp_path / "cli"
    with pytest.warns(UserWarning):
        assert main(["evaluate", a, b, "--fid", "--fid-weights", "none", "--fid-images", "2", "--max-images", "4",
                     "--out", str(out)]) == 0  # fmt: skip
    assert json.loads((out / "evaluation.json").read_text())["fid"]["count"] == 2


def test_per_image_psnr_follows_the_test_ids_photo_by_photo(tmp_path):
    """`per_image` pairs with `test_set["ids"]`: each gray-baseline value is that id's own image's
    PSNR, recomputed here from the split (a shuffled or misaligned list fails), over several photos."""
    from kcolor import color
    from kcolor.data import build_eval_split
    from kcolor.data.crops import photo_of
    from kcolor.metrics import score_batch

    run = _saved_run(tmp_path, "autoencoder", data="sample", fractions=(0.96, 0.04, 0.0))
    evaluation = evaluate_runs([run], data="sample", fractions=(0, 0, 1), out_dir=str(tmp_path / "all"))["evaluation"]
    ids, scored = evaluation["test_set"]["ids"], evaluation["per_image"][GRAY_BASELINE]["psnr"]
    assert len({photo_of(i) for i in ids}) > 1 and len(scored) == len(ids)
    cfg = TrainConfig(data="sample", image_size=SIZE, fractions=(0, 0, 1), augment=(), cache=False)
    dataset, _, _ = build_eval_split(cfg, "test")
    expected = {}
    for batch in dataset:
        psnr = score_batch(color.rgb_to_gray(batch["rgb"], channels=3), batch["rgb"], ["psnr"])["psnr"].numpy()
        expected.update(zip((i.decode() for i in batch["id"].numpy()), psnr.tolist()))
    np.testing.assert_allclose(scored, [expected[i] for i in ids], atol=1e-3)
    assert len(set(np.round(scored, 2))) > len(scored) // 2, "the images differ, so a misaligned list would show"
