// The kcolor page: load the site's .tflite colorizer with LiteRT.js, colorize the photo a
// user drops or picks, at its own size, on their device (colorize.js), and offer the PNG.
//
// Hooks for tests and scripts: the photo input is input[type=file][data-input="photo"]
// (reference models: data-input="reference"); the result is img[data-output="colorized"],
// whose src is the full-resolution PNG (a blob: URL); document.body.dataset.state is
// working (also while the model loads), ready, done or error; an error's message is in [data-output="error"].
// window.kcolor.last holds the last run's timings (milliseconds).

import { loadAndCompile, loadLiteRt, Tensor } from "./litert/core/index.js";
import { luma } from "./lab.js";
import { colorizePhoto } from "./colorize.js";

const $ = (selector) => document.querySelector(selector);
const out = (name) => $(`[data-output="${name}"]`);
const site = { info: null, runner: null, photo: null, reference: null, urls: [] };
window.kcolor = { last: null };

/** 50000000 -> "50 megapixels", 40000 -> "40,000 pixels". */
function pixels(n) {
  return n >= 1e6 ? `${+(n / 1e6).toFixed(1)} megapixels` : `${n.toLocaleString("en")} pixels`;
}

function setState(state, status = "") {
  document.body.dataset.state = state;
  out("status").textContent = status;
  if (state !== "error") out("error").hidden = true;
}

function fail(message) {
  out("error").textContent = message;
  out("error").hidden = false;
  setState("error");
  out("status").textContent = "";
  console.error(message);
}

async function loadModel() {
  const response = await fetch("model.json");
  if (!response.ok) throw new Error(`model.json is missing from this site (HTTP ${response.status})`);
  const info = await response.json();
  site.info = info;
  out("model").textContent = `${info.model} (${info.image_size}×${info.image_size}, ${(info.file_size_bytes / 1e6).toFixed(2)} MB)`;
  out("paper").textContent = info.paper || "—";
  out("quantization").textContent = info.quantize;
  out("io").textContent = info.io.name;
  out("limit").textContent = `Any size up to ${pixels(info.max_pixels)}.`;
  $('[data-drop="reference"]').hidden = !info.io.uses_reference;

  await loadLiteRt(new URL("litert/wasm/", location.href).href);
  let model;
  try {
    const bytes = await fetch(info.file).then((r) => {
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      return r.arrayBuffer();
    });
    model = await loadAndCompile(new Uint8Array(bytes), { accelerator: "wasm" });
  } catch (err) {
    throw new Error(`The model file ${info.file} does not load as a LiteRT model: ${err.message || err}`);
  }
  const runner = model.signatures[info.signature];
  if (!runner) throw new Error(`The model file ${info.file} has no signature '${info.signature}'`);
  const names = runner.getInputDetails().map((d) => d.name).sort();
  const wanted = Object.keys(info.inputs).sort();
  if (names.join() !== wanted.join()) {
    throw new Error(`The model file ${info.file} takes inputs ${names}, but model.json says ${wanted}`);
  }
  site.runner = runner;
}

async function predict(inputs) {
  const tensors = {};
  for (const [name, shape] of Object.entries(site.info.inputs)) tensors[name] = new Tensor(inputs[name], shape);
  try {
    const results = await site.runner.run(tensors);
    const output = results[site.info.output].toTypedArray().slice();
    for (const t of Object.values(results)) t.delete();
    return output;
  } finally {
    for (const t of Object.values(tensors)) t.delete();
  }
}

/** A file -> {width, height, rgba}, refusing non-images and images above the pixel limit. */
async function readPhoto(file, what) {
  const url = URL.createObjectURL(file);
  let width, height;
  try {
    const img = new Image();
    img.src = url;
    await new Promise((resolve, reject) => {
      img.onload = resolve;
      img.onerror = () => reject(new Error(`${file.name} is not an image this browser can decode`));
    });
    [width, height] = [img.naturalWidth, img.naturalHeight];
  } finally {
    URL.revokeObjectURL(url);
  }
  const limit = site.info.max_pixels;
  if (width * height > limit) {
    throw new Error(
      `${file.name} is ${width}×${height} = ${pixels(width * height)}; ` +
      `this page colorizes ${what}s of up to ${pixels(limit)}. Scale it down first.`,
    );
  }
  let bitmap;
  try {
    bitmap = await createImageBitmap(file, { colorSpaceConversion: "none", premultiplyAlpha: "none" });
  } catch (err) {
    throw new Error(`${file.name} is not an image this browser can decode (${err.message || err})`);
  }
  const canvas = document.createElement("canvas");
  [canvas.width, canvas.height] = [bitmap.width, bitmap.height];
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
  return { width: canvas.width, height: canvas.height, rgba: data, name: file.name };
}

