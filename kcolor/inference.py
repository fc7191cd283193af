"""Full-resolution colorization as TensorFlow ops, shared by every inference path.

A colorizer is trained at one square size S, but a user's photo is H x W at any
aspect ratio. Colorizing it takes three steps, all written here as plain TF ops so the
same code runs eagerly (Keras and TFLite models), inside a SavedModel's serving graph,
and needs no kcolor import once exported:

1. `prepare`: resize the photo to S x S and turn it into the model's inputs, as its
   io kind says (`kcolor.models.io`: gray luma, gray x3, normalised L, or the RGB
   itself; plus the resized reference for reference models).
2. the model runs at S x S.
3. `finish`: the model's output becomes chroma (Lab a, b; an RGB output is converted
   to Lab first), which is upsampled to H x W and put onto the photo's *own*
   full-resolution lightness L. The result keeps every detail of the original, and
   a gray input's lightness comes back unchanged.

The resize is `kcolor.pixels.resize`, the one the training pipeline uses (bilinear with
antialiasing). The
S x S copy is stretched, not cropped: upsampling the chroma undoes the stretch, so each
output pixel takes the chroma predicted for its own location.

Example:
    rgb = colorize_rgb(photo, lambda inputs: call_colorizer(model, inputs), io, 256)
    # photo: (H, W, 3) float32 in [0, 1] → rgb: (H, W, 3) float32 in [0, 1]
"""

import tensorflow as tf

from kcolor import color
from kcolor.pixels import resize, to_uint8  # noqa: F401  (the one resize; to_uint8 for the signatures)
from kcolor.models.io import IOSpec, feed


def expected_input_names(io: IOSpec) -> tuple:
    """The Keras Input names a colorizer of this io kind must have, in a fixed order."""
    return tuple(io.input_shapes(1))


def check_colorizer_inputs(model, io: IOSpec) -> None:
    """Raise when the model's Keras Inputs are not the ones its io kind names."""
    names = sorted(t.name for t in model.inputs)
    expected = sorted(expected_input_names(io))
    if names != expected:
        raise ValueError(
            f"Colorizer '{model.name}' has inputs {names}, but io '{io.name}' expects {expected}. "
            "Name the Keras Inputs as kcolor.models.io says."
        )


def call_colorizer(model, inputs: dict, training=False):
    """Call a colorizer on a dict of inputs keyed by Input name (`kcolor.models.io.feed`)."""
    return model(feed(model, inputs), training=training)


def to_float_rgb(image):
    """An image tensor (H, W, C) with C = 1, 3 or 4 → float32 RGB (H, W, 3) in [0, 1].

    uint8 is divided by 255, uint16 by 65535, floats are taken as [0, 1]. One channel is
    replicated to three; a fourth (alpha) channel is dropped.
    """
    image = tf.convert_to_tensor(image)
    if image.dtype == tf.uint8:
        rgb = tf.cast(image, tf.float32) / 255.0
    elif image.dtype == tf.uint16:
        rgb = tf.cast(image, tf.float32) / 65535.0
    else:
        rgb = tf.cast(image, tf.float32)
    channels = tf.shape(rgb)[-1]
    ok = tf.logical_or(tf.logical_or(tf.equal(channels, 1), tf.equal(channels, 3)), tf.equal(channels, 4))
    with tf.control_dependencies(
        [tf.debugging.Assert(ok, ["image must be [H, W, C] with C = 1, 3 or 4; got C =", channels])]
    ):
        rgb = tf.identity(rgb[..., :3])
    size = tf.shape(rgb)[:2]
    rgb = tf.broadcast_to(rgb, tf.concat([size, [3]], axis=0))
    return tf.clip_by_value(rgb, 0.0, 1.0)


def prepare(rgb, io: IOSpec, image_size: int, reference=None) -> dict:
    """Full-resolution RGB (H, W, 3) → the model's inputs at S x S, batch of one.

    Args:
        rgb: float32 (H, W, 3) in [0, 1].
        io: the model's io spec.
        image_size: S, the model's training size.
        reference: float32 RGB (h, w, 3), required when `io.uses_reference`.

    Returns:
        A dict keyed by Keras Input name, each (1, S, S, C).
    """
    small = resize(rgb[tf.newaxis], [image_size, image_size])
    batch = {"rgb": small}
    if io.uses_reference:
        if reference is None:
            raise ValueError(f"io '{io.name}' needs a reference image")
        batch["reference"] = resize(reference[tf.newaxis], [image_size, image_size])
    return io.inputs(batch)


def output_to_ab(output, inputs: dict, io: IOSpec):
    """A model output (B, S, S, C) → normalised chroma ab/128, (B, S, S, 2)."""
    output = tf.cast(output, tf.float32)
    if io.output == "ab":
        return output
    return color.rgb_to_lab_normalized(tf.clip_by_value(output, 0.0, 1.0))[1]


def upsample_chroma(rgb, ab_small):
    """Chroma ab/128 (s, s, 2) → (H, W, 2), the size of full-resolution RGB (H, W, 3)."""
    return resize(ab_small[tf.newaxis], tf.shape(rgb)[:2])[0]


