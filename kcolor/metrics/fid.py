"""Fréchet Inception Distance (Heusel et al. 2017, "GANs Trained by a Two Time-Scale Update
Rule Converge to a Local Nash Equilibrium", arXiv:1706.08500).

FID = |mu_a - mu_b|^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)) between Gaussians fitted to
two sets of features. Paper 004 (Bana, Loya and Kulkarni, "ViT-Inception-GAN for Image
Colourising", 2021, arXiv:2106.06321) compares its models with it.

Which network, and how many images, decide the number:
- Published FIDs use one specific Inception graph (TensorFlow's 2015-12-05 graph, which
  pytorch-fid and clean-fid port). Here the features are keras.applications'
  InceptionV3 pool features (2048-d at 299x299), whose weights differ from that graph:
  numbers are comparable with each other, not with published tables. Every result says
  which network produced it (`features`), and features from `weights=None` (random,
  offline) are flagged `comparable=False`.
- FID is biased upwards at small N, and below 2048 images the 2048x2048 covariance is
  rank-deficient: `fid` warns, and every result carries its N. `FIDSets(limit=N)`
  (`kcolor evaluate --fid-images N`, config field `fid_images`) keeps the first N images
  of each set and records the N it saw beside the number it was offered.

The matrix square root term is computed without complex numbers: for symmetric
positive semi-definite S_a, S_b, Tr((S_a S_b)^(1/2)) is the sum of the square roots of
the eigenvalues of the symmetric matrix S_a^(1/2) S_b S_a^(1/2) (S_a^(1/2) from an
eigendecomposition, tiny negative eigenvalues from round-off clipped to 0), which is
stable for singular covariances. When N < D the same trace is the nuclear norm of the
N_a x N_b cross-Gram matrix of the centred features (exact, and far cheaper than two
2048x2048 eigendecompositions).

Example:
    from kcolor.metrics import fid, frechet_distance
    frechet_distance(features_a, features_b)                 # float, [N, D] arrays
    fid(real_rgb, fake_rgb, weights="imagenet")              # {"fid": ..., "n_real": ..., ...}
"""

import functools
import warnings

import numpy as np

FEATURE_DIM = 2048
MIN_RELIABLE_N = FEATURE_DIM  # below it the covariance is rank-deficient


def _centered(features, what):
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"frechet_distance: {what} must be an [N, D] array with N >= 2. Received shape {x.shape}")
    mean = x.mean(axis=0)
    return mean, (x - mean) / np.sqrt(x.shape[0] - 1)  # cov = centered.T @ centered


def _sqrt_psd(matrix):
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2.0)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def _trace_sqrt_eig(ca, cb):
    """Tr((S_a S_b)^(1/2)) from the eigenvalues of S_a^(1/2) S_b S_a^(1/2) (D x D)."""
    root_a = _sqrt_psd(ca.T @ ca)
    middle = root_a @ (cb.T @ cb) @ root_a
    return np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2.0), 0.0, None)).sum()


def _trace_sqrt_gram(ca, cb):
    """The same trace from the N_a x N_b cross-Gram matrix: with S = C^T C, the non-zero
    eigenvalues of S_a S_b are the squared singular values of C_a C_b^T, so the trace is
    its nuclear norm. Exact, and much smaller than D x D when N < D."""
    return np.linalg.svd(ca @ cb.T, compute_uv=False).sum()


def frechet_distance(features_a, features_b):
    """Fréchet distance between Gaussians fitted to two `[N, D]` feature arrays (float).

    Example:
        frechet_distance(np.random.randn(500, 64), np.random.randn(400, 64) + 1.0)
    """
    mu_a, ca = _centered(features_a, "features_a")
    mu_b, cb = _centered(features_b, "features_b")
    if mu_a.shape != mu_b.shape:
        raise ValueError(f"frechet_distance: feature dimensions differ: {mu_a.shape[0]} and {mu_b.shape[0]}")
    small = min(len(ca), len(cb)) < mu_a.shape[0]
    trace_sqrt = _trace_sqrt_gram(ca, cb) if small else _trace_sqrt_eig(ca, cb)
    diff = mu_a - mu_b
    value = diff @ diff + (ca * ca).sum() + (cb * cb).sum() - 2.0 * trace_sqrt
    return float(max(value, 0.0))


@functools.lru_cache(maxsize=4)
def _feature_network(weights):
    """The pool-feature network and its compiled forward pass (traced once per process)."""
    import tensorflow as tf

    from kcolor.pixels import resize
    from kcolor.models.inception import build_inception_v3

    network = build_inception_v3(include_top=False, weights=weights, pooling="avg", name="fid_inception_v3")

    @tf.function(input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32)], reduce_retracing=True)
    def forward(images):
        x = resize(tf.clip_by_value(images, 0.0, 1.0), 299)
        x = x * 2.0 - 1.0  # keras.applications' InceptionV3 preprocessing ("tf" mode)
        return network(x, training=False)

    return network, forward


class InceptionFeatures:
    """InceptionV3 pool features (2048-d) of RGB images in [0, 1], resized to 299x299.

    `weights`: "imagenet" (default), None/"none" (random, offline, not comparable) or a
    weights file of InceptionV3 without its top. The network is built and its forward
    pass traced once per process and weights.

    Example:
        extract = InceptionFeatures("none")
        feats = extract(rgb_batch)          # np.ndarray [B, 2048], float64
    """

    def __init__(self, weights="imagenet"):
        from kcolor.models.inception import weights_label
        from kcolor.models.weights import parse_weights

        self.weights = parse_weights(weights)
        self.label = weights_label(self.weights) + " pool features (2048-d, 299x299)"
        self.comparable = self.weights is not None
        self.network, self._forward = _feature_network(self.weights)

    def __call__(self, images):
        import tensorflow as tf

        x = tf.convert_to_tensor(images, dtype=tf.float32)
        if x.shape.rank != 4 or x.shape[-1] != 3:
            raise ValueError(f"InceptionFeatures: expected RGB images [B, H, W, 3] in [0, 1]; got shape {x.shape}")
        return np.asarray(self._forward(x), dtype=np.float64)


