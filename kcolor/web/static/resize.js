// The one resize of kcolor, for the browser: tf.image.resize(x, size, "bilinear", antialias=True).
//
// TensorFlow computes that resize with its ScaleAndTranslate kernel and a triangle
// filter: each output pixel x samples the input at (x + 0.5) / scale (scale = out / in,
// in float32); when shrinking, the triangle is widened by 1 / scale so every input pixel
// contributes (antialiasing); when enlarging it stays one pixel wide, which is plain
// half-pixel-centre bilinear. Weights outside the image are dropped and the rest are
// renormalised to sum to one. The filter is separable: one pass along the width, one
// along the height.
//
// Images are interleaved Float32Array (h * w * c), row-major.
//
// Example:
//   const small = resize(rgb, 480, 640, 3, 64, 64);   // (64, 64, 3)

/** The weights of one axis: output i reads inputs starts[i] .. starts[i] + size - 1. */
export function axisWeights(inSize, outSize) {
  const scale = Math.fround(outSize / inSize);
  const invScale = Math.fround(1 / scale);
  const kernelScale = Math.max(invScale, 1); // the triangle's radius is 1 input pixel, widened when shrinking
  const size = Math.min(2 * Math.ceil(kernelScale) + 1, inSize);
  const starts = new Int32Array(outSize);
  const weights = new Float32Array(outSize * size);
  for (let x = 0; x < outSize; x++) {
    const sample = (x + 0.5) * invScale;
    const first = Math.min(Math.max(Math.ceil(sample - kernelScale - 0.5), 0), inSize - 1);
    const last = Math.min(Math.max(Math.floor(sample + kernelScale - 0.5), 0), inSize - 1);
    let total = 0;
    for (let s = first; s <= last; s++) {
      const w = Math.max(0, 1 - Math.abs((s + 0.5 - sample) / kernelScale));
      weights[x * size + s - first] = w;
      total += w;
    }
    if (total > 0) for (let k = 0; k < size; k++) weights[x * size + k] /= total;
    starts[x] = first;
  }
  return { starts, weights, size, inSize, outSize };
}

/** Resize each row of an image along the width: rowAt(y) gives row y (w * c values). */
export function resizeWidth(rowAt, h, w, c, outW) {
  const ax = axisWeights(w, outW);
  const out = new Float32Array(h * outW * c);
  for (let y = 0; y < h; y++) {
    const row = rowAt(y);
    for (let x = 0; x < outW; x++) {
      const o = (y * outW + x) * c;
      for (let k = 0; k < ax.size; k++) {
        const wk = ax.weights[x * ax.size + k];
        if (wk === 0) continue;
        const i = (ax.starts[x] + k) * c;
        for (let ch = 0; ch < c; ch++) out[o + ch] += wk * row[i + ch];
      }
    }
  }
  return out;
}

/** Output row y of the height pass over `src` (h * w * c), written into `row` (w * c). */
export function heightRow(src, w, c, ax, y, row) {
  row.fill(0);
  for (let k = 0; k < ax.size; k++) {
    const wk = ax.weights[y * ax.size + k];
    if (wk === 0) continue;
    const base = (ax.starts[y] + k) * w * c;
    for (let i = 0; i < w * c; i++) row[i] += wk * src[base + i];
  }
  return row;
}

/** Resize an interleaved image (h, w, c) to (outH, outW, c). */
export function resize(src, h, w, c, outH, outW) {
  const rowLen = w * c;
  const wide = resizeWidth((y) => src.subarray(y * rowLen, (y + 1) * rowLen), h, w, c, outW);
  const ax = axisWeights(h, outH);
  const out = new Float32Array(outH * outW * c);
  for (let y = 0; y < outH; y++) heightRow(wide, outW, c, ax, y, out.subarray(y * outW * c, (y + 1) * outW * c));
  return out;
}
