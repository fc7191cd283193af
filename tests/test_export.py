"""SavedModel and TFLite export of registered models, with parity against Keras on the run's data."""

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf
from skimage import data as skdata

from kcolor.cli.main import main
from kcolor.config import TrainConfig
from kcolor.export import ParityError, default_export_dir, export_run, parity
from kcolor.pixels import to_uint8
from kcolor.export.run import KerasColorizer, load_run, save_run
from kcolor.export.savedmodel import SavedModelColorizer
from kcolor.export.tflite import TFLiteColorizer
from kcolor.metrics import quality
from kcolor.models import build_model, get_model, list_models

SIZE = 32


def _registry_run(run_dir, name, **config):
    """A run folder for a registered model, untrained, whose config reads the offline sample data."""
    colorizer = build_model(name, SIZE, **get_model(name).offline)["colorizer"]
    cfg = TrainConfig(model=name, image_size=SIZE, batch_size=4, **config)
    return save_run(run_dir, colorizer, model_name=name, io=get_model(name).io, image_size=SIZE, config=cfg)


@pytest.fixture(scope="module")
def pix2pix_run(tmp_path_factory):
    return _registry_run(tmp_path_factory.mktemp("pix2pix_run"), "pix2pix", data="sample")


def _attention_models():
    """Registered models holding MultiHeadAttention; a small one built here if there is none."""
    names = []
    for name in list_models():
        net = build_model(name, SIZE, **get_model(name).offline)["colorizer"]
        if any(isinstance(layer, keras.layers.MultiHeadAttention) for layer in net.layers):
            names.append(name)
    return names or ["tiny_attention"]


