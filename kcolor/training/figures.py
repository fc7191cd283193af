"""The sample grid's "as colorized" column: what `kcolor colorize` would deliver.

"As colorized" is the prediction's chroma laid on the photo's own lightness by
`kcolor.inference.finish`, the function every inference path uses. It is sharper than
the raw prediction, whose lightness the network redraws. The pictures themselves are
drawn by `kcolor.pictures`.

Example:
    colorized = as_colorized(truth, inputs, output, io)
    save_sample_grid(gray, prediction, truth, "runs/x/samples.png", colorized=colorized)
"""

import numpy as np
import tensorflow as tf

from kcolor.inference import finish


def as_colorized(photos, inputs, output, io):
    """Each image as `kcolor colorize` delivers it: predicted chroma on the photo's lightness.

    Args:
        photos: the RGB images the inputs were made from, (N, S, S, 3) in [0, 1].
        inputs: the model's inputs (`io.inputs` dict), batch N.
        output: the colorizer's output on them, (N, S, S, C).
        io: the model's io spec.

    Returns:
        float32 (N, S, S, 3) in [0, 1], one `kcolor.inference.finish` per image.
    """
    photos = tf.convert_to_tensor(photos, tf.float32)
    output = tf.convert_to_tensor(output, tf.float32)
    return np.stack(
        [
            finish(photos[i], {k: v[i : i + 1] for k, v in inputs.items()}, output[i : i + 1], io).numpy()
            for i in range(len(photos))
        ]
    )


__all__ = ["as_colorized"]
