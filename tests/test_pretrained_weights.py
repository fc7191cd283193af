"""`weights="imagenet"`, end to end, from files in the format each real download delivers.

Nothing is downloaded. Each test writes, with seeded random values, the file that a
download would leave in the Keras cache (`$KERAS_HOME/models`, with KERAS_HOME pointed at
a temporary folder), under the name it gets there. Then it builds a kcolor model with
`weights="imagenet"` through the registry and checks the pretrained part against the
random values:

- keras.applications' legacy HDF5 files, named as keras.applications names them:
  `resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5` (cgan_resnet50's encoder, the
  resnet50 loss embedding), `vgg16_..._notop.h5` (the vgg16 loss embedding),
  `inception_v3_weights_tf_dim_ordering_tf_kernels.h5` (vit_i_gan's InceptionV3, with its
  top), `inception_v3_..._notop.h5` (FID), and for the rebuilt encoders of unet_enc /
  unetpp_enc `inception_resnet_v2_..._notop.h5` and `efficientnetb6_notop.h5`;
- torchvision ResNet state dicts in safetensors form, as timm republishes them
  (`resnet18.tv_in1k.safetensors`): the resnet18 .. resnet152 encoders of unet_enc / unetpp_enc.

"Legacy HDF5" is what Keras 2's `Model.save_weights("x.h5")` wrote, the layout of the files
keras.applications downloads (storage.googleapis.com/.../keras-applications/): root attributes
`layer_names` (every layer, in model order), `backend` and `keras_version`; one group per
layer, its attribute `weight_names` as `"<layer>/<variable>:0"` (trainable variables
first), one dataset per name; no `top_level_model_weights` group (Keras 3's own
`legacy_h5_format.save_weights_to_hdf5_group` writes one, and other weight names, so it is
not used here). Keras reads such a file by position (`load_weights_from_hdf5_group`).

The file hash: keras.applications, asked for "imagenet" itself, passes a `file_hash` to
`keras.utils.get_file`, which would not accept these files. kcolor never asks it for
"imagenet": `kcolor.models.weights.fetch_weights` returns a file already in the cache as
it is, and hands keras.applications its path. So the files are found by name alone, and
nothing is patched but KERAS_HOME and, so that a wrong file name fails at once rather than
trying the network, `socket.create_connection`.
"""

import json
import math
import socket
import struct

import h5py
import keras
import numpy as np
import pytest
import tensorflow as tf

from kcolor.metrics import InceptionFeatures
from kcolor.metrics.fid import _feature_network
from kcolor.models import build_model
from kcolor.models.encoders import build_embedding
from kcolor.models.vit_i_gan import INCEPTION_NAME, SMALL_VIT
from kcolor.models.weights import adapt_first_kernel

SMALL_VIT_I_GAN = dict(encoder_filters=(8, 8, 16, 16, 32), decoder_filters=(16, 16, 8, 8), **SMALL_VIT)
TINY_CGAN = {"decoder_filters": (8, 8, 8, 8, 8), "d_base_filters": 4}
TORCH_BN_EPSILON = 1e-5  # torch.nn.BatchNorm2d's default

# keras.applications' own file names (keras/src/applications/*.py).
KERAS_FILES = {
    "resnet50_notop": (
        "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
        lambda: keras.applications.ResNet50(include_top=False, weights=None, input_shape=(None, None, 3)),
    ),
    "vgg16_notop": (
        "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
        lambda: keras.applications.VGG16(include_top=False, weights=None, input_shape=(None, None, 3)),
    ),
    "inception_v3": (
        "inception_v3_weights_tf_dim_ordering_tf_kernels.h5",
        lambda: keras.applications.InceptionV3(weights=None, classifier_activation=None),
    ),
    "inception_v3_notop": (
        "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5",
        lambda: keras.applications.InceptionV3(include_top=False, weights=None, pooling="avg"),
    ),
}
REBUILT_FILES = {
    "inception_resnet_v2": (
        "inception_resnet_v2_weights_tf_dim_ordering_tf_kernels_notop.h5",
        lambda: keras.applications.InceptionResNetV2(include_top=False, weights=None, input_shape=(None, None, 3)),
    ),
    "efficientnet_b6": (
        "efficientnetb6_notop.h5",
        lambda: keras.applications.EfficientNetB6(include_top=False, weights=None, input_shape=(None, None, 3)),
    ),
}

