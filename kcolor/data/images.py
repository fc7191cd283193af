"""Per-image functions shared by every data source: decode, resize, convert.

All of them are TensorFlow ops on one image, so they run inside `tf.data.Dataset.map`
(graph mode, in parallel) as well as eagerly (when TFRecord shards are written).

Decoding rules (the same for image folders, TFRecord shards and tensorflow-datasets):

- JPEG, PNG, GIF (first frame) and BMP are read by TensorFlow's own decoders.
- Gray images are replicated to three channels.
- PNG with transparency (gray+alpha or RGBA) is composited onto white; the fourth
  channel of a 32-bit BMP is dropped (it is often unused and zero).
- 16-bit PNG keeps its full precision until it is resized and stored as 8 bits.
- A JPEG that is much larger than the size it will be resized to is decoded at
  1/2, 1/4 or 1/8 scale (libjpeg's DCT scaling), which is faster and still leaves at
  least `min_side` pixels on each side.

Images are resized to a square `size x size`, as the papers do ("resized to 128x128",
"resized to 256x256"); the aspect ratio is not kept. Shrinking averages areas (no
aliasing), enlarging is bilinear.

Example:
    rgb = decode_image(tf.io.read_file("photo.jpg"))      # float32 [H, W, 3] in [0, 1]
    small = to_uint8(resize_square(rgb, 64))              # uint8 [64, 64, 3]
"""

import tensorflow as tf

_PNG_MAGIC = b"\x89PNG"


def image_format(data) -> str:
    """The container format of encoded image bytes: jpeg, png, gif, bmp or unknown."""
    head = bytes(data[:4])
    if head[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if head == _PNG_MAGIC:
        return "png"
    if head[:3] == b"GIF":
        return "gif"
    if head[:2] == b"BM":
        return "bmp"
    return "unknown"


def _jpeg_ratio_index(data, min_side):
    # Largest DCT scale (1, 2, 4, 8 -> index 0..3) that keeps both sides >= min_side.
    shape = tf.image.extract_jpeg_shape(data)
    short = tf.minimum(shape[0], shape[1])
    index = tf.constant(0)
    for i, ratio in enumerate((2, 4, 8), start=1):
        index = tf.where(short >= min_side * ratio, i, index)
    return index


def _decode_jpeg(data, min_side):
    if min_side is None:
        rgb = tf.io.decode_jpeg(data, channels=3)
    else:
        index = _jpeg_ratio_index(data, min_side)
        rgb = tf.switch_case(
            index,
            [lambda r=r: tf.io.decode_jpeg(data, channels=3, ratio=r) for r in (1, 2, 4, 8)],
        )
    return tf.image.convert_image_dtype(rgb, tf.float32)


def _decode_other(data):
    img = tf.io.decode_image(data, channels=0, dtype=tf.float32, expand_animations=False)
    shape = tf.shape(img)
    height, width, channels = shape[0], shape[1], shape[2]
    is_png = tf.equal(tf.strings.substr(data, 0, 4), _PNG_MAGIC)
    # PNG with 2 (gray+alpha) or 4 (RGBA) channels carries transparency.
    has_alpha = tf.logical_and(is_png, tf.equal(channels % 2, 0))
    n_color = tf.where(channels >= 3, 3, 1)
    color = tf.broadcast_to(img[:, :, :n_color], tf.stack([height, width, 3]))
    alpha = tf.cond(
        has_alpha,
        lambda: img[:, :, channels - 1 : channels],
        lambda: tf.ones(tf.stack([height, width, 1]), tf.float32),
    )
    return color * alpha + (1.0 - alpha)


def decode_image(data, min_side=None):
    """Encoded JPEG/PNG/GIF/BMP bytes (scalar tf.string) -> float32 RGB [H, W, 3] in [0, 1].

    Args:
        data: a scalar string tensor holding the encoded file.
        min_side: when set, a large JPEG may be decoded at reduced scale as long as both
            sides stay >= `min_side` (other formats are always decoded in full).
    """
    data = tf.convert_to_tensor(data, tf.string)
    is_jpeg = tf.equal(tf.strings.substr(data, 0, 3), b"\xff\xd8\xff")
    rgb = tf.cond(is_jpeg, lambda: _decode_jpeg(data, min_side), lambda: _decode_other(data))
    return tf.ensure_shape(rgb, [None, None, 3])


def resize_square(rgb, size):
    """Resize float RGB [H, W, 3] to [size, size, 3].

    Shrinking uses area averaging (a box filter: antialiased, and about twice as fast
    as `antialias=True` bilinear in `tf.data`); enlarging uses bilinear interpolation;
    an image already `size x size` is returned as it is.
    """
    rgb = tf.cast(rgb, tf.float32)
    shape = tf.shape(rgb)
    same = tf.logical_and(tf.equal(shape[0], size), tf.equal(shape[1], size))
    shrink = tf.logical_and(shape[0] >= size, shape[1] >= size)
    out = tf.case(
        [
            (same, lambda: rgb),
            (shrink, lambda: tf.image.resize(rgb, [size, size], method="area")),
        ],
        default=lambda: tf.image.resize(rgb, [size, size], method="bilinear"),
        exclusive=False,
    )
    return tf.ensure_shape(out, [size, size, 3])


def resize_shorter_side(rgb, size):
    """Resize float RGB so that its shorter side is `size` (only ever shrinks; keeps aspect)."""
    shape = tf.shape(rgb)
    height, width = tf.cast(shape[0], tf.float64), tf.cast(shape[1], tf.float64)
    scale = tf.minimum(tf.constant(1.0, tf.float64), float(size) / tf.minimum(height, width))
    new_h = tf.maximum(1, tf.cast(tf.round(height * scale), tf.int32))
    new_w = tf.maximum(1, tf.cast(tf.round(width * scale), tf.int32))
    return tf.cond(
        scale < 1.0,
        lambda: tf.image.resize(rgb, tf.stack([new_h, new_w]), antialias=True),
        lambda: tf.cast(rgb, tf.float32),
    )


def to_uint8(rgb):
    """Float RGB in [0, 1] -> uint8, rounded."""
    return tf.cast(tf.round(tf.clip_by_value(rgb, 0.0, 1.0) * 255.0), tf.uint8)


def to_float(image):
    """uint8 (or float) image -> float32 in [0, 1]."""
    if image.dtype == tf.uint8:
        return tf.cast(image, tf.float32) / 255.0
    return tf.cast(image, tf.float32)
