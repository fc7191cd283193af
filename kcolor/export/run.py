"""Reading a training run folder back: the trained colorizer, its io kind and its config.

A run folder (written by `kcolor train`) holds `model.json`
(`{"model", "image_size", "options", "io"}`), `config.json` (the resolved
`kcolor.config.TrainConfig`) and the trained colorizer as `colorizer.keras`. The
colorizer reloads in Keras safe mode: kcolor's custom layers are registered
serializable, so no code is unpickled.

Example:
    run = load_run("runs/sample-pix2pix")
    rgb = KerasColorizer(run).colorize(photo)
"""

import dataclasses
import json
from typing import Any, Optional

import numpy as np
import tensorflow as tf

from kcolor import fs
from kcolor import inference
from kcolor.models.io import IOSpec, get_io

RUN_FILES = ("model.json", "config.json", "colorizer.keras")


@dataclasses.dataclass
class Run:
    """A loaded run folder.

    Attributes:
        run_dir: the folder.
        model_name: the registry name (`model.json`'s `model`).
        image_size: the training size S.
        options: the model builder options.
        io: the io spec.
        colorizer: the trained Keras colorizer.
        config: the run's `TrainConfig` (None when `config.json` is absent).
    """

    run_dir: str
    model_name: str
    image_size: int
    options: dict
    io: IOSpec
    colorizer: Any
    config: Optional[Any]


def is_run_dir(path) -> bool:
    return fs.isfile(fs.join(path, "model.json")) and fs.isfile(fs.join(path, "colorizer.keras"))


def _unsafe_layers(config, found=None):
    """`(name, class)` of every Lambda layer (arbitrary code) in a `.keras` config tree."""
    found = [] if found is None else found
    if isinstance(config, dict):
        if config.get("class_name") in ("Lambda", "__lambda__") or "__lambda__" in str(config.get("class_name", "")):
            name = (config.get("config") or {}).get("name", "?") if isinstance(config.get("config"), dict) else "?"
            found.append((name, config.get("class_name")))
        for value in config.values():
            _unsafe_layers(value, found)
    elif isinstance(config, list):
        for value in config:
            _unsafe_layers(value, found)
    return found


def load_keras_colorizer(path):
    """Load a `.keras` colorizer in safe mode, with kcolor's custom layers registered.

    The file's `config.json` is read first: a Lambda layer (code to run) is refused with
    an error naming it, and is never deserialized. A file that is not a `.keras` archive
    fails with a message, not a traceback. `path` may be on any TensorFlow filesystem;
    Keras opens a remote `.keras` file by copying it into a temporary local folder
    (`tempfile`), which it removes afterwards.
    """
    import zipfile

    import keras

    import kcolor.models  # noqa: F401  (registers the custom layers the file may use)
    from kcolor.errors import RunFolderError

    path = fs.path_str(path)
    try:
        with fs.open(path, "rb") as f, zipfile.ZipFile(f) as archive:
            config = json.loads(archive.read("config.json"))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, tf.errors.OpError) as err:
        raise RunFolderError(f"{path} is not a readable .keras file ({err})") from None
    unsafe = _unsafe_layers(config)
    if unsafe:
        shown = ", ".join(f"'{name}' ({cls})" for name, cls in unsafe)
        raise RunFolderError(
            f"{path} holds layer(s) that would run arbitrary code: {shown}; refused (safe mode). "
            "kcolor colorizers never contain Lambda layers: this file was altered or is not kcolor's"
        )
    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except (ValueError, TypeError, KeyError) as err:
        first = str(err).strip().splitlines()[0][:300] if str(err).strip() else type(err).__name__
        raise RunFolderError(
            f"{path} cannot be loaded in safe mode ({first}); it may come from another kcolor or Keras version"
        ) from None