# ---------------------------------------------------------------------------- files


def randomize(model, seed):
    """Seeded random values in every float variable, scaled so that a deep network stays finite."""
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        if not variable.dtype.startswith("float"):
            continue  # e.g. Normalization's sample count
        kind = variable.path.rsplit("/", 1)[-1]
        shape = tuple(variable.shape)
        if "variance" in kind or kind == "gamma":
            value = rng.uniform(0.5, 1.5, shape)
        elif kind == "depthwise_kernel":
            value = rng.normal(0.0, 1.0 / math.sqrt(shape[0] * shape[1]), shape)
        elif kind == "kernel":
            value = rng.normal(0.0, math.sqrt(2.0 / math.prod(shape[:-1])), shape)
        else:
            value = rng.normal(0.0, 0.1, shape)
        variable.assign(value.astype(np.float32))
    return model


def write_legacy_h5(path, model):
    """`model`'s weights in the layout of keras.applications' downloads (module docstring)."""
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = [layer.name.encode("utf8") for layer in model.layers]
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.2.4"
        for layer in model.layers:
            group = f.create_group(layer.name)
            weights = layer.trainable_weights + layer.non_trainable_weights
            names = [f"{layer.name}/{w.name}:0".encode("utf8") for w in weights]
            group.attrs["weight_names"] = names
            for name, weight in zip(names, weights):
                group.create_dataset(name, data=keras.ops.convert_to_numpy(weight))


def write_safetensors(path, tensors):
    """The safetensors layout (github.com/huggingface/safetensors, "Format"), as torch's `save_file` writes it.

    An 8-byte little-endian header size; a JSON header `{name: {dtype, shape,
    data_offsets}}` with `"__metadata__": {"format": "pt"}`, padded with spaces to a
    multiple of 8 bytes; then the little-endian tensor bytes.
    """
    dtypes = {np.dtype(np.float32): "F32", np.dtype(np.int64): "I64"}
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for key in sorted(tensors):
        value = np.ascontiguousarray(tensors[key])
        data = value.astype(value.dtype.newbyteorder("<")).tobytes()
        span = [offset, offset + len(data)]
        header[key] = {"dtype": dtypes[value.dtype], "shape": list(value.shape), "data_offsets": span}
        blobs.append(data)
        offset += len(data)
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + b"".join(blobs))


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """A Keras cache folder (KERAS_HOME) and its `models/` folder."""
    home = tmp_path_factory.mktemp("keras_home")
    (home / "models").mkdir()
    return home


@pytest.fixture(scope="module")
def keras_references(cache):
    """`{key: keras.applications model with random weights}`, each written to the cache on first use."""
    made = {}

    def get(key):
        if key not in made:
            file_name, build = KERAS_FILES[key]
            made[key] = randomize(build(), seed=len(made))
            write_legacy_h5(cache / "models" / file_name, made[key])
        return made[key]

    return get


@pytest.fixture(autouse=True)
def offline_keras_home(cache, monkeypatch):
    def no_network(*args, **kwargs):
        raise OSError("tests/test_pretrained_weights.py: no network; the file should have been in the cache")

    monkeypatch.setenv("KERAS_HOME", str(cache))
    monkeypatch.setattr(socket, "create_connection", no_network)


def assert_same_outputs(ours, reference, x):
    got = keras.ops.convert_to_numpy(ours(x, training=False))
    want = keras.ops.convert_to_numpy(reference(x, training=False))
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * float(np.abs(want).max()))


def assert_same_weights_by_name(ours, reference):
    for layer in (layer for layer in ours.layers if layer.weights):
        for mine, theirs in zip(layer.weights, reference.get_layer(layer.name).weights, strict=True):
            np.testing.assert_array_equal(mine.numpy(), theirs.numpy(), err_msg=mine.path)


# ---------------------------------------------------------------------------- keras.applications


