"""`kcolor web`: a static site that colorizes photos in the browser with an exported `.tflite`.

The site runs the very file `kcolor export --format tflite` writes, on the user's own
device, through LiteRT.js (npm `@litertjs/core`, WebAssembly with XNNPACK). Nothing is
uploaded and nothing is fetched from a network: the LiteRT.js loader and its `.wasm`
files (`kcolor.web.runtime.SITE_FILES`) are copied into the site from a `node_modules`
folder that `find_node_modules` picks. The page (`static/`, plain ES
modules, no bundler) resizes the photo to the model's input, runs it, and puts the
upsampled chroma onto the photo's own full-resolution lightness, with the same resize
(`resize.js`: TensorFlow's antialiased bilinear) and Lab maths (`lab.js`) as
`kcolor.inference`, so it gives what `kcolor colorize --colorizer FILE.tflite` gives.

Site layout:

    index.html app.js colorize.js lab.js resize.js style.css   the page
    model.json                                                 what the page runs (below)
    <model>.tflite                                             the exported colorizer
    litert/core/index.js litert/wasm-utils/index.js            LiteRT.js (ES modules)
    litert/wasm/litert_wasm[_compat]_internal.{js,wasm}        its WebAssembly runtime

`model.json`: `model`, `paper`, `io` (the io kind of `kcolor.models.io` as an object),
`image_size`, `quantize`, `file`, `file_size_bytes`, `signature`, `inputs` (name →
shape), `output`, `max_pixels`, `litert_js` (version), and `parity` / `python_latency_ms`
from the export's `parity.json` when there is one.

The page refuses photos above `max_pixels` (default `MAX_PIXELS`, 50 megapixels): it
holds about 16 bytes per pixel (the decoded image, its RGBA bytes, the result and its
PNG), about 800 MB at the limit.

Where LiteRT.js comes from: in a checkout (and its editable install), the checkout's
`node_modules` (`npm ci` from `package-lock.json`); in an installed wheel, the copy the
wheel carries in `kcolor/web/litert/` (laid out like `node_modules`, each package with
its licence), which `setup.py` copies from `node_modules` at build time and an sdist
carries. That copy is kept out of git (`.gitignore`): it is 19 MB of npm's files that
`package-lock.json` already pins, and a build checks it against those pins. The npm
packages hold no licence file; their `package.json` says Apache-2.0, the licence of the
LiteRT repository, whose text is `third_party/litertjs/LICENSE`.

Example:
    build_site("runs/sample-pix2pix", "site", quantize="int8")
    server, url = start_server("site")   # http://127.0.0.1:PORT/
"""

import functools
import http.server
import json
import os
import shutil
import tempfile
import threading
from pathlib import Path

from kcolor import fs
from kcolor.web import runtime

MAX_PIXELS = 50_000_000
STATIC = Path(__file__).with_name("static")
PACKAGED = Path(__file__).with_name(runtime.PACKAGED)  # the wheel's copy of LiteRT.js
PAGE_FILES = ("index.html", "app.js", "colorize.js", "lab.js", "resize.js", "style.css")
SITE_MARKER = "model.json"


def _checkout_node_modules():
    """The kcolor checkout's `node_modules` (beside its `package.json`); None in an installed wheel."""
    root = Path(__file__).resolve().parents[2]
    return root / "node_modules" if (root / "package.json").is_file() else None


def find_node_modules(node_modules=None) -> Path:
    """The `node_modules` folder holding `@litertjs/core`.

    Looked for, first found wins, in: `node_modules` (the argument, `--node-modules`),
    `$KCOLOR_NODE_MODULES`, the kcolor checkout's (`npm ci` beside `package.json`), the
    copy an installed wheel carries (`kcolor/web/litert/`), and `./node_modules`. The
    explicit choices come first; the wheel's copy, the version this kcolor was built
    and tested with, comes before whatever the current folder holds.
    """
    candidates = [node_modules, os.environ.get("KCOLOR_NODE_MODULES"), _checkout_node_modules(), PACKAGED,
                  Path.cwd() / "node_modules"]  # fmt: skip
    tried = []
    for candidate in candidates:
        if not candidate:
            continue
        folder = Path(candidate).expanduser()
        tried.append(str(folder))
        if (folder / runtime.LITERT_PACKAGE / "package.json").is_file():
            return folder
    raise FileNotFoundError(
        f"LiteRT.js ({runtime.LITERT_PACKAGE}) is not installed; looked in {', '.join(tried)}. "
        "A kcolor wheel carries it; in a kcolor checkout run `npm ci` (or `make web`); or pass --node-modules DIR"
    )


