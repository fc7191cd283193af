"""The command line: listings, summaries and one-line errors that list valid choices."""

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


def test_list_configs(capsys):
    code, out, _ = _run(capsys, "list-configs")
    assert code == 0 and "sample" in out


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
