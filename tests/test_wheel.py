"""kcolor as a user installs it: the built wheel and sdist, in a fresh virtual environment.

The editable install that `make` does imports any folder of the checkout, so a module
left out of the wheel (a folder without `__init__.py`, package data not declared) shows
only here. Each archive is installed with `--no-deps` into a new virtual environment
outside the checkout; the dependencies (TensorFlow and the rest, already installed for
the tests) are made visible to it by one `.pth` line naming this environment's
site-packages, which adds that folder without running its `.pth` files, so the
checkout's editable finder stays out. Every command then runs from a folder outside the
checkout, and `kcolor.__file__` must be the installed copy.
"""

import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = (
    "list-models", "list-configs", "summary", "train", "make-records", "make-pairs", "evaluate", "export",
    "colorize", "web", "turing-test", "turing-score",
)  # fmt: skip


def _build(kind, out):
    if kind == "wheel":
        cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(ROOT)]
    else:
        cmd = [sys.executable, "-m", "build", "--sdist", "--outdir", str(out), str(ROOT)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=600)
    (archive,) = out.glob("kcolor-*.whl" if kind == "wheel" else "kcolor-*.tar.gz")
    return archive


def _fresh_env(folder, archive):
    venv.EnvBuilder(with_pip=True).create(folder)
    python = folder / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    Path(site, "kcolor-test-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [str(python), "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--quiet", str(archive)],
        check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    return folder / "bin"


def _run(bin_dir, cwd, *args, timeout=300):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(TF_CPP_MIN_LOG_LEVEL="3", MPLBACKEND="Agg", PATH=f"{bin_dir}:{env.get('PATH', '')}")
    proc = subprocess.run(
        [str(bin_dir / "kcolor"), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert proc.returncode == 0, f"kcolor {' '.join(args)}:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


@pytest.mark.parametrize("kind", ["wheel", "sdist"])
def test_installed_package_runs_every_command(kind, tmp_path):
    archive = _build(kind, tmp_path / "dist")
    bin_dir = _fresh_env(tmp_path / "env", archive)
    work = tmp_path / "work"
    work.mkdir()
    where = subprocess.run(
        [str(bin_dir / "python"), "-c", "import kcolor, kcolor.cli.main; print(kcolor.__file__)"],
        cwd=work, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    assert where.startswith(str(tmp_path / "env")), f"kcolor imported from {where}, not the installed copy"
    assert "usage: kcolor" in _run(bin_dir, work, "--help")
    for command in COMMANDS:
        assert f"usage: kcolor {command}" in _run(bin_dir, work, command, "--help")
    if kind == "sdist":
        return  # the same files; the smoke run below is the wheel's
    run = work / "runs" / "smoke"
    _run(
        bin_dir, work, "train", "--config", "sample", "--set", "model=pix2pix", "--set", "epochs=1",
        "--set", "steps_per_epoch=2", "--set", "val_steps=1", "--set", "image_size=32", "--set", "batch_size=4",
        "--set", "base_filters=8", "--set", "sample_images=2", "--set", f"run_dir={run}",
    )  # fmt: skip
    assert (run / "colorizer.keras").is_file()
    _run(bin_dir, work, "export", str(run), "--format", "savedmodel")
    photo = Path(sysconfig.get_paths()["purelib"], "skimage", "data", "astronaut.png")
    out = _run(bin_dir, work, "colorize", "--model", str(run), str(photo), "--out", str(work / "colorized"))
    assert (work / "colorized" / "astronaut.png").is_file(), out
