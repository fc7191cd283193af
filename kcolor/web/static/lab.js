// sRGB <-> CIE L*a*b* (D65, 2° observer): the maths of `kcolor.color`, for the browser.
//
// The same constants and branches as kcolor.color (which follows scikit-image's
// rgb2lab / lab2rgb): sRGB companding, the sRGB -> XYZ matrix, the D65 white point and
// scikit-image's rounded f(t) threshold. RGB is in [0, 1]; L in [0, 100], a and b about
// [-128, 127]. Gray is ITU-R 601 luma. A model's normalised Lab is L / 50 - 1, ab / 128.
//
// Example:
//   const lab = rgbToLab(0.2, 0.5, 0.7);        // [L, a, b]
//   const rgb = labToRgb(lab[0], lab[1], lab[2]); // back to [r, g, b], clipped to [0, 1]

// sRGB primaries -> CIE XYZ (D65), scikit-image's `xyz_from_rgb`.
export const XYZ_FROM_RGB = [
  [0.412453, 0.35758, 0.180423],
  [0.212671, 0.71516, 0.072169],
  [0.019334, 0.119193, 0.950227],
];
export const RGB_FROM_XYZ = invert3(XYZ_FROM_RGB);
export const D65 = [0.95047, 1.0, 1.08883];
export const LUMA_601 = [0.299, 0.587, 0.114];

// Lab's f(t) switches from a cube root to a line below (6/29)^3; scikit-image rounds it.
const EPS = 0.008856;
const KAPPA = 7.787;
const F_THRESHOLD = 0.2068966; // f at EPS

function invert3(m) {
  const [[a, b, c], [d, e, f], [g, h, i]] = m;
  const A = e * i - f * h, B = -(d * i - f * g), C = d * h - e * g;
  const det = a * A + b * B + c * C;
  return [
    [A / det, -(b * i - c * h) / det, (b * f - c * e) / det],
    [B / det, (a * i - c * g) / det, -(a * f - c * d) / det],
    [C / det, -(a * h - b * g) / det, (a * e - b * d) / det],
  ];
}

export function luma(r, g, b) {
  return LUMA_601[0] * r + LUMA_601[1] * g + LUMA_601[2] * b;
}

export function srgbToLinear(v) {
  return v > 0.04045 ? Math.pow((v + 0.055) / 1.055, 2.4) : v / 12.92;
}

export function linearToSrgb(v) {
  return v > 0.0031308 ? 1.055 * Math.pow(v, 1 / 2.4) - 0.055 : v * 12.92;
}

function f(t) {
  return t > EPS ? Math.cbrt(t) : KAPPA * t + 16 / 116;
}

function fInverse(t) {
  return t > F_THRESHOLD ? t * t * t : (t - 16 / 116) / KAPPA;
}

const clip01 = (v) => (v < 0 ? 0 : v > 1 ? 1 : v);

/** sRGB in [0, 1] -> [L, a, b]. */
export function rgbToLab(r, g, b) {
  const lr = srgbToLinear(r), lg = srgbToLinear(g), lb = srgbToLinear(b);
  const m = XYZ_FROM_RGB;
  const fx = f((m[0][0] * lr + m[0][1] * lg + m[0][2] * lb) / D65[0]);
  const fy = f((m[1][0] * lr + m[1][1] * lg + m[1][2] * lb) / D65[1]);
  const fz = f((m[2][0] * lr + m[2][1] * lg + m[2][2] * lb) / D65[2]);
  return [116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)];
}

/** [L, a, b] -> sRGB [r, g, b], clipped to [0, 1] unless `clip` is false. */
export function labToRgb(L, a, b, clip = true) {
  const fy = (L + 16) / 116;
  const fx = a / 500 + fy;
  const fz = Math.max(fy - b / 200, 0); // scikit-image clips negative z first
  const x = fInverse(fx) * D65[0], y = fInverse(fy) * D65[1], z = fInverse(fz) * D65[2];
  const m = RGB_FROM_XYZ;
  const rgb = [
    linearToSrgb(m[0][0] * x + m[0][1] * y + m[0][2] * z),
    linearToSrgb(m[1][0] * x + m[1][1] * y + m[1][2] * z),
    linearToSrgb(m[2][0] * x + m[2][1] * y + m[2][2] * z),
  ];
  return clip ? rgb.map(clip01) : rgb;
}

/** The lightness L in [0, 100] of sRGB in [0, 1] (the first value of `rgbToLab`). */
export function lightness(r, g, b) {
  return lightnessOfLinear(srgbToLinear(r), srgbToLinear(g), srgbToLinear(b));
}

/** srgbToLinear(k / 255) for every 8-bit level k: the lightness of 8-bit pixels without a power per pixel. */
export const SRGB8_TO_LINEAR = Float64Array.from({ length: 256 }, (_, k) => srgbToLinear(k / 255));

// The linear values where the 8-bit sRGB level changes: level k covers
// [srgbToLinear((k - 0.5) / 255), srgbToLinear((k + 0.5) / 255)).
const LEVEL_EDGES = Float64Array.from({ length: 255 }, (_, k) => srgbToLinear((k + 0.5) / 255));

/**
 * round(clip(linearToSrgb(v)) * 255) without a power: a binary search of the level
 * edges (the sRGB curve is monotonic, so this is exact up to ties at an edge).
 */
export function linearToSrgb8(v) {
  let lo = 0, hi = 255; // the answer is the number of edges <= v
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (LEVEL_EDGES[mid] <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// The per-pixel functions below read the constants as plain numbers.
const [, [Y0, Y1, Y2]] = XYZ_FROM_RGB;
const [[R0, R1, R2], [G0, G1, G2], [B0, B1, B2]] = RGB_FROM_XYZ;
const [WX, WY, WZ] = D65;

/** The lightness L in [0, 100] of linear RGB (the first value of `rgbToLab`, from linear light). */
export function lightnessOfLinear(lr, lg, lb) {
  return 116 * f((Y0 * lr + Y1 * lg + Y2 * lb) / WY) - 16;
}

/** [L, a, b] -> 8-bit sRGB, written into out[o], out[o + 1], out[o + 2] (`labToRgb`, then to_uint8). */
export function labToRgb8Into(L, a, b, out, o) {
  const fy = (L + 16) / 116;
  const x = fInverse(a / 500 + fy) * WX;
  const y = fInverse(fy) * WY;
  const z = fInverse(Math.max(fy - b / 200, 0)) * WZ;
  out[o] = linearToSrgb8(R0 * x + R1 * y + R2 * z);
  out[o + 1] = linearToSrgb8(G0 * x + G1 * y + G2 * z);
  out[o + 2] = linearToSrgb8(B0 * x + B1 * y + B2 * z);
}

/** Interleaved RGB (n * 3) -> interleaved Lab (n * 3), as Float64Array. */
export function rgbToLabArray(rgb) {
  const out = new Float64Array(rgb.length);
  for (let i = 0; i < rgb.length; i += 3) out.set(rgbToLab(rgb[i], rgb[i + 1], rgb[i + 2]), i);
  return out;
}

/** Interleaved Lab (n * 3) -> interleaved RGB (n * 3), clipped, as Float64Array. */
export function labToRgbArray(lab, clip = true) {
  const out = new Float64Array(lab.length);
  for (let i = 0; i < lab.length; i += 3) out.set(labToRgb(lab[i], lab[i + 1], lab[i + 2], clip), i);
  return out;
}
