"""kcolor web: the page's JavaScript against kcolor's Python, and the page in headless Chromium.

- lab.js, resize.js and colorize.js run in Node against `kcolor.color`, the one resize
  (`kcolor.pixels.resize`) and the full-resolution path of `kcolor.inference`,
  for every io kind.
- The site of every TFLite variant (`--quantize none|float16|dynamic|int8`) of a tiny
  trained Pix2Pix, served on 127.0.0.1, colorizes a held-out photo at its own size in
  Chromium; the downloaded PNG is compared with `kcolor colorize --colorizer FILE.tflite` on
  the same photo, at a floor per variant set by the committed record
  `docs/web_parity.json`, which docs/web.md's parity table is rendered from.
- A reference-guided model (StableColorizer) takes its second image in the second drop
  zone. Bad input (not an image, a photo over the pixel limit, a model that does not
  load) ends in the error state with a message.
"""

import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image
from skimage import data as skdata

from kcolor import color
from kcolor.cli.main import main
from kcolor.config import TrainConfig
from kcolor.pixels import resize, to_uint8
from kcolor import inference
from kcolor.export import QUANTIZE, export_run
from kcolor.metrics.quality import array_psnr as psnr
from kcolor.export.run import save_run
from kcolor.models import build_model, get_model
from kcolor.models.io import IO_SPECS
from kcolor.training.loop import train
from kcolor.web import build_site, find_tflite, start_server
from scripts.readme_block import write_block
from tests.browser import colorized_png, error_text, give_file, open_page, require_litert, require_node, wait_state

SIZE = 32
ROOT = Path(__file__).resolve().parents[1]
STATIC = ROOT / "kcolor" / "web" / "static"


# ---------------------------------------------------------------- the modules, in Node


