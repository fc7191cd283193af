"""Exact resume and hardening of the training loop: SIGKILL anywhere and continue bit for
bit, a changed config is refused unless told, a NaN loss stops without writing, and a
tampered .keras file is refused."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from kcolor.errors import RunFolderError
from kcolor.training import resume as resume_lib

ROOT = Path(__file__).resolve().parents[1]

TRAIN_SCRIPT = textwrap.dedent(
    """
    import os, signal, sys, threading
    from kcolor.config import apply_overrides
    from kcolor.configs import get_config
    from kcolor.training.hooks import RunHooks
    from kcolor.training.loop import train


    class KillAt(RunHooks):
        # SIGKILL this process the N-th time the loop reaches PHASE ("PHASE:N[:DELAY]"), at
        # once or DELAY seconds later from a timer thread (to land inside the write that follows).
        def __init__(self, spec):
            phase, count, *delay = spec.split(":")
            self.phase, self.count, self.delay = phase, int(count), float(delay[0]) if delay else 0.0

        def on_phase(self, phase, count):
            if (phase, count) != (self.phase, self.count):
                return
            if self.delay > 0:
                threading.Timer(self.delay, os.kill, (os.getpid(), signal.SIGKILL)).start()
            else:
                os.kill(os.getpid(), signal.SIGKILL)


    cfg = apply_overrides(get_config("sample"), [
        "model=pix2pix", "image_size=32", "batch_size=4", "base_filters=8", "epochs=2", "steps_per_epoch=4",
        "val_steps=1", "sample_images=2", "learning_rate=0.002", "deterministic=true", "checkpoint_every_steps=2",
        "intra_op_threads=1", "inter_op_threads=1", "mixed_precision=float32",
    ])
    train(cfg, run_dir=sys.argv[1], verbose=0, hooks=KillAt(sys.argv[2]) if len(sys.argv) > 2 else None)
    """
)


def _start(run_dir, kill_at=None):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="")
    return subprocess.Popen(
        [sys.executable, "-c", TRAIN_SCRIPT, str(run_dir), *([kill_at] if kill_at else [])], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )


def _finish(proc, timeout=240):
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:  # never leave a training process behind
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return proc.returncode, err


def _train(run_dir, kill_at=None, timeout=240):
    return _finish(_start(run_dir, kill_at), timeout)


def _final_tensors(run_dir):
    reader = tf.train.load_checkpoint(tf.train.latest_checkpoint(str(run_dir / "checkpoints")))
    names = [n for n in reader.get_variable_to_shape_map() if "run_state" not in n and "save_counter" not in n]
    names = [n for n in names if not n.startswith("_CHECKPOINTABLE")]
    return {n: reader.get_tensor(n) for n in names}


def _history(run_dir):
    rows = json.loads((run_dir / "history.json").read_text())
    return [{k: v for k, v in r.items() if k not in resume_lib.TIMING_KEYS} for r in rows]


# One kill per process, in this order, then a run to the end (8 steps: checkpoints at steps
# 2, 4, 6, 8). Each is reached in every run, wherever the kill before it landed:
KILLS = [
    "step:3",  # inside step 3, before its counters move (the checkpoint of step 2 is the latest)
    "checkpoint:1:0.01",  # during epoch 1's checkpoint write (its first one after the resume)
    "history:1:0.01",  # during epoch 1's history write (or the figures after it)
    "colorizer:1:0.01",  # during epoch 1's colorizer.keras (written again by this resume)
]


def test_sigkill_anywhere_then_rerun_ends_bitwise_equal(tmp_path):
    # The uninterrupted run goes beside the killed ones: the six TensorFlow processes take
    # about as long as the five of the three random kills this list replaced (79 s
    # against 85 s, measured one after the other on a busy 2-core machine).
    whole = tmp_path / "whole"
    uninterrupted = _start(whole)  # beside the killed runs: one thread each, two cores
    try:
        cut = tmp_path / "cut"
        for kill_at in KILLS:
            code, err = _train(cut, kill_at)
            assert code == -signal.SIGKILL, f"{kill_at}: the run was not killed (exit {code}) {err[-3000:]}"
        code, err = _train(cut)
        assert code == 0, err[-3000:]
    finally:
        code, err = _finish(uninterrupted)
    assert code == 0, err[-3000:]
    a, b = _final_tensors(whole), _final_tensors(cut)
    assert sorted(a) == sorted(b)
    worst = max(float(np.max(np.abs(a[n].astype(np.float64) - b[n].astype(np.float64)))) if a[n].dtype.kind == "f"
                else float(not np.array_equal(a[n], b[n])) for n in a)
    print(f"kills {KILLS}: largest weight difference {worst}")
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)
    assert _history(whole) == _history(cut)
    assert len(_history(cut)) == 2


# --------------------------------------------------------------------------- in process


def _cfg(*overrides):
    from kcolor.config import apply_overrides
    from kcolor.configs import get_config

    return apply_overrides(
        get_config("sample"),
        ["model=pix2pix", "image_size=32", "batch_size=4", "base_filters=8", "sample_images=2", "val_steps=1",
         "epochs=1", "steps_per_epoch=2", *overrides],
    )


def _rgb(n=8):
    return tf.image.resize(np.random.default_rng(0).random((n, 4, 4, 3)).astype(np.float32), (32, 32)).numpy()


def _photos(tmp_path, n=8):
    """Overrides that train on a folder of `n` small PNGs (6 train, 2 val by the 75/25 hash split)."""
    folder = tmp_path / "photos"
    folder.mkdir()
    for i, image in enumerate(_rgb(n)):
        tf.io.write_file(str(folder / f"{i}.png"), tf.io.encode_png(tf.image.convert_image_dtype(image, tf.uint8)))
    return [f"data=folder:{folder}", "fractions=0.75,0.25"]


def _bundle(train_rgb):
    """A `DataBundle` training on `train_rgb` (batches of 4), data no source holds (NaN); `_rgb()` validates."""
    from kcolor.data import DataBundle

    train = tf.data.Dataset.from_tensor_slices({"rgb": train_rgb}).batch(4)
    val = tf.data.Dataset.from_tensor_slices({"rgb": _rgb()}).batch(4)
    return DataBundle(train, val, None, {"train": len(train_rgb), "val": 8, "test": 0}, {})


def test_changed_config_refused_then_continue_records_it(tmp_path):
    from kcolor.errors import ConfigError
    from kcolor.training.loop import train

    run = tmp_path / "run"
    data = _photos(tmp_path)
    train(_cfg(*data), run_dir=run, verbose=0)
    with pytest.raises(ConfigError) as err:
        train(_cfg("epochs=2", "learning_rate=0.002", *data), run_dir=run, verbose=0)
    message = str(err.value)
    assert "learning_rate" in message and "resume=continue" in message and "\n" not in message
    assert "epochs" not in message.split("changed:")[1].split(";")[0]  # a free key is not a change
    result = train(_cfg("epochs=2", "learning_rate=0.002", "resume=continue", *data), run_dir=run, verbose=0)
    assert result["epoch"] == 2 and result["step"] == 4
    assert "learning_rate" in result["history"][1]["config_change"]
    changes = json.loads((run / "config_changes.json").read_text())
    assert changes[0]["changed"]["learning_rate"][1] == 0.002 and changes[0]["step"] == 2
    # restart: the old run moves aside and training starts from step 0.
    result = train(_cfg("loss=mae", "learning_rate=0.003", "resume=restart", *data), run_dir=run, verbose=0)
    assert result["step"] == 2 and len(result["history"]) == 1
    assert list(run.glob("restarted-*/checkpoints"))


def test_a_run_folder_saved_before_the_field_renames_loads_and_resumes(tmp_path, capsys):
    """A config.json with `split` and `model_options` (kcolor before `fractions` and
    `options_by_model`) loads and resumes under the same config: no false "config changed"."""
    from kcolor.export.run import load_run
    from kcolor.training.loop import train

    run = tmp_path / "run"
    data = _photos(tmp_path)
    train(_cfg(*data), run_dir=run, verbose=0)
    saved = json.loads((run / "config.json").read_text())
    saved["split"], saved["model_options"] = saved.pop("fractions"), saved.pop("options_by_model")
    (run / "config.json").write_text(json.dumps(saved))
    capsys.readouterr()

    assert load_run(run).config.fractions == (0.75, 0.25)  # what export, evaluate and turing-test read
    err = capsys.readouterr().err
    assert err.count("config field split is deprecated") == 1 and err.count("use fractions") == 1
    assert err.count("config field model_options is deprecated") == 1 and str(run / "config.json") in err

    result = train(_cfg("epochs=2", *data), run_dir=run, verbose=0)  # resume=auto: refuses a changed config
    assert result["epoch"] == 2 and result["step"] == 4 and not (run / "config_changes.json").exists()
    err = capsys.readouterr().err
    assert err.count("config field split is deprecated") == 1 and err.count("config field model_options") == 1
    rewritten = json.loads((run / "config.json").read_text())
    assert rewritten["fractions"] == [0.75, 0.25] and "split" not in rewritten and "model_options" not in rewritten


def test_nan_loss_stops_naming_the_step_and_writes_nothing(tmp_path):
    from kcolor.training.loop import train

    run = tmp_path / "run"
    train(_cfg(), run_dir=run, bundle=_bundle(_rgb()), verbose=0)
    before = {p.name: p.stat().st_mtime_ns for p in run.rglob("*") if p.is_file()}
    latest = tf.train.latest_checkpoint(str(run / "checkpoints"))
    nan = _bundle(_rgb() * np.float32("nan"))
    with pytest.raises(resume_lib.NonFiniteLossError) as err:
        train(_cfg("epochs=2", "checkpoint_every_steps=1"), run_dir=run, bundle=nan, verbose=0)
    message = str(err.value)
    assert "step 3" in message and "nan" in message and Path(latest).name in message
    after = {p.name: p.stat().st_mtime_ns for p in run.rglob("*") if p.is_file() and p.name in before}
    # config.json and model.json are rewritten at start (same content); the checkpoint and history are untouched.
    for name in ("checkpoint", "history.json", "colorizer.keras"):
        assert after[name] == before[name], name
    assert tf.train.latest_checkpoint(str(run / "checkpoints")) == latest


def test_checkpoint_from_a_newer_kcolor_fails_with_a_message():
    state = json.dumps({"format": resume_lib.STATE_FORMAT + 1, "kcolor": "9.0"})
    with pytest.raises(RunFolderError, match="kcolor 9.0.*upgrade kcolor"):
        resume_lib.decode_state(state, "ckpt-1")


def test_tampered_keras_file_with_a_lambda_layer_is_refused(tmp_path):
    import keras

    from kcolor.export.run import load_keras_colorizer

    inputs = keras.Input((8, 8, 1), name="gray")
    model = keras.Model(inputs, keras.layers.Conv2D(3, 1, name="to_rgb")(inputs))
    good = tmp_path / "good.keras"
    model.save(good)
    marker = tmp_path / "executed"
    bad = tmp_path / "bad.keras"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "config.json":
                config = json.loads(data)
                lam = keras.layers.Lambda(lambda x: x)
                lam_config = keras.saving.serialize_keras_object(lam)
                lam_config["config"]["name"] = "evil_lambda"
                code = f"open({str(marker)!r}, 'w').write('x')"
                lam_config["config"]["function"] = {"class_name": "__lambda__", "config": {"code": code}}
                lam_config["inbound_nodes"] = config["config"]["layers"][-1]["inbound_nodes"]
                config["config"]["layers"].append(lam_config)
                data = json.dumps(config)
            dst.writestr(item, data)
    assert load_keras_colorizer(good).output.shape[-1] == 3
    with pytest.raises(RunFolderError) as err:
        load_keras_colorizer(bad)
    assert "evil_lambda" in str(err.value) and "Lambda" in str(err.value)
    assert not marker.exists()


def test_skip_batch_skips_and_counts_a_nan_batch(tmp_path):
    import keras

    from kcolor.training.loop import train

    rgb = _rgb(12)
    rgb[4:8] = np.nan  # the second of three batches
    result = train(_cfg("steps_per_epoch=3", "on_nonfinite=skip_batch"), run_dir=tmp_path / "run", bundle=_bundle(rgb),
                   verbose=0)
    assert result["skipped_batches"] == 1 and result["step"] == 3
    assert result["history"][0]["skipped_batches"] == 1
    assert all(np.isfinite(v) for v in result["losses"].values())
    model = keras.models.load_model(tmp_path / "run" / "colorizer.keras", safe_mode=True)
    assert all(np.all(np.isfinite(w)) for w in model.get_weights())


GRADIENT_SCRIPT = textwrap.dedent(
    """
    import numpy as np, tensorflow as tf
    from kcolor.config import apply_overrides
    from kcolor.configs import get_config
    from kcolor.models.registry import build_model
    from kcolor.training.strategy import run_threads, set_threads

    cfg = apply_overrides(get_config("sample"), ["model=deep_cnn", "deterministic=true"])
    assert set_threads(*run_threads(cfg))
    tf.config.experimental.enable_op_determinism()
    tf.keras.utils.set_random_seed(0)
    model = build_model("deep_cnn", 64)["colorizer"]
    rng = np.random.default_rng(0)
    x = tf.constant(rng.random((16, 64, 64, 1)), tf.float32)
    y = tf.constant(rng.random((16, 64, 64, 3)), tf.float32)

    @tf.function
    def gradients():
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean((model(x, training=True) - y) ** 2)
        return tape.gradient(loss, model.trainable_variables)

    print("DISTINCT", len({b"".join(g.numpy().tobytes() for g in gradients()) for _ in range(8)}))
    """
)


def test_deterministic_runs_one_op_at_a_time_so_its_gradients_repeat():
    # With op determinism alone and TensorFlow's inter-op pool, deep_cnn's gradients at the
    # benchmark's size (64 px, batch 16) came out 3 different ways in 6 calls on 2 cores.
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="")
    done = subprocess.run([sys.executable, "-c", GRADIENT_SCRIPT], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "DISTINCT 1" in done.stdout, done.stdout


def test_deterministic_refuses_ops_side_by_side():
    from kcolor.config import resolve_config
    from kcolor.errors import ConfigError

    with pytest.raises(ConfigError, match="inter_op_threads=2"):
        resolve_config(_cfg("deterministic=true", "inter_op_threads=2"))
    resolve_config(_cfg("deterministic=true", "inter_op_threads=1"))
    from kcolor.training.strategy import run_threads

    assert run_threads(_cfg("deterministic=true")) == (0, 1)
    assert run_threads(_cfg()) == (0, 0)
    assert run_threads(_cfg("intra_op_threads=2", "inter_op_threads=3")) == (2, 3)
