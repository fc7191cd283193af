"""The run folder's sample grid has an "as colorized" column: the prediction's chroma on the
input's own lightness, exactly what `kcolor colorize` delivers (`kcolor.inference`)."""

import numpy as np
import pytest
import tensorflow as tf

import keras
from kcolor import color
from kcolor.config import apply_overrides
from kcolor.configs import get_config
from kcolor.data import build_datasets
from kcolor.inference import call_colorizer, colorize_rgb
from kcolor.models.io import get_io
from kcolor.training import loop as loop_lib
from kcolor.pictures import grid_image
from kcolor.training.figures import as_colorized

SIZE = 32


def _photos(n, seed):
    """Smooth random color images, (n, SIZE, SIZE, 3) in [0, 1]."""
    low = np.random.default_rng(seed).random((n, 4, 4, 3)).astype(np.float32)
    return tf.image.resize(low, (SIZE, SIZE), method="bilinear").numpy()


def _tiny_colorizer(io):
    """A small untrained functional colorizer with the io kind's Input names."""
    keras.utils.set_random_seed(3)
    (name, shape), = io.input_shapes(SIZE).items()
    x = inputs = keras.Input(shape, name=name)
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(x)
    if io.output == "ab":
        out = keras.layers.Conv2D(2, 3, padding="same", activation="tanh")(x)
    else:
        out = keras.layers.Conv2D(3, 3, padding="same", activation="sigmoid")(x)
    return keras.Model(inputs, out)


@pytest.mark.parametrize("io_name", ["gray_rgb", "l_ab"])
def test_as_colorized_is_what_kcolor_colorize_delivers(io_name):
    io = get_io(io_name)
    model = _tiny_colorizer(io)
    photos = _photos(3, seed=0)
    inputs = io.inputs({"rgb": tf.constant(photos)})
    output = call_colorizer(model, inputs)
    got = as_colorized(photos, inputs, output, io)
    assert got.shape == photos.shape
    for i in range(len(photos)):
        want = colorize_rgb(tf.constant(photos[i]), lambda x: call_colorizer(model, x), io, SIZE).numpy()
        np.testing.assert_allclose(got[i], want, atol=2e-5)
    # The photo's own lightness is kept (up to gamut clipping of the untrained model's
    # chroma); the raw RGB prediction redraws it.
    L_photo = color.rgb_to_lab_normalized(photos)[0].numpy()
    L_got = color.rgb_to_lab_normalized(got)[0].numpy()
    assert np.median(np.abs(L_got - L_photo)) < 1e-3
    if io.output == "rgb":
        L_raw = color.rgb_to_lab_normalized(io.to_rgb(output, inputs))[0].numpy()
        assert np.abs(L_raw - L_photo).mean() > 10 * np.abs(L_got - L_photo).mean()


def test_grid_columns():
    photos = _photos(2, seed=1)
    gray = photos @ np.array([0.299, 0.587, 0.114], np.float32)
    three = grid_image(gray[..., None], photos * 0.5, photos)
    four = grid_image(gray[..., None], photos * 0.5, photos, photos * 0.25)
    assert three.shape == (2 * SIZE, 3 * SIZE, 3) and four.shape == (2 * SIZE, 4 * SIZE, 3)
    np.testing.assert_allclose(four[:SIZE, 2 * SIZE : 3 * SIZE], photos[0] * 0.25)
    np.testing.assert_allclose(four[SIZE:, 3 * SIZE :], photos[1])


def test_run_folder_samples_show_the_colorization_as_delivered(tmp_path):
    """A one-epoch run: its TensorBoard grid's third column is `colorize_rgb` of the run's colorizer."""
    photos = tmp_path / "photos"
    photos.mkdir()
    for i, image in enumerate(_photos(16, seed=3)):  # 8 train, 5 val by the hash split
        tf.io.write_file(str(photos / f"{i:02d}.png"), tf.io.encode_png(tf.image.convert_image_dtype(image, tf.uint8)))
    cfg = apply_overrides(
        get_config("sample"),
        ["model=pix2pix", f"image_size={SIZE}", "batch_size=4", "base_filters=8", "sample_images=2", "epochs=1",
         f"data=folder:{photos}"],
    )
    val = next(iter(build_datasets(cfg).val.unbatch().batch(2)))["rgb"].numpy()  # the run's sample images
    run = tmp_path / "run"
    loop_lib.train(cfg, run_dir=run, verbose=0)
    assert (run / "samples.png").stat().st_size > 0
    grid = None
    for event_file in (run / "tb").glob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(event_file)):
            for value in event.summary.value:
                if value.tag == "samples/gray_prediction_colorized_truth":
                    png = tf.make_ndarray(value.tensor)[2]  # [width, height, png...]
                    grid = tf.io.decode_png(png).numpy().astype(np.float32) / 255.0
    assert grid is not None and grid.shape == (2 * SIZE, 4 * SIZE, 3)
    model = keras.models.load_model(run / "colorizer.keras", safe_mode=True)
    io = get_io("gray_rgb")
    for i in range(2):
        want = colorize_rgb(tf.constant(val[i]), lambda x: call_colorizer(model, x), io, SIZE).numpy()
        column = grid[i * SIZE : (i + 1) * SIZE, 2 * SIZE : 3 * SIZE]
        np.testing.assert_allclose(column, want, atol=1.5 / 255)
        np.testing.assert_allclose(grid[i * SIZE : (i + 1) * SIZE, 3 * SIZE :], val[i], atol=1.5 / 255)
