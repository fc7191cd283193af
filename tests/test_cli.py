"""The command line: listings, summaries and one-line errors that list valid choices."""

import json
import subprocess
import sys

import pytest

from kcolor.cli.main import main


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_models_prints_the_registry(capsys):
    from kcolor.models.registry import list_models

    code, out, _ = _run(capsys, "list-models")
    assert code == 0
    for name in list_models():
        assert name in out
    assert "pix2pix" in out


def test_list_configs_groups_by_paper_with_data_size_and_epochs(capsys):
    code, out, _ = _run(capsys, "list-configs")
    assert code == 0
    paper_001 = out.index("Paper 001: Image Colorization — Sofia Bazzan and Diletta Pasin")
    row = next(line for line in out.splitlines() if line.split()[:1] == ["flowers_smoke"])
    assert row.split()[1:4] == ["sample", "32", "2"]  # data, image size, epochs
    assert paper_001 < out.index(row) < out.index("Paper 002:")
    assert out.index("Any model") < out.index("  sample ") < paper_001


def test_summary_prints_three_counts(capsys):
    code, out, _ = _run(capsys, "summary", "pix2pix", "--set", "image_size=32")
    assert code == 0
    assert "total" in out and "trainable" in out and "torch counting" in out


@pytest.mark.parametrize(
    "argv, needle, valid",
    [
        (["summary", "no_such_model"], "no_such_model", "pix2pix"),
        (["train", "--config", "no_such_config"], "no_such_config", "sample"),
        (["train", "--set", "no_such_key=1"], "no_such_key", "image_size"),
        (["train", "--set", "model=nope"], "nope", "pix2pix"),
        (["train", "--set", "data=ftp:somewhere"], "ftp:somewhere", "folder:"),
        (["train", "--set", "epochs=many"], "epochs", "many"),
    ],
)
def test_bad_input_fails_with_one_line_naming_the_choices(capsys, argv, needle, valid):
    code, out, err = _run(capsys, *argv)
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert needle in lines[0] and valid in lines[0]


