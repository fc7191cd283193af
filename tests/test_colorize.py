"""Full-resolution colorization of real files: odd modes and sizes, corrupt files, every model kind."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image
from skimage import color as skcolor
from skimage import data as skdata

from kcolor.cli.main import main
from kcolor.export import export_run
from kcolor import inference
from kcolor.export.colorize import colorize_paths, load_colorizer
from kcolor.data.images import ImageReadError, read_image
from kcolor.export.run import save_run
from kcolor.models.io import get_io

SIZE = 32


def _tiny_colorizer(io_name, seed=0):
    """A small colorizer that follows an io kind's contract (Input names, output kind)."""
    keras.utils.set_random_seed(seed)
    io = get_io(io_name)
    inputs = {name: keras.Input(shape, name=name) for name, shape in io.input_shapes(SIZE).items()}
    x = list(inputs.values())
    x = keras.layers.Concatenate(name="tiny_concat")(x) if len(x) > 1 else x[0]
    x = keras.layers.Conv2D(8, 3, strides=2, padding="same", activation="relu", name="tiny_down")(x)
    x = keras.layers.BatchNormalization(name="tiny_bn")(x)
    x = keras.layers.UpSampling2D(2, name="tiny_up")(x)
    channels, activation = (2, "tanh") if io.output == "ab" else (3, "sigmoid")
    out = keras.layers.Conv2D(channels, 3, padding="same", activation=activation, name="tiny_out")(x)
    return keras.Model(inputs, out, name=f"tiny_{io_name}")


def _real_photos():
    return [skdata.astronaut(), skdata.chelsea(), skdata.coffee(), skdata.rocket()]


@pytest.fixture(scope="module")
def gray_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("gray_run")
    return save_run(run_dir, _tiny_colorizer("gray_rgb"), model_name="tiny_gray", io="gray_rgb", image_size=SIZE)