def test_cgan_resnet50_encoder_loads_the_cached_keras_applications_file(keras_references):
    """Paper 002's ResNet50 encoder, weights="imagenet": each layer holds the file's values.

    Caught (tried): `IMAGENET_URLS["resnet50_notop"]` naming the with-top file (that file is
    not in the cache: DownloadUnavailable); `fetch_weights` looking in `$KERAS_HOME`
    instead of `$KERAS_HOME/models`; `load_keras_application_weights` skipping the load
    for "imagenet" (random weights stay, no error).
    """
    reference = keras_references("resnet50_notop")
    encoder = build_model("cgan_resnet50", 32, weights="imagenet", **TINY_CGAN)["colorizer"].get_layer("resnet50")
    assert_same_weights_by_name(encoder, reference)
    assert_same_outputs(encoder, reference, np.random.default_rng(1).normal(size=(1, 32, 32, 3)).astype(np.float32))


@pytest.mark.parametrize("name, key", [("vgg16", "vgg16_notop"), ("resnet50", "resnet50_notop")])
def test_loss_embeddings_load_the_cached_keras_applications_file(keras_references, name, key):
    """The frozen VGG16 / ResNet50 of Paper 003's ColorLoss, weights="imagenet".

    Caught (tried): `EMBEDDINGS["vgg16"]["url"]` naming the with-top VGG16 file (not cached).
    """
    reference = keras_references(key)
    embedding = build_embedding(name, weights="imagenet")
    assert_same_weights_by_name(embedding, reference)
    x = np.random.default_rng(2).normal(size=(1, 32, 32, 3)).astype(np.float32)
    cut = keras.Model(reference.inputs, reference.get_layer(embedding.layers[-1].name).output)
    assert_same_outputs(embedding, cut, x)


def test_vit_i_gan_inception_loads_the_cached_file_with_its_top(keras_references):
    """Paper 004's InceptionV3 (with its classifier), weights="imagenet": the same logits.

    The file's layer names (from a reference built earlier in the process) differ from the
    model's auto-generated ones, as the real file's Keras-2 names do, so only loading by
    position passes. Caught (tried): `build_inception_v3` taking the no-top file for
    `include_top=True` (top and no-top swapped: a layer-count mismatch); the skipped load.
    """
    reference = keras_references("inception_v3")
    keras_references("inception_v3_notop")  # both in the cache, so a swap loads the wrong one
    colorizer = build_model("vit_i_gan", 64, weights="imagenet", **SMALL_VIT_I_GAN)["colorizer"]
    inception = colorizer.get_layer(INCEPTION_NAME)
    x = np.random.default_rng(3).uniform(-1, 1, size=(1, 299, 299, 3)).astype(np.float32)
    assert_same_outputs(inception, reference, x)


@pytest.fixture
def fresh_fid_network():
    _feature_network.cache_clear()  # the network is cached per process and weights
    yield
    _feature_network.cache_clear()  # do not leave these random "imagenet" weights to later tests


def test_fid_inception_loads_the_cached_file_without_its_top(keras_references, fresh_fid_network):
    """FID's InceptionV3 pool features, weights="imagenet" (the benchmark tries this first).

    Caught (tried): the same top/no-top swap in `build_inception_v3`; the skipped load.
    """
    reference = keras_references("inception_v3_notop")
    keras_references("inception_v3")
    features = InceptionFeatures("imagenet")
    assert features.comparable
    x = np.random.default_rng(4).uniform(-1, 1, size=(1, 299, 299, 3)).astype(np.float32)
    assert_same_outputs(features.network, reference, x)