def _tiny_attention_colorizer():
    gray = keras.Input((SIZE, SIZE, 1), name="gray")
    x = keras.layers.Conv2D(16, 3, strides=4, padding="same", activation="gelu", name="attn_down")(gray)
    tokens = keras.layers.Reshape(((SIZE // 4) ** 2, 16), name="attn_tokens")(x)
    attended = keras.layers.MultiHeadAttention(num_heads=2, key_dim=8, name="attn_mha")(tokens, tokens)
    x = keras.layers.Reshape((SIZE // 4, SIZE // 4, 16), name="attn_grid")(attended)
    x = keras.layers.UpSampling2D(4, interpolation="bilinear", name="attn_up")(x)
    rgb = keras.layers.Conv2D(3, 3, padding="same", activation="sigmoid", name="attn_out")(x)
    return keras.Model(gray, rgb, name="tiny_attention")


@pytest.fixture(scope="module", params=_attention_models())
def attention_run(request, tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("attention_run")
    if request.param == "tiny_attention":
        cfg = TrainConfig(model="pix2pix", data="sample", image_size=SIZE, batch_size=4)
        colorizer = _tiny_attention_colorizer()
        return save_run(run_dir, colorizer, model_name="tiny_attention", io="gray_rgb", image_size=SIZE, config=cfg)
    if get_model(request.param).io == "ref_gray3_rgb":
        return _registry_run(run_dir, request.param, data="pairs:sample", fractions=(0.8, 0.2, 0.0))
    return _registry_run(run_dir, request.param, data="sample")


@pytest.fixture(scope="module")
def pix2pix_savedmodel(pix2pix_run):
    return export_run(pix2pix_run, format="savedmodel", repeats=2)


def _read_parity(folder):
    with open(os.path.join(folder, "parity.json")) as f:
        return json.load(f)


def test_savedmodel_export_meets_its_bar_on_held_out_images(pix2pix_run, pix2pix_savedmodel):
    result = pix2pix_savedmodel
    folder = default_export_dir(pix2pix_run, "savedmodel")
    assert result["path"] == folder and os.path.isfile(os.path.join(folder, "saved_model.pb"))
    report = _read_parity(folder)
    assert report["bar_met"] and report["bar_db"] == 60.0
    assert report["model"]["psnr_db"] >= 60.0 and report["pipeline"]["psnr_db"] >= 60.0
    assert report["pipeline"]["uint8_max_abs_diff_levels"] <= 1
    assert report["held_out"].startswith("test split of sample")
    assert report["model"]["images"] > 0
    # Each weight is stored once (float32), plus the graph.
    weight_bytes = 4 * load_run(pix2pix_run).colorizer.count_params()
    assert weight_bytes < report["file_size_bytes"] < 1.1 * weight_bytes + 2_000_000
    assert set(report["latency_ms"]) == {"keras", "export", "export_pipeline"}
    saved = SavedModelColorizer(folder)
    rgba = np.random.default_rng(0).integers(0, 256, (21, 40, 4), dtype=np.uint8)
    assert saved.colorize_uint8(rgba).shape == (21, 40, 3)
    with pytest.raises(tf.errors.InvalidArgumentError, match="C = 1, 3 or 4"):
        saved.colorize_uint8(rgba[..., :2])


def test_savedmodel_runs_in_a_fresh_process_without_kcolor(pix2pix_run, pix2pix_savedmodel, tmp_path):
    folder = pix2pix_savedmodel["path"]
    photo = skdata.chelsea()[:77, :131]
    gray = to_uint8(photo @ np.array([0.299, 0.587, 0.114]) / 255.0)[..., None]
    np.save(tmp_path / "rgb.npy", photo)
    np.save(tmp_path / "gray.npy", gray)
    script = textwrap.dedent(
        f"""
        import sys
        import numpy as np
        import tensorflow as tf
        m = tf.saved_model.load({str(folder)!r})
        serve = m.signatures["serving_default"]
        for name in ("rgb", "gray"):
            image = np.load({str(tmp_path)!r} + f"/{{name}}.npy")
            out = serve(image=tf.constant(image))["colorized"].numpy()
            assert out.dtype == np.uint8 and out.shape == image.shape[:2] + (3,), out.shape
            np.save({str(tmp_path)!r} + f"/{{name}}_out.npy", out)
        meta = {{k: v.numpy() for k, v in m.signatures["metadata"]().items()}}
        assert meta["io"] == b"gray_rgb" and int(meta["image_size"]) == {SIZE}
        assert not [mod for mod in sys.modules if mod.split(".")[0] == "kcolor"], "kcolor was imported"
        print("fresh-process-ok")
        """
    )
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "fresh-process-ok" in proc.stdout
    # The in-graph path gives what the Keras model gives through kcolor's Python path.
    keras_colorizer = KerasColorizer.from_run(load_run(pix2pix_run))
    for name, image in (("rgb", photo), ("gray", gray)):
        rgb = np.repeat(image, 3, axis=-1) if image.shape[-1] == 1 else image
        expected = to_uint8(keras_colorizer.colorize(rgb / np.float32(255.0)))
        got = np.load(tmp_path / f"{name}_out.npy")
        assert np.abs(got.astype(int) - expected).max() <= 1, name


def test_int8_calibration_takes_training_crops_spread_over_every_photo(pix2pix_run):
    """calibration_inputs = the first `count` of the training split read at an even stride (not its first crops)."""
    from kcolor.data import build_eval_split
    from kcolor.export.heldout import calibration_inputs

    run = load_run(pix2pix_run)
    samples, note = calibration_inputs(run, count=8)
    assert len(samples) == 8 and note == "8 images from the training split of sample, spread over its photos"
    dataset, _, _ = build_eval_split(run.config, "train", batch_size=8, spread=8)
    batch = next(iter(dataset))
    photos = {i.decode().split("/")[0] for i in batch["id"].numpy()}
    assert len(photos) > 1  # a stride over the split's photos, not one photo's crops
    expected = run.io.inputs({"rgb": batch["rgb"]})
    for i, sample in enumerate(samples):
        for name, value in expected.items():
            np.testing.assert_allclose(sample[name][0], np.asarray(value[i]), atol=1e-6)
    first, count, _ = build_eval_split(run.config, "train", batch_size=8)
    assert count > 8
    first_rgb = next(iter(first))["rgb"].numpy()
    assert not np.allclose(np.asarray(run.io.inputs({"rgb": first_rgb})["gray"]), np.concatenate([s["gray"] for s in samples]))


def test_a_clips_frames_take_the_xla_path_and_get_the_photo_paths_colors(pix2pix_run, pix2pix_savedmodel):
    """colorize(frames=True) (XLA Lab maths; the SavedModel's bare model) = colorize() (the plain graph)."""
    frame = np.random.default_rng(1).random((36, 52, 3), dtype=np.float32)
    saved = SavedModelColorizer(default_export_dir(pix2pix_run, "savedmodel"))
    keras_colorizer = KerasColorizer.from_run(load_run(pix2pix_run))
    expected = keras_colorizer.colorize(frame)
    for colorizer in (keras_colorizer, saved):
        calls = []
        predict = colorizer.predict
        colorizer.predict = lambda inputs: calls.append(1) or predict(inputs)
        got = colorizer.colorize(frame, frames=True)
        assert got.shape == frame.shape and np.abs(got - expected).max() < 1e-3, colorizer.kind
        assert calls == [1], colorizer.kind  # the bare model ran, once
    assert np.abs(saved.colorize(frame) - expected).max() < 1e-3


@pytest.mark.parametrize("quantize", ["none", "float16", "dynamic", "int8"])
def test_pix2pix_tflite_runs_on_litert_with_builtin_ops_and_parity(pix2pix_run, quantize):
    result = export_run(pix2pix_run, format="tflite", quantize=quantize, repeats=2)
    path = result["path"]
    assert path.endswith("pix2pix.tflite") and os.path.dirname(path) == default_export_dir(
        pix2pix_run, "tflite", quantize
    )
    report = _read_parity(os.path.dirname(path))
    assert report["bar_met"], report
    assert report["model"]["psnr_db"] >= parity.BARS_DB[("tflite", quantize)]
    assert report["ops"]["custom_ops"] == []
    if quantize == "int8":
        assert report["ops"]["int8_ops"] > 0 and report["ops"]["float_ops"] == 0
        assert "from the training split of sample, spread over its photos" in report["calibration"]
    # LiteRT runs it: a fixed (1, S, S, 1) input, a (1, S, S, 3) output in [0, 1].
    lite = TFLiteColorizer(path)
    assert lite.io.name == "gray_rgb" and lite.image_size == SIZE
    out = lite.predict({"gray": np.random.default_rng(0).random((2, SIZE, SIZE, 1), np.float32)})
    assert out.shape == (2, SIZE, SIZE, 3) and 0.0 <= out.min() and out.max() <= 1.0


@pytest.mark.parametrize("quantize", ["none", "int8"])
def test_attention_model_tflite_runs_on_litert_with_parity(attention_run, quantize):
    result = export_run(attention_run, format="tflite", quantize=quantize, repeats=2)
    report = result["parity"]
    assert report["bar_met"], report
    assert report["ops"]["custom_ops"] == []
    assert "BATCH_MATMUL" in report["ops"]["ops"] or "FULLY_CONNECTED" in report["ops"]["ops"]
    assert "SOFTMAX" in report["ops"]["ops"]
    # Reference models are checked with their reference images as the second input.
    run = load_run(attention_run)
    lite = TFLiteColorizer(result["path"])
    assert lite.io.name == run.io.name and set(lite.input_shapes) == set(run.io.input_shapes(SIZE))


def test_parity_below_the_bar_raises_and_still_writes_the_report(pix2pix_run, tmp_path, monkeypatch):
    monkeypatch.setitem(parity.BARS_DB, ("tflite", "float16"), 1000.0)
    with pytest.raises(ParityError, match="below the 1000 dB bar"):
        export_run(pix2pix_run, format="tflite", quantize="float16", out_dir=tmp_path / "f16", repeats=1)
    assert not (tmp_path / "f16").exists()  # a failed export never takes the export's place
    report = _read_parity(str(tmp_path / "f16") + ".rejected")
    assert report["bar_met"] is False and report["model"]["psnr_db"] < 1000.0


def test_a_documented_reason_excuses_a_missed_bar():
    report = {"format": "tflite", "quantize": "int8", "bar_db": 28.0, "model": {"psnr_db": 12.0, "max_abs_diff": 0.5}}
    parity.check_bar(report, reason="in-graph Lab conversion")
    assert report["bar_met"] is False and report["reason"] == "in-graph Lab conversion"
    with pytest.raises(ParityError, match="12.00 dB"):
        parity.check_bar(dict(report))


def test_psnr_is_one_formula_with_one_cap():
    a = np.zeros((4, 4, 3))
    assert quality.array_psnr(a, a) == quality.PSNR_CAP_DB
    assert quality.array_psnr(a, a + 0.1) == pytest.approx(20.0)
    batch = np.stack([a, a + 0.1]).astype(np.float32)
    tf_psnr = quality.psnr(batch, np.zeros_like(batch)).numpy()
    assert tf_psnr[0] == quality.PSNR_CAP_DB  # identical images: the cap, never inf
    assert tf_psnr[1] == pytest.approx(20.0, abs=1e-4)


@pytest.mark.parametrize(
    "kwargs, needle",
    [
        ({"format": "onnx"}, "Valid: savedmodel, tflite"),
        ({"format": "tflite", "quantize": "int4"}, "Valid: none, float16, dynamic, int8"),
        ({"format": "savedmodel", "quantize": "int8"}, "Valid for savedmodel: none"),
    ],
)
def test_bad_export_choices_name_the_valid_ones(pix2pix_run, kwargs, needle):
    with pytest.raises(ValueError, match=needle):
        export_run(pix2pix_run, **kwargs)


def test_export_of_a_folder_that_is_not_a_run(tmp_path):
    with pytest.raises(FileNotFoundError, match="model.json"):
        export_run(tmp_path)


def test_cli_export(pix2pix_run, capsys):
    code = main(["export", pix2pix_run, "--format", "tflite", "--quantize", "dynamic"])
    out, _ = capsys.readouterr()
    assert code == 0 and "pix2pix.tflite" in out and "dB" in out
    code = main(["export", pix2pix_run, "--format", "savedmodel", "--quantize", "int8"])
    _, err = capsys.readouterr()
    assert code == 2 and "Valid for savedmodel: none" in err


def test_training_pipeline_and_savedmodel_feed_the_model_the_same_inputs(pix2pix_savedmodel, tmp_path):
    # One image path: a file read by the training pipeline and the same file served by the
    # exported SavedModel reach the model as the same inputs (within 1/255).
    from PIL import Image

    from kcolor.data import build_datasets
    from kcolor.data.images import read_image
    from kcolor.models.io import get_io

    folder = tmp_path / "photos"
    folder.mkdir()
    photo = skdata.astronaut()[::2, 40:-10]  # 256 x 231, not square: the stretch is exercised
    for i in range(12):
        Image.fromarray(np.roll(photo, 17 * i, axis=1)).save(folder / f"p{i:02d}.png")
    cfg = TrainConfig(model="pix2pix", data=f"folder:{folder}", image_size=SIZE, batch_size=2, augment=(),
                      fractions=(0.5, 0.5, 0.0), cache=False)
    bundle = build_datasets(cfg)
    io = get_io(get_model("pix2pix").io)
    m = tf.saved_model.load(pix2pix_savedmodel["path"])
    compared = 0
    for batch in bundle.val.unbatch().take(3):
        # Batches carry no file names here: find the file by its pixels (each is distinct).
        trained = io.inputs({"rgb": batch["rgb"][None]})
        matches = []
        for path in sorted(folder.iterdir()):
            image8 = to_uint8(read_image(path).rgb)
            served = m.signatures["preprocess"](image=tf.constant(image8))
            diff = max(float(np.max(np.abs(served[k].numpy() - trained[k].numpy()))) for k in trained)
            matches.append(diff)
        close = [d for d in matches if d <= 1.0 / 255 + 1e-6]
        assert len(close) == 1, f"served inputs differ by {sorted(d * 255 for d in matches)[:3]} /255"
        compared += 1
    assert compared == 3


def test_a_new_export_replaces_the_old_one_only_once_it_succeeded(pix2pix_run, pix2pix_savedmodel, tmp_path, monkeypatch):
    from kcolor.export import parity as parity_lib

    folder = pix2pix_savedmodel["path"]
    before = _read_parity(folder)
    # An export that fails its check leaves the earlier export untouched.
    def failing_bar(report, reason=None):
        raise ParityError("forced failure for the test.")

    monkeypatch.setattr(parity_lib, "check_bar", failing_bar)
    with pytest.raises(ParityError, match="rejected"):
        export_run(pix2pix_run, format="savedmodel", repeats=1)
    assert _read_parity(folder) == before
    assert os.path.isfile(os.path.join(folder, "saved_model.pb"))
    assert os.path.isfile(folder + ".rejected/parity.json")
    # A crash midway (here: in the converter) leaves no staging folder and the old export.
    monkeypatch.undo()
    from kcolor.export import savedmodel as savedmodel_lib

    def crash(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(savedmodel_lib, "export_savedmodel", crash)
    with pytest.raises(RuntimeError, match="disk full"):
        export_run(pix2pix_run, format="savedmodel", repeats=1)
    assert _read_parity(folder) == before
    parent = os.path.dirname(folder)
    assert not [n for n in os.listdir(parent) if ".staging-" in n or ".old-" in n]