def _litert_files(node_modules: Path) -> dict:
    """`{site path: source path}` of the LiteRT.js runtime, checked to exist."""
    files = {target: node_modules / source for target, source in runtime.SITE_FILES.items()}
    missing = [str(src) for src in files.values() if not src.is_file()]
    if missing:
        raise FileNotFoundError(f"LiteRT.js in {node_modules} lacks {missing}; reinstall it with `npm ci`")
    return files


def find_tflite(model, quantize=None) -> Path:
    """The `.tflite` file of a run folder's export, or `model` itself when it is one.

    A run folder holds its TFLite exports in `export/tflite` (float32) and
    `export/tflite-<quantize>`; `quantize` picks one, and may be left out when there is
    only one.
    """
    from kcolor.export import QUANTIZE, default_export_dir

    path = Path(os.fspath(model))
    if path.is_file():
        if path.suffix != ".tflite":
            raise ValueError(f"Model '{path}' is not a .tflite file. Valid: a run folder or a .tflite file from kcolor export")
        return path
    if not path.is_dir():
        raise FileNotFoundError(f"Model '{path}' does not exist. Valid: a run folder or a .tflite file")
    if quantize is not None and quantize not in QUANTIZE:
        raise ValueError(f"Unknown quantize '{quantize}'. Valid: {', '.join(QUANTIZE)}")
    exports = {
        q: files[0]
        for q in QUANTIZE
        if (files := sorted(Path(default_export_dir(path, "tflite", q)).glob("*.tflite")))
    }
    if not exports:
        raise FileNotFoundError(
            f"Run folder '{path}' holds no TFLite export (no export/tflite*/*.tflite). "
            f"Make one first: kcolor export {path} --format tflite [--quantize int8]"
        )
    if quantize is None:
        if len(exports) > 1:
            raise ValueError(f"Run folder '{path}' holds several TFLite exports; pick one with --quantize. Valid: {', '.join(exports)}")
        return next(iter(exports.values()))
    if quantize not in exports:
        raise FileNotFoundError(
            f"Run folder '{path}' has no {quantize} TFLite export. Valid: {', '.join(exports)} "
            f"(or run kcolor export {path} --format tflite --quantize {quantize})"
        )
    return exports[quantize]


def _paper(model_name: str) -> str:
    from kcolor.models.registry import get_model, list_models

    if model_name not in list_models():
        return ""
    from kcolor.papers import cite

    return cite(get_model(model_name).paper)


def _detect_quantize(tflite) -> str:
    """The quantization of a file without a `parity.json`, read from its tensors and ops."""
    from kcolor.export.tflite import _interpreter, op_report

    ops = op_report(tflite)
    if ops["int8_ops"] and not ops["float_ops"]:
        return "int8"
    dtypes = {str(t["dtype"].__name__) for t in _interpreter(tflite, delegates=False).get_tensor_details()}
    if "float16" in dtypes:
        return "float16"
    if "int8" in dtypes:
        return "dynamic"
    return "none"


def model_info(tflite, *, max_pixels=MAX_PIXELS) -> dict:
    """What the page needs to know about a `.tflite` colorizer (the site's `model.json`).

    The file is loaded with LiteRT (`kcolor.export.tflite.TFLiteColorizer`), which reads
    its io kind and size from its `predict` signature; the export's `parity.json` beside
    it, when there is one, gives the model name, quantization and parity figures.
    """
    from kcolor.export.tflite import SIGNATURE, TFLiteColorizer

    tflite = Path(tflite)
    lite = TFLiteColorizer(tflite)
    parity_path = tflite.with_name("parity.json")
    parity = json.loads(parity_path.read_text()) if parity_path.is_file() else None
    if parity is not None and (parity.get("io"), parity.get("image_size")) != (lite.io.name, lite.image_size):
        raise ValueError(
            f"{parity_path} describes io {parity.get('io')} at {parity.get('image_size')}, but {tflite} is "
            f"{lite.io.name} at {lite.image_size}: the file was replaced after its export"
        )
    model_name = parity["model_name"] if parity else lite.model_name
    io = lite.io
    info = {
        "model": model_name,
        "paper": _paper(model_name),
        "io": {
            "name": io.name,
            "input_name": io.input_name,
            "input_channels": io.input_channels,
            "output": io.output,
            "uses_reference": io.uses_reference,
            "is_autoencoder": io.is_autoencoder,
        },
        "image_size": lite.image_size,
        "quantize": parity["quantize"] if parity else _detect_quantize(tflite),
        "file": tflite.name,
        "file_size_bytes": tflite.stat().st_size,
        "signature": SIGNATURE,
        "inputs": {name: list(shape) for name, shape in lite.input_shapes.items()},
        "output": "output",
        "max_pixels": int(max_pixels),
    }
    if parity:
        info["parity"] = {"psnr_db": parity["model"]["psnr_db"], "bar_db": parity["bar_db"]}
        info["python_latency_ms"] = parity["latency_ms"]
    return info