@pytest.mark.parametrize("encoder", list(REBUILT_FILES))
def test_rebuilt_keras_encoders_take_each_layer_from_the_file(cache, encoder):
    """Paper 003's inception_resnet_v2 / efficientnet_b6 encoders, weights="imagenet".

    kcolor rebuilds these graphs ("same" padding, BatchNorm with scale, no preprocessing),
    so outputs cannot match keras.applications'; each layer is checked instead. Layer
    names pair them: after `clear_session` the reference and kcolor's base are both the
    first model built, so their auto-names (`conv2d_17`, ...) follow the order in which
    keras.applications creates layers, not the order in which the loader walks them.
    Expected: the file's values; gamma 1 where keras.applications has no BatchNorm scale;
    the first conv's RGB kernel summed for the 1-channel L input.

    Caught (tried): in `load_rebuilt_keras_application_weights`, two same-shape 1x1 convs
    of parallel branches swapped (inception_resnet_v2's conv2d_13 and conv2d_15: shapes
    still fit, no error); `adapt_first_kernel` taking R alone instead of the RGB sum.
    """
    file_name, build = REBUILT_FILES[encoder]
    keras.backend.clear_session()
    reference = randomize(build(), seed=10)
    write_legacy_h5(cache / "models" / file_name, reference)
    keras.backend.clear_session()
    colorizer = build_model("unet_enc", 64, encoder=encoder, weights="imagenet")["colorizer"]
    checked = 0
    for layer in colorizer.get_layer(encoder).layers:
        if not layer.weights:
            continue
        values = {w.name: w.numpy() for w in reference.get_layer(layer.name).weights}
        for variable in layer.weights:
            if variable.name == "gamma" and "gamma" not in values:
                expected = np.ones(variable.shape, np.float32)
            else:
                expected = values[variable.name]
            if expected.ndim == 4 and expected.shape[2] == 3 and variable.shape[2] == 1:
                expected = expected.sum(axis=2, keepdims=True)  # RGB → L, as segmentation_models_pytorch
            np.testing.assert_allclose(variable.numpy(), expected, rtol=1e-6, err_msg=variable.path)
        checked += 1
    assert checked > 300  # every weighted layer of the encoder (448 and 356)


# ---------------------------------------------------------------------------- torchvision ResNets

RESNETS = {"resnet18": ((2, 2, 2, 2), False), "resnet50": ((3, 4, 6, 3), True)}


def torchvision_resnet_state_dict(blocks, bottleneck, seed):
    """`torchvision.models.resnet`'s `state_dict()`: its key names and torch shapes, seeded values.

    Written from torchvision's ResNet (`conv1`, `bn1`, `layer1..4` made by `_make_layer`
    with a `downsample` Sequential(conv, bn) on a block's first unit when the stride or
    width changes, `fc`), not from kcolor's mapping.
    """
    rng = np.random.default_rng(seed)
    state = {}

    def conv(key, out_channels, in_channels, size):
        std = math.sqrt(2.0 / (in_channels * size * size))
        state[key + ".weight"] = rng.normal(0.0, std, (out_channels, in_channels, size, size)).astype(np.float32)

    def bn(key, channels):
        state[key + ".weight"] = rng.uniform(0.5, 1.0, channels).astype(np.float32)
        state[key + ".bias"] = rng.normal(0.0, 0.1, channels).astype(np.float32)
        state[key + ".running_mean"] = rng.normal(0.0, 0.1, channels).astype(np.float32)
        state[key + ".running_var"] = rng.uniform(0.5, 1.5, channels).astype(np.float32)
        state[key + ".num_batches_tracked"] = np.array(1000, np.int64)

    expansion = 4 if bottleneck else 1
    conv("conv1", 64, 3, 7)
    bn("bn1", 64)
    inplanes = 64
    for stage, (count, planes) in enumerate(zip(blocks, (64, 128, 256, 512)), start=1):
        for index in range(count):
            p = f"layer{stage}.{index}."
            stride = 2 if stage > 1 and index == 0 else 1
            if bottleneck:
                conv(p + "conv1", planes, inplanes, 1), bn(p + "bn1", planes)
                conv(p + "conv2", planes, planes, 3), bn(p + "bn2", planes)
                conv(p + "conv3", planes * 4, planes, 1), bn(p + "bn3", planes * 4)
            else:
                conv(p + "conv1", planes, inplanes, 3), bn(p + "bn1", planes)
                conv(p + "conv2", planes, planes, 3), bn(p + "bn2", planes)
            if index == 0 and (stride != 1 or inplanes != planes * expansion):
                conv(p + "downsample.0", planes * expansion, inplanes, 1)
                bn(p + "downsample.1", planes * expansion)
            inplanes = planes * expansion
    state["fc.weight"] = rng.normal(0.0, 0.01, (1000, inplanes)).astype(np.float32)
    state["fc.bias"] = np.zeros(1000, np.float32)
    return state