def load_run(run_dir) -> Run:
    """Load a run folder's colorizer, io kind and config.

    Raises:
        FileNotFoundError: the folder or one of `model.json`/`colorizer.keras` is missing;
            the message lists what a run folder holds.
    """
    run_dir = fs.path_str(run_dir)
    if not fs.isdir(run_dir):
        raise FileNotFoundError(f"Run folder '{run_dir}' does not exist")
    for name in ("model.json", "colorizer.keras"):
        if not fs.isfile(fs.join(run_dir, name)):
            raise FileNotFoundError(
                f"'{run_dir}' is not a run folder: no {name} (a run folder holds {', '.join(RUN_FILES)})"
            )
    info = fs.read_json(fs.join(run_dir, "model.json"))
    missing = [k for k in ("model", "image_size", "io") if k not in info]
    if missing:
        raise ValueError(f"{run_dir}/model.json lacks {missing}; it needs model, image_size, options, io")
    config = None
    config_path = fs.join(run_dir, "config.json")
    if fs.isfile(config_path):
        from kcolor.config import TrainConfig

        from kcolor.errors import ConfigError
        from kcolor.errors import RunFolderError

        try:
            config = TrainConfig.from_dict(fs.read_json(config_path), where=f"{config_path}: config field")
        except (ValueError, ConfigError, TypeError) as err:
            raise RunFolderError(
                f"{config_path} was written by an unknown kcolor version or is damaged ({err}); "
                "upgrade kcolor or retrain"
            ) from None
    colorizer = load_keras_colorizer(fs.join(run_dir, "colorizer.keras"))
    io = get_io(info["io"])
    inference.check_colorizer_inputs(colorizer, io)
    return Run(
        run_dir=run_dir,
        model_name=info["model"],
        image_size=int(info["image_size"]),
        options=dict(info.get("options") or {}),
        io=io,
        colorizer=colorizer,
        config=config,
    )


class KerasColorizer(inference.Colorizer):
    """The trained Keras colorizer of a run folder (or a `.keras` file), ready to colorize.

    Example:
        colorizer = KerasColorizer.from_path("runs/sample-pix2pix")
        rgb = colorizer.colorize(photo)
    """

    kind = "keras"

    def __init__(self, model, io: IOSpec, image_size: int, *, model_name: str = "", source: str = ""):
        inference.check_colorizer_inputs(model, io)
        self.model = model
        self.io = io
        self.image_size = int(image_size)
        self.model_name = model_name or model.name
        self.source = source
        self._call = tf.function(lambda inputs: inference.call_colorizer(model, inputs, training=False))

    @classmethod
    def from_run(cls, run: Run) -> "KerasColorizer":
        return cls(run.colorizer, run.io, run.image_size, model_name=run.model_name, source=run.run_dir)

    @classmethod
    def from_path(cls, path) -> "KerasColorizer":
        """A run folder, or a bare `.keras` file (its io is read from its Input names)."""
        path = fs.path_str(path)
        if fs.isdir(path):
            return cls.from_run(load_run(path))
        model = load_keras_colorizer(path)
        channels = {t.name: int(t.shape[-1]) for t in model.inputs}
        io = inference.infer_io(channels, int(model.outputs[0].shape[-1]))
        size = int(model.inputs[0].shape[1])
        return cls(model, io, size, source=path)

    def predict(self, inputs: dict) -> np.ndarray:
        feed = {name: tf.convert_to_tensor(inputs[name], tf.float32) for name in self.io.input_shapes(1)}
        return self._call(feed).numpy()


def save_run(run_dir, colorizer, *, model_name: str, io: str, image_size: int, options=None, config=None) -> str:
    """Write a run folder (`model.json`, `config.json`, `colorizer.keras`) for a built colorizer.

    `kcolor train` writes the same files; this lets an untrained, imported or hand-built
    colorizer go through `export_run` and `colorize_paths` the same way.

    Args:
        run_dir: folder to write (created if needed).
        colorizer: the Keras colorizer, Inputs named as `io` says.
        model_name: registry name recorded in `model.json`.
        io: the io kind (`kcolor.models.io`).
        image_size: the size S it works at.
        options: builder options recorded in `model.json`.
        config: a `TrainConfig` (its data source is where parity images come from).

    Example:
        save_run("runs/p2p-untrained", build_model("pix2pix", 64)["colorizer"],
                 model_name="pix2pix", io="gray_rgb", image_size=64, config=TrainConfig())
    """
    from kcolor.models.saving import save_colorizer
    from kcolor.fs import atomic_write_json, atomic_write_text

    run_dir = fs.path_str(run_dir)
    inference.check_colorizer_inputs(colorizer, get_io(io))
    fs.makedirs(run_dir)
    save_colorizer(colorizer, fs.join(run_dir, "colorizer.keras"))
    info = {"model": model_name, "image_size": int(image_size), "options": dict(options or {}), "io": io}
    atomic_write_json(fs.join(run_dir, "model.json"), info)
    if config is not None:
        atomic_write_text(fs.join(run_dir, "config.json"), config.to_json())
    return run_dir