/** RGBA bytes -> a blob: URL of their PNG (RGB when every pixel is opaque, as kcolor writes it). */
function toBlobUrl(rgba, width, height) {
  const canvas = document.createElement("canvas");
  [canvas.width, canvas.height] = [width, height];
  let opaque = true;
  for (let i = 3; i < rgba.length && opaque; i += 4) opaque = rgba[i] === 255;
  canvas.getContext("2d", { alpha: !opaque }).putImageData(new ImageData(rgba, width, height), 0, 0);
  return new Promise((resolve, reject) =>
    canvas.toBlob((blob) => (blob ? resolve(URL.createObjectURL(blob)) : reject(new Error("PNG encoding failed"))), "image/png"),
  ).then((url) => {
    site.urls.push(url);
    return url;
  });
}

/** The photo's ITU-R 601 luma, the gray the model sees, as a preview of at most 1600 px. */
function grayPreview(photo) {
  const scale = Math.min(1, 1600 / Math.max(photo.width, photo.height));
  const [w, h] = [Math.max(1, Math.round(photo.width * scale)), Math.max(1, Math.round(photo.height * scale))];
  const rgba = new Uint8ClampedArray(w * h * 4);
  for (let y = 0; y < h; y++) {
    const sy = Math.min(photo.height - 1, Math.floor((y + 0.5) / scale));
    for (let x = 0; x < w; x++) {
      const sx = Math.min(photo.width - 1, Math.floor((x + 0.5) / scale));
      const i = (sy * photo.width + sx) * 4, o = (y * w + x) * 4;
      const a = photo.rgba[i + 3] / 255;
      const g = luma(photo.rgba[i], photo.rgba[i + 1], photo.rgba[i + 2]) * a + 255 * (1 - a);
      rgba[o] = rgba[o + 1] = rgba[o + 2] = g;
      rgba[o + 3] = 255;
    }
  }
  return toBlobUrl(rgba, w, h);
}

async function run() {
  const { io, image_size: size } = site.info;
  if (!site.photo) return setState("ready", "Choose a photo.");
  if (io.uses_reference && !site.reference) return setState("ready", "Now choose a color reference image.");
  setState("working", `Colorizing ${site.photo.name} (${site.photo.width}×${site.photo.height})…`);
  await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve)));
  const start = performance.now();
  const { rgba, timings } = await colorizePhoto(site.photo, predict, io, size, site.reference);
  const t = performance.now();
  for (const url of site.urls.splice(0)) URL.revokeObjectURL(url);
  const [pngUrl, grayUrl] = [await toBlobUrl(rgba, site.photo.width, site.photo.height), await grayPreview(site.photo)];
  timings.encode = performance.now() - t;
  timings.total = performance.now() - start;
  window.kcolor.last = { ...timings, width: site.photo.width, height: site.photo.height };
  out("colorized").src = pngUrl;
  out("gray").src = out("gray-overlay").src = grayUrl;
  const link = out("download");
  link.href = pngUrl;
  link.download = site.photo.name.replace(/\.[^.]*$/, "") + "_colorized.png";
  out("size").textContent = `${site.photo.width}×${site.photo.height}`;
  out("timing").textContent =
    `${timings.total.toFixed(0)} ms in all (model ${timings.model.toFixed(1)} ms at ${size}×${size}, ` +
    `resize and color ${(timings.prepare + timings.finish).toFixed(0)} ms, PNG ${timings.encode.toFixed(0)} ms)`;
  $(".result").hidden = false;
  setState("done", `Colorized ${site.photo.name}.`);
}

async function take(kind, file) {
  if (!file || !site.runner) return;
  try {
    setState("working", `Reading ${file.name}…`);
    site[kind] = null;
    site[kind] = await readPhoto(file, kind === "photo" ? "photo" : "reference image");
    await run();
  } catch (err) {
    fail(err.message || String(err));
  }
}

function wire() {
  for (const kind of ["photo", "reference"]) {
    const input = $(`input[data-input="${kind}"]`);
    input.addEventListener("change", () => take(kind, input.files[0]));
    const zone = $(`[data-drop="${kind}"]`);
    zone.addEventListener("dragover", (e) => {
      e.preventDefault();
      zone.classList.add("over");
    });
    zone.addEventListener("dragleave", () => zone.classList.remove("over"));
    zone.addEventListener("drop", (e) => {
      e.preventDefault();
      zone.classList.remove("over");
      take(kind, e.dataTransfer.files[0]);
    });
  }
  const slider = $('input[data-input="compare"]');
  const overlay = out("gray-overlay");
  const wipe = () => (overlay.style.clipPath = `inset(0 0 0 ${slider.value}%)`);
  slider.addEventListener("input", wipe);
  wipe();
}

wire();
loadModel()
  .then(() => setState("ready", "Choose a photo."))
  .catch((err) => fail(err.message || String(err)));