def _batches(images, batch_size):
    if hasattr(images, "shape") and len(getattr(images, "shape", ())) == 4:
        for start in range(0, int(images.shape[0]), batch_size):
            yield images[start : start + batch_size]
    else:
        yield from images


def small_n_warning(n):
    """The warning text for FID on `n` < 2048 images, or None."""
    if n >= MIN_RELIABLE_N:
        return None
    return (
        f"FID on N={n} images (< {MIN_RELIABLE_N}): the {FEATURE_DIM}x{FEATURE_DIM} covariance is rank-deficient "
        "and FID is biased upwards; compare only numbers computed at the same N"
    )


def fid(real_images, fake_images, *, weights="imagenet", batch_size=32, extractor=None):
    """FID between two image sets (RGB in [0, 1]: `[N, H, W, 3]` arrays or iterables of batches).

    Returns `{"fid", "n_real", "n_fake", "features", "comparable", "warning"}`: the
    distance, the image counts, the feature network's label, whether the features can be
    compared with other ImageNet-weight runs (False for random weights), and the
    small-N warning (also issued with `warnings.warn`) or None.

    Example:
        result = fid(real, fake, weights="none")       # offline: not comparable
        print(f"FID {result['fid']:.2f} (N={result['n_fake']}, {result['features']})")
    """
    extractor = extractor or InceptionFeatures(weights)
    real = np.concatenate([extractor(b) for b in _batches(real_images, batch_size)])
    fake = np.concatenate([extractor(b) for b in _batches(fake_images, batch_size)])
    warning = small_n_warning(min(len(real), len(fake)))
    if warning:
        warnings.warn(warning, stacklevel=2)
    return {
        "fid": frechet_distance(real, fake),
        "n_real": int(len(real)),
        "n_fake": int(len(fake)),
        "features": extractor.label,
        "comparable": extractor.comparable,
        "warning": warning,
    }


class FIDSets:
    """Features of several image sets collected batch by batch, then FID of each against one.

    `kcolor evaluate --fid` feeds it the ground truth and every row's colorizations of
    the same test images, so memory holds features, never the images. With `limit=N`
    each set keeps the features of its first N images only (every set is fed the same
    images in the same order, so each row's FID is on the same N); the images past N are
    counted (`offered`), not kept.

    Example:
        sets = FIDSets("none", limit=10000)
        sets.add("ground truth", truth_batch); sets.add("model", pred_batch)
        summary = sets.summary("ground truth")      # {"rows": {"model": ...}, "count": ..., ...}
        print(format_fid(summary))
    """

    def __init__(self, weights="imagenet", extractor=None, limit=None):
        if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
            raise ValueError(f"FIDSets: limit must be a positive number of images or None. Received: limit={limit!r}")
        self.extractor = extractor or InceptionFeatures(weights)
        self.limit = limit
        self.features = {}
        self.offered = {}

    def add(self, name, images):
        seen = self.offered.get(name, 0)
        n = int(images.shape[0])
        self.offered[name] = seen + n
        take = n if self.limit is None else max(0, min(n, self.limit - seen))
        if take:
            self.features.setdefault(name, []).append(self.extractor(images[:take]))

    def _warning(self, count, offered):
        short = None
        if self.limit is not None and offered < self.limit:
            short = f"FID was asked for {self.limit} images (fid_images) but the scored set held {offered}: FID on {count}"
        found = [w for w in (short, small_n_warning(count)) if w]
        return "; ".join(found) or None

    def summary(self, reference):
        """`{"reference", "count", "requested", "offered", "features", "comparable", "warning", "rows"}`:
        `count` is the number of images FID saw, `requested` the limit (None: every
        image), `offered` the number of images fed."""
        real = np.concatenate(self.features[reference])
        rows = {}
        for name, parts in self.features.items():
            if name != reference:
                rows[name] = frechet_distance(real, np.concatenate(parts))
        count, offered = int(len(real)), int(self.offered[reference])
        warning = self._warning(count, offered)
        if warning:
            warnings.warn(warning, stacklevel=2)
        return {
            "reference": reference,
            "count": count,
            "requested": self.limit,
            "offered": offered,
            "features": self.extractor.label,
            "comparable": self.extractor.comparable,
            "warning": warning,
            "rows": rows,
        }


def format_fid(summary):
    """Markdown: FID of each row against the reference, with N and the feature network."""
    lines = ["| model | FID | N |", "|---|---|---|"]
    lines += [f"| {name} | {value:.2f} | {summary['count']} |" for name, value in summary["rows"].items()]
    offered = summary.get("offered", summary["count"])
    which = f"the first {summary['count']} of the {offered} scored" if offered > summary["count"] else f"the same {summary['count']}"
    note = (
        f"\nFID against the {summary['reference']} on {which} images; features: "
        f"{summary['features']}. Not the TF 2015 Inception graph of published FIDs: compare these numbers "
        "with each other, not with papers."
    )
    if not summary["comparable"]:
        note += " Random (weights=None) features: not comparable with any ImageNet-feature FID."
    if summary["warning"]:
        note += f" Warning: {summary['warning']}."
    return "\n".join(lines) + note


__all__ = ["FEATURE_DIM", "FIDSets", "InceptionFeatures", "fid", "format_fid", "frechet_distance", "small_n_warning"]
