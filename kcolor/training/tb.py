"""TensorBoard scalars and images written with TensorFlow's core summary op.

`tf.summary.scalar` and `tf.summary.image` live in the `tensorboard` package, which
TensorFlow no longer installs. The event files they write are plain
`tf.summary.write` records tagged with a plugin name, so kcolor writes the same records
itself: TensorBoard (installed anywhere) reads the run's `tb/` folder as usual, and
training needs no TensorBoard install.

Example:
    writer = tf.summary.create_file_writer("runs/x/tb")
    with writer.as_default(step=10):
        scalar("train/loss", 0.25)
        image("samples", grid[None])          # [1, H, W, 3] in [0, 1]
"""

import tensorflow as tf
from tensorflow.core.framework import summary_pb2

# TensorBoard's plugin names and data classes (tensorboard/compat/proto/summary.proto).
_DATA_CLASS_SCALAR = 1
_DATA_CLASS_BLOB_SEQUENCE = 3


def _metadata(plugin, data_class):
    return summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name=plugin, content=b""),
        data_class=data_class,
    )


def scalar(name, value, step=None):
    """Write one scalar under `name` with the default writer (TensorBoard "scalars")."""
    return tf.summary.write(
        name,
        tf.cast(value, tf.float32),
        step=step,
        metadata=_metadata("scalars", _DATA_CLASS_SCALAR),
    )


def image(name, images, step=None, max_outputs=3):
    """Write `images` `[N, H, W, C]` in [0, 1] under `name` (TensorBoard "images")."""
    images = tf.convert_to_tensor(images)[:max_outputs]
    encoded = tf.map_fn(
        lambda x: tf.io.encode_png(tf.image.convert_image_dtype(x, tf.uint8, saturate=True)),
        images,
        fn_output_signature=tf.string,
    )
    shape = tf.shape(images)
    header = tf.stack([tf.strings.as_string(shape[2]), tf.strings.as_string(shape[1])])
    return tf.summary.write(
        name,
        tf.concat([header, encoded], axis=0),
        step=step,
        metadata=_metadata("images", _DATA_CLASS_BLOB_SEQUENCE),
    )


__all__ = ["image", "scalar"]