def lay_chroma(rgb, ab):
    """Chroma ab/128 (H, W, 2) put onto the lightness of RGB (H, W, 3) of the same size."""
    L, _ = color.rgb_to_lab_normalized(rgb)
    return color.lab_normalized_to_rgb(L, ab)


def transfer_chroma(rgb, ab_small):
    """Put chroma ab/128 (s, s, 2) onto the lightness of full-resolution RGB (H, W, 3)."""
    return lay_chroma(rgb, upsample_chroma(rgb, ab_small))


def finish(rgb, inputs: dict, output, io: IOSpec):
    """The model's output at S x S → full-resolution colorized RGB (H, W, 3) in [0, 1]."""
    return transfer_chroma(rgb, output_to_ab(output, inputs, io)[0])


def colorize_rgb(rgb, predict_fn, io: IOSpec, image_size: int, reference=None):
    """Colorize a full-resolution image with any `predict_fn(inputs dict) -> output`.

    Args:
        rgb: float32 (H, W, 3) in [0, 1] (a gray photo has three equal channels).
        predict_fn: runs the model on the dict `prepare` returns.
        io: the model's io spec.
        image_size: the model's training size S.
        reference: float32 RGB (h, w, 3) for reference models.

    Returns:
        float32 RGB (H, W, 3) in [0, 1]: the photo's own lightness with predicted chroma.
    """
    inputs = prepare(rgb, io, image_size, reference)
    return finish(rgb, inputs, predict_fn(inputs), io)



def infer_io(input_channels: dict, output_channels: int) -> IOSpec:
    """The io kind whose inputs have these names and channel counts.

    Exported files carry their model's Input names (`gray`, `L`, `rgb`, `reference`),
    which with the channel counts pick exactly one io kind of `kcolor.models.io`.

    Args:
        input_channels: `{input name: channels}`.
        output_channels: channels of the model output (2 for ab, 3 for RGB).
    """
    from kcolor.models.io import IO_SPECS

    for io in IO_SPECS.values():
        wanted = {name: shape[-1] for name, shape in io.input_shapes(1).items()}
        if wanted == dict(input_channels) and (2 if io.output == "ab" else 3) == output_channels:
            return io
    valid = "; ".join(
        f"{name}: inputs {dict((k, v[-1]) for k, v in io.input_shapes(1).items())}" for name, io in IO_SPECS.items()
    )
    raise ValueError(
        f"No io kind has inputs {dict(input_channels)} and {output_channels} output channels. Valid: {valid}"
    )


class Colorizer:
    """A loaded model of any format that colorizes full-resolution images.

    Subclasses set `io`, `image_size`, `model_name`, `source` and implement `predict`
    (the bare model on a dict of inputs at S x S, as NumPy). `colorize` runs the
    shared full-resolution path of this module around it.
    """

    kind = "abstract"
    io: IOSpec
    image_size: int
    model_name: str = ""
    source: str = ""

    def predict(self, inputs: dict):
        raise NotImplementedError

    def check_reference(self, reference) -> None:
        """Raise when a reference is missing for a reference model, or given to another."""
        name = self.model_name or self.source
        if self.io.uses_reference and reference is None:
            raise ValueError(
                f"Model '{name}' (io {self.io.name}) colorizes with a color reference image: "
                "pass one with --reference REF (colorize_paths(..., reference=REF))"
            )
        if not self.io.uses_reference and reference is not None:
            raise ValueError(f"Model '{name}' (io {self.io.name}) takes no reference image; drop --reference")

    def colorize(self, rgb, reference=None, *, frames=False):
        """float32 RGB (H, W, 3) in [0, 1] → colorized float32 RGB (H, W, 3), as NumPy.

        `frames=True` says `rgb` is one frame of a clip, so every call has the same size:
        the full-resolution Lab conversion (`lay_chroma`) is then XLA-compiled once for
        that size and reused, about 3x faster per frame at 1280x720 on a CPU (29 against
        101 ms); each new size costs one compile (0.3-0.5 s), which is why single photos
        of any size take the plain graph.
        """
        self.check_reference(reference)
        rgb = tf.convert_to_tensor(rgb, tf.float32)
        ref = tf.convert_to_tensor(reference, tf.float32) if reference is not None else None
        inputs = _prepare_traced(rgb, self.io, self.image_size, ref)
        output = tf.convert_to_tensor(self.predict(inputs), tf.float32)
        if frames:
            return _lay_chroma_xla(rgb, _chroma_traced(rgb, inputs, output, self.io)).numpy()
        return _finish_traced(rgb, inputs, output, self.io).numpy()


def _chroma(rgb, inputs, output, io):
    return upsample_chroma(rgb, output_to_ab(output, inputs, io)[0])


# The same steps as graphs: eager full-resolution color conversion is several times
# slower. `reduce_retracing` gives one trace for any image size after the second size.
# The resize stays out of XLA (its antialiased kernel, ScaleAndTranslate, has no XLA
# kernel); the elementwise Lab maths fuse under XLA.
_prepare_traced = tf.function(prepare, reduce_retracing=True)
_finish_traced = tf.function(finish, reduce_retracing=True)
_chroma_traced = tf.function(_chroma, reduce_retracing=True)
_lay_chroma_xla = tf.function(lay_chroma, jit_compile=True)