@pytest.fixture(scope="module")
def odd_inputs(tmp_path_factory):
    """One file per awkward mode, at awkward sizes, plus two broken files."""
    folder = tmp_path_factory.mktemp("inputs")
    photo = skdata.astronaut()
    rng = np.random.default_rng(0)

    def crop(h, w):
        return photo[:h, :w]

    files = {}
    Image.fromarray(crop(37, 101)).convert("L").save(folder / "gray8.png")
    files["gray8.png"] = (37, 101)
    gray16 = (np.linspace(0, 65535, 45 * 23).reshape(45, 23)).astype(np.uint16)
    Image.fromarray(gray16).save(folder / "gray16.png")
    files["gray16.png"] = (45, 23)
    rgb16 = (crop(26, 34).astype(np.uint16) * 257)[::-1]
    tf.io.write_file(str(folder / "rgb16.png"), tf.io.encode_png(rgb16))
    files["rgb16.png"] = (26, 34)
    Image.fromarray(crop(64, 48)).save(folder / "rgb.jpg", quality=90)
    files["rgb.jpg"] = (64, 48)
    rgba = np.concatenate([crop(29, 61), rng.integers(0, 256, (29, 61, 1), dtype=np.uint8)], axis=-1)
    Image.fromarray(rgba, "RGBA").save(folder / "rgba.png")
    files["rgba.png"] = (29, 61)
    palette = Image.fromarray(crop(40, 40)).quantize(colors=16)
    palette.info["transparency"] = 0
    palette.save(folder / "palette.png", transparency=0)
    files["palette.png"] = (40, 40)
    Image.fromarray(crop(50, 33)).convert("CMYK").save(folder / "cmyk.jpg")
    files["cmyk.jpg"] = (50, 33)
    Image.fromarray(crop(3, 200)).save(folder / "sliver.bmp")
    files["sliver.bmp"] = (3, 200)
    Image.fromarray(crop(300, 170)).convert("LA").save(folder / "gray_alpha.png")
    files["gray_alpha.png"] = (300, 170)
    # Broken files among the good ones.
    (folder / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(rng.integers(0, 256, 200, dtype=np.uint8)))
    good_jpeg = (folder / "rgb.jpg").read_bytes()
    (folder / "truncated.jpg").write_bytes(good_jpeg[: len(good_jpeg) // 3])
    (folder / "notes.txt").write_text("not an image, and not picked up from a folder")
    return folder, files


def test_read_image_modes(odd_inputs):
    folder, files = odd_inputs
    for name, (h, w) in files.items():
        image = read_image(folder / name)
        assert image.rgb.shape == (h, w, 3) and image.rgb.dtype == np.float32, name
        assert 0.0 <= image.rgb.min() and image.rgb.max() <= 1.0, name
    assert read_image(folder / "gray8.png").is_gray
    assert read_image(folder / "rgba.png").alpha is not None
    assert read_image(folder / "palette.png").alpha is not None
    assert read_image(folder / "gray_alpha.png").alpha is not None
    assert read_image(folder / "rgb.jpg").alpha is None
    assert not read_image(folder / "cmyk.jpg").is_gray


def test_sixteen_bit_gray_keeps_its_precision(odd_inputs):
    folder, _ = odd_inputs
    image = read_image(folder / "gray16.png")
    expected = np.linspace(0, 65535, 45 * 23).astype(np.uint16).reshape(45, 23) / 65535.0
    np.testing.assert_allclose(image.rgb[..., 0], expected, atol=1e-6)
    # More distinct levels than 8 bits can hold.
    assert len(np.unique(image.rgb[..., 0])) > 256


@pytest.mark.parametrize("name", ["corrupt.png", "truncated.jpg", "missing.png"])
def test_unreadable_files_raise_naming_the_file(odd_inputs, name):
    folder, _ = odd_inputs
    with pytest.raises(ImageReadError, match=name):
        read_image(folder / name)


def test_chroma_transfer_restores_a_photo_from_low_resolution_chroma():
    """Chroma from a 64x64 copy on the full-res L gives the photo back; L is untouched."""
    rgb = tf.constant(skdata.astronaut()[:300, :200] / 255.0, tf.float32)
    small = inference.resize(rgb[None], [64, 64])
    _, ab_small = inference.color.rgb_to_lab_normalized(small)
    out = inference.transfer_chroma(rgb, ab_small[0]).numpy()
    assert out.shape == (300, 200, 3)
    mse = np.mean((out - rgb.numpy()) ** 2)
    assert 10 * np.log10(1 / mse) > 30.0
    L_in = skcolor.rgb2lab(rgb.numpy())[..., 0]
    L_out = skcolor.rgb2lab(out)[..., 0]
    assert np.median(np.abs(L_out - L_in)) < 0.2


def test_colorize_paths_writes_every_good_file_at_its_own_size(gray_run, odd_inputs, tmp_path):
    folder, files = odd_inputs
    messages = []
    result = colorize_paths(gray_run, [folder], out_dir=tmp_path / "out", compare=True, log=messages.append)
    assert result["written"] == len(files)
    assert result["skipped"] == 2
    assert {os.path.basename(e["path"]) for e in result["errors"]} == {"corrupt.png", "truncated.jpg"}
    assert len(messages) == 2 and all("skipped" in m for m in messages)
    for name, (h, w) in files.items():
        stem = os.path.splitext(name)[0]
        out = Image.open(tmp_path / "out" / f"{stem}.png")
        assert out.size == (w, h), name
        has_alpha = name in ("rgba.png", "palette.png", "gray_alpha.png")
        assert out.mode == ("RGBA" if has_alpha else "RGB"), name
        assert os.path.isfile(tmp_path / "out" / f"{stem}_compare.png")
    # The alpha channel comes back unchanged.
    alpha_in = np.asarray(Image.open(folder / "rgba.png"))[..., 3]
    alpha_out = np.asarray(Image.open(tmp_path / "out" / "rgba.png"))[..., 3]
    np.testing.assert_array_equal(alpha_in, alpha_out)


def test_gray_scan_keeps_its_own_lightness_and_gains_color(gray_run, tmp_path):
    """A large gray scan: output at full size, lightness from the scan, chroma from the model."""
    scan = (skcolor.rgb2gray(skdata.astronaut()) * 255).astype(np.uint8)[:, :450]
    Image.fromarray(scan).save(tmp_path / "scan.png")
    colorize_paths(gray_run, [tmp_path / "scan.png"], out_dir=tmp_path / "out")
    out = np.asarray(Image.open(tmp_path / "out" / "scan.png")) / 255.0
    assert out.shape == (512, 450, 3)
    L_in = skcolor.rgb2lab(np.repeat(scan[..., None] / 255.0, 3, axis=-1))[..., 0]
    lab_out = skcolor.rgb2lab(out)
    assert np.median(np.abs(lab_out[..., 0] - L_in)) < 1.0
    # Fine detail survives: the high-frequency content of L matches the scan's.
    detail_in = np.abs(np.diff(L_in, axis=1)).mean()
    detail_out = np.abs(np.diff(lab_out[..., 0], axis=1)).mean()
    assert abs(detail_out - detail_in) < 0.1 * detail_in
    assert np.abs(lab_out[..., 1:]).mean() > 1.0  # no longer gray


def test_same_colorization_from_run_savedmodel_and_tflite(gray_run, tmp_path):
    saved = export_run(gray_run, format="savedmodel", images=_real_photos(), repeats=2)["path"]
    tflite = export_run(gray_run, format="tflite", images=_real_photos(), repeats=2)["path"]
    photo = tmp_path / "coffee.jpg"
    Image.fromarray(skdata.coffee()[:333, :517]).save(photo)
    outputs = {}
    for kind, model in (("keras", gray_run), ("savedmodel", saved), ("tflite", tflite)):
        result = colorize_paths(model, [photo], out_dir=tmp_path / kind)
        assert result["model_kind"] == kind
        outputs[kind] = np.asarray(Image.open(tmp_path / kind / "coffee.png")).astype(int)
        assert outputs[kind].shape == (333, 517, 3)
    assert np.abs(outputs["savedmodel"] - outputs["keras"]).max() <= 1
    assert np.abs(outputs["tflite"] - outputs["keras"]).max() <= 1


def test_reference_model_needs_a_reference(tmp_path):
    colorizer = _tiny_colorizer("ref_gray3_rgb")
    run = save_run(tmp_path / "ref_run", colorizer, model_name="tiny_ref", io="ref_gray3_rgb", image_size=SIZE)
    Image.fromarray(skdata.chelsea()).convert("L").save(tmp_path / "cat.png")
    Image.fromarray(skdata.coffee()).save(tmp_path / "ref.png")
    with pytest.raises(ValueError, match="--reference"):
        colorize_paths(run, [tmp_path / "cat.png"], out_dir=tmp_path / "out")
    result = colorize_paths(run, [tmp_path / "cat.png"], out_dir=tmp_path / "out", reference=tmp_path / "ref.png")
    assert result["written"] == 1
    # The reference steers the colors: a different reference, a different colorization.
    Image.fromarray(skdata.astronaut()).save(tmp_path / "ref2.png")
    colorize_paths(run, [tmp_path / "cat.png"], out_dir=tmp_path / "out2", reference=tmp_path / "ref2.png")
    a = np.asarray(Image.open(tmp_path / "out" / "cat.png")).astype(int)
    b = np.asarray(Image.open(tmp_path / "out2" / "cat.png")).astype(int)
    assert a.shape == b.shape == (300, 451, 3) and np.abs(a - b).max() > 0
    # The SavedModel takes the reference as its second serving input and agrees with Keras.
    pairs = [{"rgb": photo, "reference": skdata.coffee()} for photo in _real_photos()]
    saved = export_run(run, format="savedmodel", images=pairs, repeats=1)["path"]
    with pytest.raises(ValueError, match="--reference"):
        colorize_paths(saved, [tmp_path / "cat.png"], out_dir=tmp_path / "out3")
    colorize_paths(saved, [tmp_path / "cat.png"], out_dir=tmp_path / "out3", reference=tmp_path / "ref.png")
    c = np.asarray(Image.open(tmp_path / "out3" / "cat.png")).astype(int)
    assert np.abs(c - a).max() <= 1


def test_non_reference_model_refuses_a_reference(gray_run, tmp_path):
    Image.fromarray(skdata.coffee()).save(tmp_path / "ref.png")
    with pytest.raises(ValueError, match="takes no reference"):
        colorize_paths(gray_run, [tmp_path / "ref.png"], out_dir=tmp_path / "out", reference=tmp_path / "ref.png")


@pytest.mark.parametrize("io_name", ["gray3_rgb", "rgb_rgb", "l_ab"])
def test_every_io_kind_colorizes_at_full_size(io_name, tmp_path):
    colorizer = _tiny_colorizer(io_name)
    run = save_run(tmp_path / "run", colorizer, model_name=f"tiny_{io_name}", io=io_name, image_size=SIZE)
    Image.fromarray(skdata.rocket()[:71, :45]).save(tmp_path / "rocket.png")
    colorize_paths(run, [tmp_path / "rocket.png"], out_dir=tmp_path / "out")
    assert Image.open(tmp_path / "out" / "rocket.png").size == (45, 71)


def test_load_colorizer_rejects_unknown_models(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="run folder"):
        load_colorizer(tmp_path / "empty")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_colorizer(tmp_path / "nope.tflite")
    (tmp_path / "model.onnx").write_bytes(b"xx")
    with pytest.raises(ValueError, match=".tflite"):
        load_colorizer(tmp_path / "model.onnx")


def test_cli_colorize(gray_run, odd_inputs, tmp_path, capsys):
    folder, files = odd_inputs
    good, bad = str(folder / "rgb.jpg"), str(folder / "corrupt.png")
    code = main(["colorize", "--colorizer", gray_run, good, bad, "--out", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 0
    assert "colorized 1 image(s)" in out and "skipped 1" in out and "corrupt.png" in err
    code = main(["colorize", "--colorizer", gray_run, str(folder / "corrupt.png"), "--out", str(tmp_path)])
    assert code == 1
    code = main(["colorize", "--colorizer", gray_run, str(folder / "rgb.jpg"), "--reference", str(folder / "rgb.jpg")])
    _, err = capsys.readouterr()
    assert code == 2 and "takes no reference" in err
