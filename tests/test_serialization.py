""".keras save/load round trip for every registered model, in Keras safe mode.

The test list is the registry itself: a model registered later is covered without
touching this file.
"""

import keras
import numpy as np
import pytest

from kcolor.export.run import load_keras_colorizer
from kcolor.models import build_model, get_model, list_models
from kcolor.models.io import get_io

SIZE = 32


def _networks(name):
    networks = build_model(name, SIZE, **get_model(name).offline)  # no network needed
    return {role: net for role, net in networks.items() if isinstance(net, keras.Model)}


def _random_inputs(model, rng):
    return {t.name: rng.random((2, *t.shape[1:]), dtype=np.float32) for t in model.inputs}


def _call(model, inputs):
    if len(model.inputs) == 1 and not isinstance(model.input, dict):
        return model(inputs[model.inputs[0].name], training=False)
    return model(inputs, training=False)


def _sublayers(model):
    stack = list(model.layers)
    while stack:
        layer = stack.pop()
        yield layer
        stack.extend(getattr(layer, "layers", []) or [])


@pytest.mark.parametrize("name", list_models())
def test_keras_round_trip_in_safe_mode_gives_identical_outputs(name, tmp_path):
    networks = _networks(name)
    assert "colorizer" in networks
    io = get_io(get_model(name).io)
    assert sorted(t.name for t in networks["colorizer"].inputs) == sorted(io.input_shapes(SIZE))
    rng = np.random.default_rng(0)
    for role, net in networks.items():
        lambdas = [layer.name for layer in _sublayers(net) if isinstance(layer, keras.layers.Lambda)]
        assert not lambdas, f"{name}/{role} has Lambda layers {lambdas}: they do not load in safe mode"
        path = tmp_path / f"{role}.keras"
        net.save(path)
        loaded = load_keras_colorizer(path)  # safe_mode=True
        assert type(loaded) is type(net) and loaded.name == net.name
        assert [w.path for w in loaded.weights] == [w.path for w in net.weights]
        # Frozen parts (e.g. StableColorizer's encoder) stay frozen.
        assert [w.trainable for w in loaded.weights] == [w.trainable for w in net.weights]
        for a, b in zip(net.weights, loaded.weights):
            np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=f"{name}/{role} weight {a.path}")
        inputs = _random_inputs(net, rng)
        np.testing.assert_array_equal(
            keras.ops.convert_to_numpy(_call(net, inputs)),
            keras.ops.convert_to_numpy(_call(loaded, inputs)),
            err_msg=f"{name}/{role} outputs differ",
        )


def test_round_trip_covers_the_whole_registry():
    # Guard against an empty parametrization silently skipping every model.
    assert "pix2pix" in list_models() and len(list_models()) >= 1


def test_unregistered_custom_layer_fails_to_load_in_safe_mode(tmp_path):
    """Safe mode is on: a model with a Lambda layer is refused, not unpickled."""
    x = keras.Input((4,), name="x")
    model = keras.Model(x, keras.layers.Lambda(lambda t: t * 2.0, name="double")(x))
    model.save(tmp_path / "lambda.keras")
    with pytest.raises(Exception, match="Lambda"):  # refused by name before Keras parses it
        load_keras_colorizer(tmp_path / "lambda.keras")


_FRESH_LOADER = """
import json, sys
import numpy as np
import keras

results = {}
for item in json.load(open(sys.argv[1])):
    model = keras.saving.load_model(item["path"], safe_mode=True, compile=False)
    data = np.load(item["inputs"])
    inputs = {k: data[k] for k in data.files}
    out = model(inputs[model.inputs[0].name] if len(model.inputs) == 1 else inputs, training=False)
    np.save(item["output"], keras.ops.convert_to_numpy(out))
assert not any(m == "kcolor" or m.startswith("kcolor.") for m in sys.modules), "kcolor was imported"
print("ok")
"""


def test_colorizer_files_load_without_kcolor_in_a_fresh_process(tmp_path):
    # What `kcolor train` saves is standard Keras: a process with TensorFlow and Keras
    # only (kcolor never imported) loads every registered model's colorizer in safe mode.
    import json
    import os
    import subprocess
    import sys

    from kcolor.models.saving import save_colorizer

    rng = np.random.default_rng(1)
    items, expected = [], {}
    for name in list_models():
        colorizer = _networks(name)["colorizer"]
        path = tmp_path / f"{name}.keras"
        save_colorizer(colorizer, path)
        inputs = _random_inputs(colorizer, rng)
        np.savez(tmp_path / f"{name}_in.npz", **inputs)
        expected[name] = keras.ops.convert_to_numpy(_call(colorizer, inputs))
        items.append({"path": str(path), "inputs": str(tmp_path / f"{name}_in.npz"),
                      "output": str(tmp_path / f"{name}_out.npy")})
    (tmp_path / "items.json").write_text(json.dumps(items))
    (tmp_path / "load.py").write_text(_FRESH_LOADER)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH="")
    # Run from tmp_path so the repository's kcolor folder is not importable by accident.
    proc = subprocess.run([sys.executable, str(tmp_path / "load.py"), str(tmp_path / "items.json")],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for name in list_models():
        np.testing.assert_allclose(np.load(tmp_path / f"{name}_out.npy"), expected[name], rtol=1e-5, atol=1e-6,
                                   err_msg=f"{name} differs after a fresh-process load")


def test_a_custom_layer_in_a_colorizer_is_refused_when_saving(tmp_path):
    from kcolor.models.saving import save_colorizer

    @keras.saving.register_keras_serializable(package="kcolor_test")
    class Doubler(keras.layers.Layer):
        def call(self, x):
            return x * 2.0

    x = keras.Input((4, 4, 1), name="gray")
    model = keras.Model(x, Doubler(name="doubler")(x))
    with pytest.raises(ValueError, match="doubler"):
        save_colorizer(model, tmp_path / "c.keras")
    assert not (tmp_path / "c.keras").exists()
