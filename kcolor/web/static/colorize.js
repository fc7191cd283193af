// Full-resolution colorization around a model run, for the browser: the path of
// kcolor.inference (prepare -> model at S x S -> finish), on typed arrays.
//
// 1. The photo (RGBA bytes at its own H x W; transparency composited onto white, as
//    kcolor.data.images does) is resized to S x S with kcolor's one resize (resize.js)
//    and turned into the model's inputs as its io kind says (gray luma, gray x3,
//    normalised L, or the RGB itself; plus the resized reference for reference models).
// 2. `predict(inputs)` runs the model (LiteRT.js in app.js).
// 3. The output becomes chroma ab / 128 (an RGB output is converted to Lab first), which
//    is resized to H x W and put onto the photo's own lightness L; alpha is kept.
//
// The photo is read one row at a time and the result is written into a new RGBA array,
// so the memory beyond the input and output bytes is O((H + W) * S).
//
// An io kind is the object `kcolor web` writes into model.json from kcolor.models.io:
//   {name, input_name, input_channels, output: "rgb" | "ab", uses_reference, is_autoencoder}
//
// Example:
//   const rgba = await colorizePhoto(photo, predict, io, 64);   // photo: {width, height, rgba}

import { SRGB8_TO_LINEAR, labToRgb8Into, lightnessOfLinear, luma, rgbToLab, srgbToLinear } from "./lab.js";
import { axisWeights, heightRow, resizeWidth } from "./resize.js";

/** Row y of a photo as composited float RGB in [0, 1] (w * 3 values). */
function rgbRow(photo, y, row) {
  const { width, rgba } = photo;
  for (let x = 0, i = y * width * 4; x < width; x++, i += 4) {
    const a = rgba[i + 3] / 255;
    for (let ch = 0; ch < 3; ch++) row[3 * x + ch] = (rgba[i + ch] / 255) * a + (1 - a);
  }
  return row;
}

/** The photo resized to S x S: float RGB (S * S * 3). */
export function shrinkPhoto(photo, size) {
  const row = new Float32Array(photo.width * 3);
  const wide = resizeWidth((y) => rgbRow(photo, y, row), photo.height, photo.width, 3, size);
  const ax = axisWeights(photo.height, size);
  const out = new Float32Array(size * size * 3);
  for (let y = 0; y < size; y++) heightRow(wide, size, 3, ax, y, out.subarray(y * size * 3, (y + 1) * size * 3));
  return out;
}

/** The model's inputs from the S x S RGB (and reference): {name: Float32Array (S * S * C)}. */
export function modelInputs(small, io, reference) {
  const n = small.length / 3;
  let x;
  if (io.is_autoencoder) {
    x = Float32Array.from(small);
  } else if (io.output === "ab") {
    x = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = rgbToLab(small[3 * i], small[3 * i + 1], small[3 * i + 2])[0] / 50 - 1;
  } else {
    const c = io.input_channels;
    x = new Float32Array(n * c);
    for (let i = 0; i < n; i++) {
      const g = luma(small[3 * i], small[3 * i + 1], small[3 * i + 2]);
      for (let ch = 0; ch < c; ch++) x[i * c + ch] = g;
    }
  }
  const inputs = { [io.input_name]: x };
  if (io.uses_reference) {
    if (!reference) throw new Error(`io ${io.name} needs a reference image`);
    inputs.reference = reference;
  }
  return inputs;
}

/** A model output (S * S * C) -> chroma ab / 128 (S * S * 2). */
export function outputToAb(output, io) {
  if (io.output === "ab") return Float32Array.from(output);
  const n = output.length / 3;
  const ab = new Float32Array(n * 2);
  const clip = (v) => (v < 0 ? 0 : v > 1 ? 1 : v);
  for (let i = 0; i < n; i++) {
    const lab = rgbToLab(clip(output[3 * i]), clip(output[3 * i + 1]), clip(output[3 * i + 2]));
    ab[2 * i] = lab[1] / 128;
    ab[2 * i + 1] = lab[2] / 128;
  }
  return ab;
}

/** Linear RGB of pixel i (RGBA bytes), composited onto white, into lin[0..2]. */
function linearPixel(rgba, i, lin) {
  const a = rgba[i + 3];
  for (let ch = 0; ch < 3; ch++) {
    // Opaque pixels (nearly all) take the 8-bit table; others are composited first.
    lin[ch] = a === 255 ? SRGB8_TO_LINEAR[rgba[i + ch]] : srgbToLinear((rgba[i + ch] / 255) * (a / 255) + (1 - a / 255));
  }
  return lin;
}

/** Put chroma ab / 128 (S * S * 2) onto the photo's own lightness: RGBA bytes at H x W. */
export function transferChroma(photo, ab, size) {
  const { width, height, rgba } = photo;
  const abRows = (y) => ab.subarray(y * size * 2, (y + 1) * size * 2);
  const wide = resizeWidth(abRows, size, size, 2, width); // (S, W, 2)
  const ax = axisWeights(size, height);
  const abRow = new Float32Array(width * 2);
  const lin = new Float64Array(3);
  const out = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    heightRow(wide, width, 2, ax, y, abRow);
    for (let x = 0, o = y * width * 4; x < width; x++, o += 4) {
      linearPixel(rgba, o, lin);
      const L = lightnessOfLinear(lin[0], lin[1], lin[2]);
      labToRgb8Into(L, abRow[2 * x] * 128, abRow[2 * x + 1] * 128, out, o);
      out[o + 3] = rgba[o + 3];
    }
  }
  return out;
}

/**
 * Colorize a photo at its own size.
 *
 * @param photo {width, height, rgba: Uint8ClampedArray}
 * @param predict async (inputs {name: Float32Array}) -> Float32Array, the model at S x S
 * @param io the model's io kind (see the top of this file)
 * @param size the model's input size S
 * @param reference a reference photo (reference models only)
 * @returns {rgba, timings: {prepare, model, finish}} (milliseconds)
 */
export async function colorizePhoto(photo, predict, io, size, reference = null) {
  const t0 = performance.now();
  const small = shrinkPhoto(photo, size);
  const inputs = modelInputs(small, io, reference ? shrinkPhoto(reference, size) : null);
  const t1 = performance.now();
  const output = await predict(inputs);
  const t2 = performance.now();
  const rgba = transferChroma(photo, outputToAb(output, io), size);
  const t3 = performance.now();
  return { rgba, timings: { prepare: t1 - t0, model: t2 - t1, finish: t3 - t2 } };
}