def test_python_dash_m_entry_point():
    result = subprocess.run(
        [sys.executable, "-m", "kcolor", "list-models"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0 and "pix2pix" in result.stdout


# ------------------------------------------------------------ user errors, before any work


def test_summary_with_a_config_counts_what_that_config_builds(capsys):
    # Counts do not depend on the image size; 32 px keeps the build small.
    code, out, _ = _run(capsys, "summary", "resnet_color", "--config", "flowers", "--set", "image_size=32")
    assert code == 0
    assert "{'filters': 256}" in out
    assert "total 2,660,615  trainable 2,649,861  torch counting 2,649,861" in out
    code, out, _ = _run(capsys, "summary", "resnet_color", "--config", "flowers_small", "--set", "image_size=32")
    assert code == 0 and "{'filters': 16}" in out and "trainable 12,021" in out


@pytest.mark.parametrize(
    "argv, needles",
    [
        (["train", "--set", "epochs=-1"], ["epochs=-1", "integer >= 1"]),
        (["train", "--set", "model=stable_colorizer"], ["stable_colorizer", "pairs:sample", "pairs:folder:", "reference_from=self"]),
        (["summary", "resnet_color", "--config", "flowers", "--set", "filters=-2"], ["filters", "-2"]),
    ],
)
def test_user_errors_are_one_line_before_any_work(capsys, monkeypatch, tmp_path, argv, needles):
    from kcolor.models.registry import ModelSpec

    if argv[0] == "train":  # nothing may be built before the check
        monkeypatch.setattr(ModelSpec, "build", lambda *a, **k: pytest.fail("built a model before checking the config"))
    monkeypatch.chdir(tmp_path)
    code, _, err = _run(capsys, *argv)
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1, err
    assert all(n in lines[0] for n in needles), lines[0]
    assert not (tmp_path / "runs").exists()


def test_paths_expand_home_and_variables(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("KCOLOR_TEST_DIR", str(tmp_path / "from_var"))
    monkeypatch.chdir(tmp_path)
    for source, shown in (("folder:~/photos", tmp_path / "photos"), ("folder:$KCOLOR_TEST_DIR", tmp_path / "from_var")):
        code, _, err = _run(capsys, "train", "--set", f"data={source}", "--set", "epochs=1")
        assert code == 2 and f"'{shown}'" in err and "~" not in err and "$" not in err, err
    code, _, err = _run(capsys, "colorize", "--colorizer", "~/no_such_run", "x.png")
    assert code == 2 and str(tmp_path / "no_such_run") in err, err


def test_a_bug_keeps_its_traceback(monkeypatch):
    import kcolor.cli.main as cli

    def buggy(args):
        return {}["reference"]  # a KeyError inside kcolor is a bug, not a user error

    monkeypatch.setattr(cli, "_cmd_list_models", buggy)
    with pytest.raises(KeyError):
        main(["list-models"])

    def numpy_value_error(args):
        import numpy as np

        return np.zeros(3).reshape(2, 2)  # a ValueError raised outside kcolor's code

    monkeypatch.setattr(cli, "_cmd_list_models", numpy_value_error)
    with pytest.raises(ValueError):
        main(["list-models"])


def test_package_errors_are_user_errors(capsys, monkeypatch):
    import kcolor.cli.main as cli
    from kcolor.data import DataSourceError

    def fails(args):
        raise DataSourceError("no such dataset 'x'. Valid: a, b\nsecond line")

    monkeypatch.setattr(cli, "_cmd_list_models", fails)
    code, _, err = _run(capsys, "list-models")
    assert code == 2 and err.strip() == "kcolor list-models: error: no such dataset 'x'. Valid: a, b"


def test_tensorflow_log_lines_are_recognised():
    from kcolor.cli.tflogs import is_tensorflow_log_line

    assert is_tensorflow_log_line(
        "E0000 00:00:1796161264.026688   15039 cuda_platform.cc:52] failed call to cuInit: INTERNAL"
    )
    assert is_tensorflow_log_line("WARNING: All log messages before absl::InitializeLog() is called are written to STDERR")
    assert not is_tensorflow_log_line("kcolor train: error: epochs=-1 is not valid")
    assert not is_tensorflow_log_line("UserWarning: something from Python")


def _tf_lines(stderr):
    from kcolor.cli.tflogs import is_tensorflow_log_line

    return [line for line in stderr.splitlines() if is_tensorflow_log_line(line) or "cuInit" in line or "oneDNN" in line]


def test_a_normal_command_prints_no_tensorflow_logs_and_the_switch_shows_them(tmp_path):
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "KCOLOR_TF_LOGS")}
    argv = [sys.executable, "-m", "kcolor", "summary", "autoencoder", "--set", "image_size=32"]
    quiet = subprocess.run(argv, capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    assert quiet.returncode == 0, quiet.stderr
    assert "colorizer parameters" in quiet.stdout
    assert not _tf_lines(quiet.stderr), quiet.stderr
    loud = subprocess.run(
        [sys.executable, "-m", "kcolor", "--verbose-tf", "list-configs"],
        capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path,
    )
    assert loud.returncode == 0, loud.stderr
    if not _tf_lines(loud.stderr):
        pytest.skip("this TensorFlow build prints no start-up log lines on this machine")


def test_until_step_counts_the_runs_own_step_and_says_when_it_is_already_past(capsys, tmp_path):
    run = str(tmp_path / "run")
    tiny = ["--config", "sample", "--run-dir", run, "--set", "model=pix2pix", "--set", "base_filters=8",
            "--set", "image_size=32", "--set", "batch_size=2", "--set", "epochs=3", "--set", "steps_per_epoch=2",
            "--set", "val_steps=1", "--set", "sample_images=2"]  # fmt: skip
    code, out, _ = _run(capsys, "train", *tiny, "--until-step", "3")
    assert code == 0 and "already at or past" not in out
    code, out, _ = _run(capsys, "train", *tiny, "--until-step", "2")  # the run stands at step 3
    assert code == 0 and "is at step 3, already at or past the step to stop at (2): nothing to train" in out
    code, out, err = _run(capsys, "train", *tiny, "--max-steps", "4")  # the old spelling: one more step
    assert code == 0 and "--max-steps is deprecated" in err and "use --until-step" in err
    assert json.loads((tmp_path / "run" / "history.json").read_text())[-1]["step"] == 4