def _node(script, tmp_path):
    """Run an ES-module script in Node from the page's folder (skipped without Node, see tests.browser)."""
    node = require_node()
    path = tmp_path / "check.mjs"
    path.write_text(script.replace("STATIC", STATIC.as_uri()))
    proc = subprocess.run([node, str(path)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def _save(tmp_path, name, array):
    np.ascontiguousarray(array, np.float32).tofile(tmp_path / f"{name}.bin")


def _load(tmp_path, name, shape):
    return np.fromfile(tmp_path / f"{name}.bin", np.float32).reshape(shape)


_JS_IO = """
import fs from "fs";
const read = (name) => { const b = fs.readFileSync(name + ".bin"); return new Float32Array(b.buffer, b.byteOffset, b.length / 4); };
const write = (name, a) => fs.writeFileSync(name + ".bin", Buffer.from(Float32Array.from(a).buffer));
"""


def test_lab_js_is_kcolor_color_on_random_colors(tmp_path):
    rng = np.random.default_rng(0)
    rgb = rng.random((4000, 3)).astype(np.float32)
    rgb[:8] = [[0, 0, 0], [1, 1, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1], [0.04045, 0.5, 0.0031], [0.5, 0.5, 0.5], [1, 1, 0]]
    # Lab across the whole box, in and far out of the sRGB gamut (lab_to_rgb clips).
    lab = np.stack([rng.uniform(0, 100, 4000), rng.uniform(-128, 127, 4000), rng.uniform(-128, 127, 4000)], -1)
    _save(tmp_path, "rgb", rgb)
    _save(tmp_path, "lab", lab)
    _node(
        _JS_IO
        + """
import { rgbToLabArray, labToRgbArray, lightness, luma, labToRgb8Into, linearToSrgb8, linearToSrgb, SRGB8_TO_LINEAR, srgbToLinear } from "STATIC/lab.js";
const rgb = read("rgb"), lab = read("lab");
write("rgb2lab", rgbToLabArray(rgb));
write("lab2rgb", labToRgbArray(lab));
write("lab2rgb_raw", labToRgbArray(lab, false));
const L = [], gray = [];
for (let i = 0; i < rgb.length; i += 3) { L.push(lightness(rgb[i], rgb[i + 1], rgb[i + 2])); gray.push(luma(rgb[i], rgb[i + 1], rgb[i + 2])); }
write("L", L); write("gray", gray);
const rgb8 = new Uint8ClampedArray(lab.length);
for (let i = 0; i < lab.length; i += 3) labToRgb8Into(lab[i], lab[i + 1], lab[i + 2], rgb8, i);
write("lab2rgb8", rgb8);
// The power-free 8-bit paths are the exact ones, level for level.
for (let i = 0; i <= 100000; i++) {
  const v = -0.01 + 1.02 * i / 100000;
  const exact = Math.round(Math.min(1, Math.max(0, linearToSrgb(v))) * 255);
  if (linearToSrgb8(v) !== exact) throw new Error(`linearToSrgb8(${v}) = ${linearToSrgb8(v)}, not ${exact}`);
}
for (let k = 0; k < 256; k++) if (SRGB8_TO_LINEAR[k] !== srgbToLinear(k / 255)) throw new Error(`level ${k}`);
""",
        tmp_path,
    )
    expected_lab = color.rgb_to_lab(rgb).numpy()
    got_lab = _load(tmp_path, "rgb2lab", (-1, 3))
    np.testing.assert_allclose(got_lab, expected_lab, atol=2e-3)  # float32 TF against float64 JS
    np.testing.assert_allclose(_load(tmp_path, "L", (-1,)), expected_lab[:, 0], atol=2e-3)
    np.testing.assert_allclose(_load(tmp_path, "gray", (-1, 1)), color.rgb_to_gray(rgb).numpy(), atol=1e-6)
    np.testing.assert_allclose(_load(tmp_path, "lab2rgb", (-1, 3)), color.lab_to_rgb(lab).numpy(), atol=1e-4)
    np.testing.assert_allclose(
        _load(tmp_path, "lab2rgb_raw", (-1, 3)), color.lab_to_rgb(lab, clip=False).numpy(), rtol=1e-4, atol=1e-4
    )
    assert not np.allclose(_load(tmp_path, "lab2rgb", (-1, 3)), _load(tmp_path, "lab2rgb_raw", (-1, 3)))
    levels = np.abs(_load(tmp_path, "lab2rgb8", (-1, 3)) - to_uint8(color.lab_to_rgb(lab)).numpy())
    assert levels.max() <= 1 and np.mean(levels > 0) < 0.01  # float32 TF rounds a few the other way


@pytest.mark.parametrize(
    "shape, size",
    [((37, 53), (16, 16)), ((16, 16), (37, 53)), ((100, 7), (13, 20)), ((333, 250), (32, 32)), ((32, 32), (600, 411))],
)
def test_resize_js_is_the_one_resize(tmp_path, shape, size):
    image = np.random.default_rng(1).random(shape + (3,)).astype(np.float32)
    _save(tmp_path, "x", image)
    _node(
        _JS_IO + f"""
import {{ resize }} from "STATIC/resize.js";
write("y", resize(read("x"), {shape[0]}, {shape[1]}, 3, {size[0]}, {size[1]}));
""",
        tmp_path,
    )
    np.testing.assert_allclose(_load(tmp_path, "y", size + (3,)), resize(image, list(size)).numpy(), atol=1e-5)


@pytest.mark.parametrize("io_name", sorted(IO_SPECS))
def test_colorize_js_is_the_python_path_for_every_io_kind(tmp_path, io_name):
    io = IO_SPECS[io_name]
    rng = np.random.default_rng(2)
    h, w = 45, 71
    rgba = rng.integers(0, 256, (h, w, 4), dtype=np.uint8)
    rgba[..., 3] = np.where(rng.random((h, w)) < 0.7, 255, rgba[..., 3])  # partly transparent
    ref = rng.integers(0, 256, (29, 40, 4), dtype=np.uint8)
    ref[..., 3] = 255
    output = rng.uniform(-0.6, 0.6, (SIZE, SIZE, 2)) if io.output == "ab" else rng.uniform(-0.1, 1.1, (SIZE, SIZE, 3))
    _save(tmp_path, "photo", rgba)
    _save(tmp_path, "ref", ref)
    _save(tmp_path, "output", output)
    spec = {"name": io.name, "input_name": io.input_name, "input_channels": io.input_channels,
            "output": io.output, "uses_reference": io.uses_reference, "is_autoencoder": io.is_autoencoder}
    _node(
        _JS_IO + f"""
import {{ shrinkPhoto, modelInputs, outputToAb, transferChroma, colorizePhoto }} from "STATIC/colorize.js";
const io = {json.dumps(spec)};
const photo = {{ width: {w}, height: {h}, rgba: Uint8ClampedArray.from(read("photo")) }};
const ref = {{ width: 40, height: 29, rgba: Uint8ClampedArray.from(read("ref")) }};
const inputs = modelInputs(shrinkPhoto(photo, {SIZE}), io, io.uses_reference ? shrinkPhoto(ref, {SIZE}) : null);
for (const [name, x] of Object.entries(inputs)) write("in_" + name, x);
write("result", transferChroma(photo, outputToAb(read("output"), io), {SIZE}));
const run = await colorizePhoto(photo, async (x) => read("output"), io, {SIZE}, io.uses_reference ? ref : null);
write("run", run.rgba);
""",
        tmp_path,
    )
    alpha = rgba[..., 3:] / np.float32(255)
    rgb = (rgba[..., :3] / np.float32(255)) * alpha + (1 - alpha)  # transparency seen on white
    reference = ref[..., :3] / np.float32(255) if io.uses_reference else None
    expected_inputs = inference.prepare(tf.constant(rgb), io, SIZE, None if reference is None else tf.constant(reference))
    for name, tensor in expected_inputs.items():
        got = _load(tmp_path, f"in_{name}", tensor.shape)
        np.testing.assert_allclose(got, tensor.numpy(), atol=2e-5, err_msg=name)
    expected = to_uint8(inference.finish(tf.constant(rgb), expected_inputs, tf.constant(output[None], tf.float32), io))
    got = _load(tmp_path, "result", (h, w, 4))
    assert np.abs(got[..., :3] - expected.numpy().astype(np.float32)).max() <= 1  # rounding of the last level
    np.testing.assert_array_equal(got[..., 3], rgba[..., 3])  # alpha comes back unchanged
    np.testing.assert_array_equal(_load(tmp_path, "run", (h, w, 4)), got)


# ---------------------------------------------------------------- sites of real exports


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """A Pix2Pix trained for two steps at 32 px, exported as every TFLite variant (QUANTIZE)."""
    run_dir = tmp_path_factory.mktemp("web_run") / "pix2pix"
    cfg = TrainConfig(model="pix2pix", data="sample", image_size=SIZE, batch_size=4, epochs=1)
    train(cfg, run_dir=run_dir, max_steps=2, verbose=0)
    for quantize in QUANTIZE:
        export_run(run_dir, format="tflite", quantize=quantize, repeats=1, max_images=4, calibration_images=8)
    return run_dir


@pytest.fixture(scope="module")
def sites(trained_run, tmp_path_factory):
    require_litert()
    folder = tmp_path_factory.mktemp("web_sites")
    return {q: build_site(trained_run, folder / q, quantize=q) for q in QUANTIZE}


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """A held-out photo (the sample data's test photo, coffee) at an odd, non-square size, and a reference."""
    folder = tmp_path_factory.mktemp("web_photos")
    Image.fromarray(skdata.coffee()[40:213, 90:341]).save(folder / "coffee.png")  # 173 x 251
    Image.fromarray(skdata.chelsea()[:120, 100:260]).save(folder / "chelsea.png")
    (folder / "notes.png").write_text("this is not an image")
    return folder


def _kcolor_colorize(model, photo, out_dir, reference=None):
    argv = ["colorize", "--colorizer", str(model), str(photo), "--out", str(out_dir)]
    assert main(argv + (["--reference", str(reference)] if reference else [])) == 0
    return np.asarray(Image.open(Path(out_dir) / (Path(photo).stem + ".png")), np.float64) / 255.0


# ---------------------------------------------------------------- parity of every variant, recorded

PARITY = ROOT / "docs" / "web_parity.json"
WEB_DOC = ROOT / "docs" / "web.md"
PARITY_BEGIN, PARITY_END = "<!-- web-parity:begin -->", "<!-- web-parity:end -->"
RECORD_ENV = "KCOLOR_RECORD_WEB_PARITY"
RECORD_COMMAND = f"{RECORD_ENV}=1 python -m pytest -n 0 tests/test_web.py -k page_colorizes"
# A variant's floor is its recorded PSNR less PARITY_MARGIN_DB. The page and `kcolor colorize`
# differ only in 8-bit values that float32 LiteRT (native XNNPACK in Python, WebAssembly in
# the page) and float64 JavaScript round to neighbouring levels, and how many such values a
# photo has depends on the CPU's float kernels (Python's XNNPACK picks AVX2 or AVX-512 code).
# 6 dB is four times the recorded squared error: four times as many one-level values. A record
# of no difference at all (PSNR_CAP_DB) counts as one value a level off, so that no floor asks
# for bit-identical output.
PARITY_MARGIN_DB = 6.0


def parity_floor(row) -> float:
    """The least PSNR the test accepts for a variant: its recorded dB less PARITY_MARGIN_DB."""
    one_level_db = 10 * np.log10(row["values"] * 255.0**2)  # a single value one level off
    return round(min(row["psnr_db"], one_level_db) - PARITY_MARGIN_DB, 1)


def render_parity(record) -> str:
    """docs/web.md's parity table (between PARITY_BEGIN and PARITY_END) from docs/web_parity.json."""
    lines = [
        f"Recorded in `docs/web_parity.json` by `{RECORD_COMMAND}`:",
        f"{record['model']}; each `--quantize` export's site in headless Chromium on {record['photo']},",
        "against `kcolor colorize --colorizer FILE.tflite` on the same photo.",
        f"The test fails a variant below its floor: the recorded PSNR less {PARITY_MARGIN_DB:g} dB, four times the",
        "recorded squared error.",
        "",
        "| `--quantize` | page vs `kcolor colorize` | 8-bit values that differ | test floor | recorded with |",
        "|---|---|---|---|---|",
    ]
    for quantize, row in record["variants"].items():
        off = f"{row['values_off']:,} of {row['values']:,}, by up to {row['max_levels_off']}/255"
        lines.append(f"| {quantize} | {row['psnr_db']:.1f} dB | {off} | {parity_floor(row):.1f} dB | "
                     f"Chromium {row['chromium']}, LiteRT.js {row['litert_js']}, {row['date']} |")
    return "\n".join(lines) + "\n"


def _parity_record() -> dict:
    return json.loads(PARITY.read_text()) if PARITY.is_file() else {"variants": {}}


def _record_parity(quantize, row):
    """Write a variant's measurement into docs/web_parity.json and docs/web.md's table (record mode)."""
    variants = {**_parity_record()["variants"], quantize: row}
    record = {
        "model": "the two-step Pix2Pix of `tests/test_web.py` (32x32, sample data)",
        "photo": "a 251x173 crop of the sample data's held-out photo (scikit-image's `coffee`)",
        "variants": {q: variants[q] for q in QUANTIZE if q in variants},
    }
    PARITY.write_text(json.dumps(record, indent=2) + "\n")
    write_block(WEB_DOC, PARITY_BEGIN, PARITY_END, render_parity(record))


@pytest.mark.parametrize("quantize", QUANTIZE)
def test_page_colorizes_like_kcolor_colorize(trained_run, sites, photos, quantize, chromium, tmp_path):
    """Each variant's page gives what `kcolor colorize` gives on its export, at its recorded parity less the margin.

    With `KCOLOR_RECORD_WEB_PARITY=1` the measurement is first written into the record
    (docs/web_parity.json and docs/web.md's table), then checked against it.

    Mutations this fails (tried 2026-12-07; the former bar of 40 dB passed them all): the
    float16 and dynamic sites given the fp32 export's `.tflite` (82.4 and 68.7 dB, floors
    93.3 and 90.3); lab.js's D65 white point x 0.95047 -> 0.9505 (79.2 to 81.8 dB, every
    variant).
    """
    site = sites[quantize]
    info = json.loads((Path(site["path"]) / "model.json").read_text())
    assert info["quantize"] == quantize and info["io"]["name"] == "gray_rgb" and info["image_size"] == SIZE
    assert info["paper"].startswith("Image Colorization")
    assert sorted(p.name for p in (Path(site["path"]) / "litert" / "wasm").iterdir()) == [
        "litert_wasm_compat_internal.js", "litert_wasm_compat_internal.wasm",
        "litert_wasm_internal.js", "litert_wasm_internal.wasm",
    ]
    server, url = start_server(site["path"])
    try:
        open_page(chromium, url)
        shown = chromium.execute_script("return document.querySelector('[data-output=\"quantization\"]').textContent")
        assert shown == quantize
        give_file(chromium, "photo", photos / "coffee.png")
        assert wait_state(chromium, ("done", "error")) == "done", error_text(chromium)
        page = colorized_png(chromium)
        timings = chromium.execute_script("return window.kcolor.last")
    finally:
        server.shutdown()
        server.server_close()
    # The export `kcolor web` was asked for, not the site's copy: a site built from another file differs.
    expected = _kcolor_colorize(find_tflite(trained_run, quantize), photos / "coffee.png", tmp_path / "cli")
    assert page.shape == expected.shape == (173, 251, 3)
    levels = np.abs(np.round(page * 255) - np.round(expected * 255))
    row = {"psnr_db": round(psnr(page, expected), 2), "values": int(levels.size),
           "values_off": int(np.count_nonzero(levels)), "max_levels_off": int(levels.max()),
           "chromium": chromium.capabilities["browserVersion"], "litert_js": info["litert_js"],
           "date": datetime.date.today().isoformat()}
    print(f"{quantize}: page vs kcolor colorize {row}; page timings {timings}")
    if os.environ.get(RECORD_ENV) == "1":
        _record_parity(quantize, row)
    recorded = _parity_record()["variants"].get(quantize)
    assert recorded, f"docs/web_parity.json has no {quantize} row; measure it with {RECORD_COMMAND}"
    assert row["psnr_db"] >= parity_floor(recorded), (
        f"{quantize}: the page is {row['psnr_db']:.1f} dB from kcolor colorize ({row['values_off']} values differ, "
        f"by up to {row['max_levels_off']}/255); recorded {recorded['psnr_db']:.1f} dB, floor {parity_floor(recorded):.1f} dB"
    )


def test_docs_report_the_recorded_parity_of_every_variant():
    """docs/web.md's parity table is the record's, every variant has a row, and the README's claim holds for each."""
    record = _parity_record()
    assert list(record["variants"]) == list(QUANTIZE), f"docs/web_parity.json lacks variants; run {RECORD_COMMAND}"
    block = WEB_DOC.read_text().split(PARITY_BEGIN, 1)[1].split(PARITY_END, 1)[0]
    assert block == "\n" + render_parity(record), f"docs/web.md's parity table is stale; run {RECORD_COMMAND}"
    claim = re.search(r"parity above (\d+) dB", (ROOT / "README.md").read_text())
    assert claim, "the README's kcolor web section no longer states the page's parity"
    for quantize, row in record["variants"].items():
        assert parity_floor(row) > float(claim[1]), f"{quantize}: floor {parity_floor(row)} dB, README: above {claim[1]} dB"


def test_page_takes_a_reference_for_reference_models(photos, chromium, tmp_path_factory, tmp_path):
    require_litert()
    name = "stable_colorizer"
    run_dir = tmp_path_factory.mktemp("web_ref") / name
    cfg = TrainConfig(model=name, image_size=SIZE, batch_size=4, data="pairs:sample", fractions=(0.8, 0.2, 0.0))
    save_run(run_dir, build_model(name, SIZE)["colorizer"], model_name=name, io=get_model(name).io,
             image_size=SIZE, config=cfg)
    tflite = export_run(run_dir, format="tflite", repeats=1, max_images=4)["path"]
    site = build_site(tflite, tmp_path / "site")
    assert site["model"]["io"]["uses_reference"] and site["model"]["paper"].startswith("Stable Image Colorization")
    server, url = start_server(site["path"])
    try:
        open_page(chromium, url)
        assert chromium.find_element("css selector", 'input[data-input="reference"]').is_displayed()
        give_file(chromium, "photo", photos / "coffee.png")
        assert wait_state(chromium, ("ready", "error")) == "ready"
        assert "reference" in chromium.execute_script("return document.querySelector('[data-output=\"status\"]').textContent")
        give_file(chromium, "reference", photos / "chelsea.png")
        assert wait_state(chromium, ("done", "error")) == "done", error_text(chromium)
        page = colorized_png(chromium)
    finally:
        server.shutdown()
        server.server_close()
    expected = _kcolor_colorize(tflite, photos / "coffee.png", tmp_path / "cli", reference=photos / "chelsea.png")
    assert psnr(page, expected) >= 40.0


def test_page_refuses_bad_input_with_a_message(sites, photos, chromium, tmp_path):
    # The same site with a 40,000-pixel limit: the 173 x 251 photo is over it.
    site = build_site(Path(sites["int8"]["path"]) / "pix2pix.tflite", tmp_path / "small", max_pixels=40_000)
    # A bare .tflite (no parity.json beside it): the quantization is read from the file.
    assert site["model"]["quantize"] == "int8" and site["model"]["model"] == "pix2pix"
    server, url = start_server(site["path"])
    try:
        open_page(chromium, url)
        give_file(chromium, "photo", photos / "notes.png")
        assert wait_state(chromium, ("done", "error")) == "error"
        assert "notes.png is not an image" in error_text(chromium)
        give_file(chromium, "photo", photos / "coffee.png")
        assert wait_state(chromium, ("done", "error")) == "error"
        assert "coffee.png is 251×173 = 43,423 pixels" in error_text(chromium)
        assert "up to 40,000 pixels" in error_text(chromium)
        give_file(chromium, "photo", photos / "chelsea.png")  # 160 x 120: under the limit, and it works after errors
        assert wait_state(chromium, ("done", "error")) == "done", error_text(chromium)
        assert chromium.execute_script("return document.querySelector('[data-output=\"error\"]').hidden")
    finally:
        server.shutdown()
        server.server_close()


def test_page_says_when_the_model_does_not_load(sites, chromium, tmp_path):
    broken = Path(shutil.copytree(sites["none"]["path"], tmp_path / "broken"))
    (broken / "pix2pix.tflite").write_bytes(b"not a flatbuffer" * 64)
    server, url = start_server(broken)
    try:
        chromium.get(url)
        assert wait_state(chromium, ("ready", "error")) == "error"
        assert "pix2pix.tflite does not load as a LiteRT model" in error_text(chromium)
    finally:
        server.shutdown()
        server.server_close()


# ---------------------------------------------------------------- the command line


def test_cli_web_writes_and_serves_a_site(trained_run, tmp_path, capsys):
    require_litert()
    assert main(["web", str(trained_run), "--out", str(tmp_path / "site")]) == 2
    assert f"pick one with --quantize. Valid: {', '.join(QUANTIZE)}" in capsys.readouterr().err
    assert main(["web", str(tmp_path), "--out", str(tmp_path / "site")]) == 2
    assert "kcolor export" in capsys.readouterr().err
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("mine")
    assert main(["web", str(trained_run), "--quantize", "int8", "--out", str(tmp_path / "taken")]) == 2
    assert "not an earlier kcolor site" in capsys.readouterr().err
    assert main(["web", str(trained_run), "--quantize", "int8", "--out", str(tmp_path / "site")]) == 0
    assert "kcolor web --serve" in capsys.readouterr().out
    # Writing again replaces the earlier site.
    assert main(["web", str(trained_run), "--quantize", "none", "--out", str(tmp_path / "site")]) == 0
    assert json.loads((tmp_path / "site" / "model.json").read_text())["quantize"] == "none"

    proc = subprocess.Popen(
        [sys.executable, "-m", "kcolor", "web", "--serve", str(tmp_path / "site"), "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        line = proc.stdout.readline()
        assert "http://127.0.0.1:" in line, proc.stderr.read() if proc.poll() is not None else line
        url = line.split(" at ")[1].split()[0]
        with urllib.request.urlopen(url + "litert/wasm/litert_wasm_internal.wasm", timeout=10) as response:
            assert response.headers["Content-Type"] == "application/wasm"
        with urllib.request.urlopen(url + "model.json", timeout=10) as response:
            assert json.load(response)["model"] == "pix2pix"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
