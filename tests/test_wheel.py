"""kcolor as a user installs it: the built wheel and sdist, in a fresh virtual environment.

The editable install that `make` does imports any folder of the checkout, so a module
left out of the wheel (a folder without `__init__.py`, package data not declared) shows
only here. Each archive is installed with `--no-deps` into a new virtual environment
outside the checkout; the dependencies (TensorFlow and the rest, already installed for
the tests) are made visible to it by one `.pth` line naming this environment's
site-packages, which adds that folder without running its `.pth` files, so the
checkout's editable finder stays out. Every command then runs from a folder outside the
checkout, and `kcolor.__file__` must be the installed copy.

Both archives carry LiteRT.js and its licences (`setup.py`): the installed wheel's
`kcolor web`, with no npm and no `node_modules` in reach, writes a site that colorizes a
photo in headless Chromium as the installed `kcolor colorize` does, and an sdist that
lost its copy of LiteRT.js does not build.
"""

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import venv
import zipfile
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from kcolor.metrics.quality import array_psnr as psnr
from kcolor.web import start_server
from kcolor.web.runtime import LICENSE_FILES, LITERT_PACKAGE, PACKAGED, SITE_FILES
from tests.browser import colorized_png, error_text, give_file, open_page, require_litert, wait_state

ROOT = Path(__file__).resolve().parents[1]
PHOTO = Path(sysconfig.get_paths()["purelib"], "skimage", "data", "astronaut.png")  # 512 x 512
# Kept from the installed commands: the checkout on sys.path, its environment, a LiteRT.js outside the wheel.
HIDDEN_ENV = ("PYTHONPATH", "VIRTUAL_ENV", "KCOLOR_NODE_MODULES")
COMMANDS = (
    "list-models", "list-configs", "summary", "train", "make-records", "make-pairs", "evaluate", "export",
    "colorize", "web", "turing-test", "turing-score",
)  # fmt: skip


def _build(kind, out):
    if kind == "wheel":
        cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(ROOT)]
    else:
        cmd = [sys.executable, "-m", "build", "--sdist", "--outdir", str(out), str(ROOT)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"building the {kind} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
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
        check=True, capture_output=True, timeout=600, env=_env(folder / "bin"),
    )  # fmt: skip
    return folder / "bin"


def _env(bin_dir):
    env = {k: v for k, v in os.environ.items() if k not in HIDDEN_ENV}
    env.update(TF_CPP_MIN_LOG_LEVEL="3", MPLBACKEND="Agg", PATH=f"{bin_dir}:{env.get('PATH', '')}")
    return env


def _run(bin_dir, cwd, *args, timeout=300):
    proc = subprocess.run(
        [str(bin_dir / "kcolor"), *args], cwd=cwd, env=_env(bin_dir), capture_output=True, text=True, timeout=timeout
    )
    assert proc.returncode == 0, f"kcolor {' '.join(args)}:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