def _prepare_out_dir(out_dir: Path):
    if out_dir.exists() and (not out_dir.is_dir() or (any(out_dir.iterdir()) and not (out_dir / SITE_MARKER).is_file())):
        raise ValueError(f"Site folder '{out_dir}' exists and is not an earlier kcolor site (no {SITE_MARKER}); choose another --out")


def build_site(model, out_dir, *, quantize=None, node_modules=None, max_pixels=MAX_PIXELS) -> dict:
    """Write the static site for a run folder's TFLite export or a `.tflite` file.

    The folder appears whole or not at all (it is built beside `out_dir` and moved into
    place); an earlier site there is replaced.

    Args:
        model: a run folder (its `export/tflite*` export) or a `.tflite` file.
        out_dir: the site folder.
        quantize: which of a run's TFLite exports (none, float16, dynamic, int8).
        node_modules: where `@litertjs/core` is installed (see `find_node_modules`).
        max_pixels: the largest photo the page accepts, in pixels.

    Returns:
        `{"path": out_dir, "size_bytes": the site's size, "model": model.json's content}`.
    """
    if int(max_pixels) < 1:
        raise ValueError(f"max_pixels must be a positive number of pixels. Received: max_pixels={max_pixels}")
    remote = [f"{what}={os.fspath(p)!r}" for what, p in (("model", model), ("out", out_dir)) if fs.is_remote(p)]
    if remote:
        raise ValueError(
            f"kcolor web builds a local folder for a local browser and server; {', '.join(remote)} is not local. "
            "Valid: a local run folder or .tflite file and a local --out (copy a bucket's export down first)"
        )
    out_dir = Path(os.fspath(out_dir)).resolve()
    _prepare_out_dir(out_dir)
    tflite = find_tflite(model, quantize)
    modules = find_node_modules(node_modules)
    litert_files = _litert_files(modules)
    info = model_info(tflite, max_pixels=max_pixels)
    info["litert_js"] = json.loads((modules / runtime.LITERT_PACKAGE / "package.json").read_text())["version"]

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))
    try:
        for name in PAGE_FILES:
            shutil.copyfile(STATIC / name, staging / name)
        for target, source in litert_files.items():
            (staging / target).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, staging / target)
        shutil.copyfile(tflite, staging / info["file"])
        (staging / SITE_MARKER).write_text(json.dumps(info, indent=2))
        staging.chmod(0o755)
        old = None
        if out_dir.exists():
            old = out_dir.with_name(f".{out_dir.name}-old-{os.getpid()}")
            os.replace(out_dir, old)
        os.replace(staging, out_dir)
        if old is not None:
            shutil.rmtree(old)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    size = sum(p.stat().st_size for p in out_dir.rglob("*") if p.is_file())
    return {"path": str(out_dir), "size_bytes": size, "model": info}


class _Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".wasm": "application/wasm",
        ".js": "text/javascript",
        ".tflite": "application/octet-stream",
    }

    def log_message(self, format, *args):  # noqa: A002  (the base class's name)
        if self.server.verbose:
            super().log_message(format, *args)


def start_server(site_dir, *, host="127.0.0.1", port=0, verbose=False):
    """Serve a site folder from a background thread: returns `(server, url)`.

    Stop it with `server.shutdown(); server.server_close()`. Port 0 picks a free port.
    """
    site_dir = Path(os.fspath(site_dir))
    if not (site_dir / SITE_MARKER).is_file():
        raise FileNotFoundError(f"Folder '{site_dir}' is not a kcolor site (no {SITE_MARKER}); write one with kcolor web MODEL --out DIR")
    handler = functools.partial(_Handler, directory=str(site_dir))
    try:
        server = http.server.ThreadingHTTPServer((host, int(port)), handler)
    except OSError as err:
        raise ValueError(f"cannot serve on {host}:{port} ({err.strerror}); pick another --port") from err
    server.verbose = verbose
    threading.Thread(target=server.serve_forever, name="kcolor-web", daemon=True).start()
    return server, f"http://{host}:{server.server_address[1]}/"


def serve(site_dir, *, host="127.0.0.1", port=8000, log=print):
    """Serve a site folder until interrupted (`kcolor web --serve DIR`)."""
    server, url = start_server(site_dir, host=host, port=port, verbose=True)
    log(f"serving {site_dir} at {url} (Ctrl-C stops)")
    try:
        threading.Event().wait()
    finally:
        server.shutdown()
        server.server_close()
