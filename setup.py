"""kcolor's build: setup.cfg describes the package; this file adds LiteRT.js to it.

`kcolor web` copies LiteRT.js (npm `@litertjs/core`, pinned in `package-lock.json`) into
every site it writes. A wheel carries that runtime as package data in `kcolor/web/litert/`
(laid out like `node_modules`, each package with its LICENSE), so an installed kcolor
needs no npm. Building a wheel or an sdist first copies the files `kcolor/web/runtime.py`
lists from the checkout's `node_modules` (`npm ci`) into that folder, checked against the
pins; an sdist carries the copy, so a wheel built from it uses the copy as it is. Where
neither is there, the build stops and says to run `npm ci`: no wheel ships without it.
An editable install (`pip install -e .`) copies nothing: kcolor reads the checkout's
`node_modules` in place (`kcolor.web.site.find_node_modules`).

    npm ci && pip wheel --no-deps -w dist .     # dist/kcolor-*.whl, LiteRT.js inside
"""

import json
import runpy
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist
from setuptools.errors import FileError

ROOT = Path(__file__).resolve().parent
RUNTIME = runpy.run_path(str(ROOT / "kcolor" / "web" / "runtime.py"))  # kcolor itself is not importable here
NODE_MODULES = ROOT / "node_modules"
PACKAGED = ROOT / "kcolor" / "web" / RUNTIME["PACKAGED"]
# The npm packages hold no licence file; their package.json says Apache-2.0, the licence
# of the LiteRT repository they are built from, whose text this is.
LITERT_LICENSE = ROOT / "third_party" / "litertjs" / "LICENSE"
NPM_CI = f"run `npm ci` in {ROOT} (Node.js and npm; `make test` does it) and build again"


def _versions(folder: Path) -> dict:
    return {name: json.loads((folder / name / "package.json").read_text())["version"] for name in RUNTIME["PACKAGES"]}


def _pinned() -> dict:
    lock = json.loads((ROOT / "package-lock.json").read_text())["packages"]
    return {name: lock[f"node_modules/{name}"]["version"] for name in RUNTIME["PACKAGES"]}


def _licence(package_dir: Path) -> Path:
    """The package's own licence file, else the LiteRT repository's when the package declares it."""
    for name in ("LICENSE", "LICENSE.md", "LICENSE.txt"):
        if (package_dir / name).is_file():
            return package_dir / name
    declared = json.loads((package_dir / "package.json").read_text()).get("license")
    if declared != "Apache-2.0":
        raise FileError(
            f"{package_dir} holds no licence file and declares license={declared!r}, not the Apache-2.0 of "
            f"{LITERT_LICENSE.relative_to(ROOT)}: add its licence text before building"
        )
    return LITERT_LICENSE


def _missing(folder: Path, files) -> list:
    return [name for name in files if not (folder / name).is_file()]


def stage_litert():
    """Fill `kcolor/web/litert/` from `node_modules`, or check the copy an sdist carries."""
    runtime_files = sorted(set(RUNTIME["SITE_FILES"].values()))
    pinned = _pinned()
    if (NODE_MODULES / RUNTIME["LITERT_PACKAGE"]).is_dir():
        missing = _missing(NODE_MODULES, runtime_files)
        if missing or _versions(NODE_MODULES) != pinned:
            found = f"lacks {missing}" if missing else f"holds {_versions(NODE_MODULES)}"
            raise FileError(f"LiteRT.js in {NODE_MODULES} {found}; package-lock.json pins {pinned}: {NPM_CI}")
        shutil.rmtree(PACKAGED, ignore_errors=True)
        for name in runtime_files:
            (PACKAGED / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(NODE_MODULES / name, PACKAGED / name)
        for package in RUNTIME["PACKAGES"]:
            shutil.copyfile(_licence(NODE_MODULES / package), PACKAGED / package / RUNTIME["LICENSE"])
        return
    missing = _missing(PACKAGED, runtime_files + list(RUNTIME["LICENSE_FILES"]))
    if missing:
        raise FileError(
            f"LiteRT.js ({RUNTIME['LITERT_PACKAGE']}) is not in {NODE_MODULES}, and {PACKAGED} (the copy a kcolor "
            f"sdist carries) lacks {missing[0]} and {len(missing) - 1} more of its files: a wheel without it cannot run "
            f"`kcolor web`; {NPM_CI}"
        )
    if _versions(PACKAGED) != pinned:
        raise FileError(f"{PACKAGED} holds LiteRT.js {_versions(PACKAGED)}; package-lock.json pins {pinned}: {NPM_CI}")


class BuildPy(build_py):
    """`build_py` that stages LiteRT.js first (not for an editable install, which reads node_modules)."""

    def run(self):
        if not self.editable_mode:
            stage_litert()
        super().run()


class Sdist(sdist):
    """`sdist` that stages LiteRT.js first, so the sdist carries it."""

    def run(self):
        stage_litert()
        super().run()


setup(cmdclass={"build_py": BuildPy, "sdist": Sdist})