def _python(bin_dir, cwd, code):
    """The lines `code` prints, run by the environment's Python from `cwd`."""
    proc = subprocess.run([str(bin_dir / "python"), "-c", code], cwd=cwd, env=_env(bin_dir), capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout.splitlines()


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """`installed(kind)`: the wheel or sdist, built and installed in a fresh environment, once per kind.

    Returns `SimpleNamespace(archive, root, bin, work)`: the archive, the environment, its
    `bin/` and an empty work folder beside it (outside the checkout, no node_modules).
    """
    require_litert()  # the build copies LiteRT.js from the checkout's node_modules (setup.py)
    made = {}

    def install(kind):
        if kind not in made:
            folder = tmp_path_factory.mktemp(kind)
            archive = _build(kind, folder / "dist")
            made[kind] = SimpleNamespace(archive=archive, root=folder / "env", work=folder / "work",
                                         bin=_fresh_env(folder / "env", archive))  # fmt: skip
            made[kind].work.mkdir()
        return made[kind]

    return install


@pytest.fixture(scope="module")
def smoke_run(installed):
    """A Pix2Pix trained for two steps at 32 px by the installed wheel, exported as SavedModel and TFLite."""
    env = installed("wheel")
    run = env.work / "runs" / "smoke"
    _run(
        env.bin, env.work, "train", "--config", "sample", "--set", "model=pix2pix", "--set", "epochs=1",
        "--set", "steps_per_epoch=2", "--set", "val_steps=1", "--set", "image_size=32", "--set", "batch_size=4",
        "--set", "base_filters=8", "--set", "sample_images=2", "--set", f"run_dir={run}",
    )  # fmt: skip
    assert (run / "colorizer.keras").is_file()
    for fmt in ("savedmodel", "tflite"):
        _run(env.bin, env.work, "export", str(run), "--format", fmt)
    return run


@pytest.mark.parametrize("kind", ["wheel", "sdist"])
def test_installed_package_runs_every_command(kind, installed):
    env = installed(kind)
    where, litert = _python(
        env.bin, env.work,
        "import kcolor, kcolor.cli.main; from kcolor.web.site import find_node_modules; "
        "print(kcolor.__file__); print(find_node_modules())",
    )  # fmt: skip
    assert where.startswith(str(env.root)), f"kcolor imported from {where}, not the installed copy"
    assert litert == str(Path(where).parent / "web" / PACKAGED), f"LiteRT.js found in {litert}, not the installed copy"
    assert "usage: kcolor" in _run(env.bin, env.work, "--help")
    for command in COMMANDS:
        assert f"usage: kcolor {command}" in _run(env.bin, env.work, command, "--help")


@pytest.mark.parametrize("kind", ["wheel", "sdist"])
def test_archives_carry_litert_and_its_licences(kind, installed):
    archive = installed(kind).archive
    if kind == "wheel":
        with zipfile.ZipFile(archive) as wheel:
            names = set(wheel.namelist())
            licence = wheel.read(f"kcolor/web/{PACKAGED}/{LICENSE_FILES[0]}").decode()
        prefix = f"kcolor/web/{PACKAGED}/"
    else:
        with tarfile.open(archive) as sdist:
            names = set(sdist.getnames())
        prefix = f"{archive.name.removesuffix('.tar.gz')}/kcolor/web/{PACKAGED}/"
    expected = {prefix + name for name in (*SITE_FILES.values(), *LICENSE_FILES)}
    assert expected <= names, f"{archive.name} lacks {sorted(expected - names)}"
    if kind == "wheel":
        assert "Apache License" in licence and "Version 2.0" in licence


def test_sdist_without_litert_does_not_build(installed, tmp_path):
    """No node_modules and no copy of LiteRT.js: the build stops and says to run `npm ci`."""
    with tarfile.open(installed("sdist").archive) as sdist:
        sdist.extractall(tmp_path / "src", filter="data")
    (source,) = (tmp_path / "src").iterdir()
    shutil.rmtree(source / "kcolor" / "web" / PACKAGED)
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path / "dist"),
         str(source)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode != 0 and "run `npm ci`" in proc.stdout + proc.stderr, proc.stdout[-3000:]
    assert not list((tmp_path / "dist").glob("*.whl"))


def test_installed_wheel_trains_exports_and_colorizes(installed, smoke_run):
    env = installed("wheel")
    out = _run(env.bin, env.work, "colorize", "--colorizer", str(smoke_run), str(PHOTO), "--out", str(env.work / "colorized"))
    assert (env.work / "colorized" / "astronaut.png").is_file(), out


def test_installed_wheel_writes_a_page_that_colorizes(installed, smoke_run, chromium, tmp_path):
    """`kcolor web` with no npm and no node_modules in reach: LiteRT.js comes from the wheel."""
    env = installed("wheel")
    assert not (tmp_path / "node_modules").exists()
    _run(env.bin, tmp_path, "web", str(smoke_run), "--out", str(tmp_path / "site"))
    info = json.loads((tmp_path / "site" / "model.json").read_text())
    pinned = json.loads((ROOT / "package-lock.json").read_text())["packages"][f"node_modules/{LITERT_PACKAGE}"]
    assert info["litert_js"] == pinned["version"]
    server, url = start_server(tmp_path / "site")
    try:
        open_page(chromium, url)
        give_file(chromium, "photo", PHOTO)
        assert wait_state(chromium, ("done", "error")) == "done", error_text(chromium)
        page = colorized_png(chromium)
    finally:
        server.shutdown()
        server.server_close()
    tflite = tmp_path / "site" / info["file"]
    _run(env.bin, tmp_path, "colorize", "--colorizer", str(tflite), str(PHOTO), "--out", str(tmp_path / "cli"))
    expected = np.asarray(Image.open(tmp_path / "cli" / "astronaut.png"), np.float64) / 255.0
    assert page.shape == expected.shape == (512, 512, 3)
    assert psnr(page, expected) >= 40.0