def torchvision_resnet_features(state, blocks, bottleneck, rgb):
    """torchvision's ResNet forward in eval mode, from the state dict alone: relu(bn1) and layer1..4."""

    def conv(x, key, stride, pad):
        kernel = state[key + ".weight"].transpose(2, 3, 1, 0)  # torch OIHW → TensorFlow HWIO
        return tf.nn.conv2d(x, kernel, stride, [[0, 0], [pad, pad], [pad, pad], [0, 0]])

    def bn(x, key):
        scale = state[key + ".weight"] / np.sqrt(state[key + ".running_var"] + TORCH_BN_EPSILON)
        return (x - state[key + ".running_mean"]) * scale + state[key + ".bias"]

    x = tf.nn.relu(bn(conv(rgb, "conv1", 2, 3), "bn1"))
    features = [x]
    x = tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]], constant_values=-np.inf)  # MaxPool2d(3, 2, padding=1)
    x = tf.nn.max_pool2d(x, 3, 2, "VALID")
    for stage, count in enumerate(blocks, start=1):
        for index in range(count):
            p = f"layer{stage}.{index}."
            stride = 2 if stage > 1 and index == 0 else 1
            if bottleneck:  # torchvision v1.5: the stride on the 3x3
                y = tf.nn.relu(bn(conv(x, p + "conv1", 1, 0), p + "bn1"))
                y = tf.nn.relu(bn(conv(y, p + "conv2", stride, 1), p + "bn2"))
                y = bn(conv(y, p + "conv3", 1, 0), p + "bn3")
            else:
                y = tf.nn.relu(bn(conv(x, p + "conv1", stride, 1), p + "bn1"))
                y = bn(conv(y, p + "conv2", 1, 1), p + "bn2")
            if p + "downsample.0.weight" in state:
                x = bn(conv(x, p + "downsample.0", stride, 0), p + "downsample.1")
            x = tf.nn.relu(y + x)
        features.append(x)
    return [f.numpy() for f in features]


@pytest.mark.parametrize("encoder, source", [("resnet18", "cache"), ("resnet18", "path"), ("resnet50", "cache")])
def test_torchvision_resnet_encoders_compute_torchvisions_features(cache, tmp_path, encoder, source):
    """Paper 003's ResNet encoders, from a torchvision state dict with torchvision's key names.

    The file is where `fetch_weights` looks for timm's `resnet18.tv_in1k` download (or,
    for "path", anywhere, as weights=PATH). The gray image replicated to RGB through
    torchvision's network (computed here from the state dict) must give the five skip
    features kcolor's encoder computes from L: every tensor in the right layer, every
    kernel transposed right, the first kernel summed over RGB.

    Caught (tried): a block's conv1 and conv2 swapped in `_torch_name` (resnet50: its 1x1
    and 3x3 differ in shape, an error; resnet18: same shapes, wrong features); the 3x3
    kernels' height and width swapped (`transpose(3, 2, 1, 0)`, shapes still fit);
    running_mean and running_var swapped; the first kernel's R alone instead of the RGB sum.
    """
    blocks, bottleneck = RESNETS[encoder]
    state = torchvision_resnet_state_dict(blocks, bottleneck, seed=20)
    path = cache / "models" / f"{encoder}.tv_in1k.safetensors"
    if source == "path":
        path = tmp_path / "my_resnet18_weights.safetensors"
    write_safetensors(path, state)
    weights = "imagenet" if source == "cache" else str(path)
    try:
        colorizer = build_model("unet_enc", 32, encoder=encoder, weights=weights)["colorizer"]
    finally:
        if source == "cache":
            path.unlink()  # the "path" case must not find a cached file
    gray = np.random.default_rng(21).uniform(-1, 1, size=(1, 32, 32, 1)).astype(np.float32)
    ours = [keras.ops.convert_to_numpy(t) for t in colorizer.get_layer(encoder)(gray, training=False)]
    theirs = torchvision_resnet_features(state, blocks, bottleneck, np.repeat(gray, 3, axis=-1))
    assert [f.shape for f in ours] == [f.shape for f in theirs]
    for level, (got, want) in enumerate(zip(ours, theirs)):
        atol = 1e-4 * float(np.abs(want).max())
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=atol, err_msg=f"skip {level}")


def test_summing_the_first_kernel_over_rgb_keeps_a_gray_images_response():
    rng = np.random.default_rng(0)
    rgb_kernel = rng.normal(size=(7, 7, 3, 4))
    gray = rng.random((7, 7, 1))
    np.testing.assert_allclose(
        (np.repeat(gray, 3, -1)[..., None] * rgb_kernel).sum((0, 1, 2)),
        (gray[..., None] * adapt_first_kernel(rgb_kernel, 1)).sum((0, 1, 2)),
    )
