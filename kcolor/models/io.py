"""How a batch of color images becomes a model's inputs and target, and back.

Every model reads one of a few input/output conventions. Keeping them here means the
training loop, evaluation and export handle every registered model the same way:

| io             | model inputs (dict, by Input name)              | output            |
|----------------|-------------------------------------------------|-------------------|
| `gray_rgb`     | `gray`: luma, 1 channel, [0, 1]                 | RGB in [0, 1]     |
| `gray3_rgb`    | `gray`: luma replicated to 3 channels, [0, 1]   | RGB in [0, 1]     |
| `ref_gray3_rgb`| `gray` (3 ch) and `reference`: RGB in [0, 1]    | RGB in [0, 1]     |
| `rgb_rgb`      | `rgb`: RGB in [0, 1] (autoencoders)             | RGB in [0, 1]     |
| `l_ab`         | `L`: L/50 - 1, 1 channel, [-1, 1]               | ab / 128          |

A batch is a dict with `"rgb"` (the color target) and, for reference models,
`"reference"`. `condition(inputs)` is the tensor a conditional discriminator sees
next to the colorization.
"""

import dataclasses

import tensorflow as tf

from kcolor import color
from kcolor.models.options import choice


@dataclasses.dataclass(frozen=True)
class IOSpec:
    name: str
    input_name: str  # the main Input's name
    input_channels: int
    output: str  # "rgb" or "ab"
    uses_reference: bool = False
    is_autoencoder: bool = False

    def inputs(self, batch):
        """Model inputs (a dict keyed by Input name) from a batch dict."""
        rgb = batch["rgb"]
        if self.is_autoencoder:
            x = rgb
        elif self.output == "ab":
            x, _ = color.rgb_to_lab_normalized(rgb)
        else:
            x = color.rgb_to_gray(rgb, channels=self.input_channels)
        inputs = {self.input_name: x}
        if self.uses_reference:
            inputs["reference"] = batch["reference"]
        return inputs

    def target(self, batch):
        rgb = batch["rgb"]
        if self.output == "ab":
            return color.rgb_to_lab_normalized(rgb)[1]
        return rgb

    def condition(self, inputs):
        return inputs[self.input_name]

    def to_rgb(self, output, inputs):
        """A model output → RGB in [0, 1]."""
        if self.output == "ab":
            return color.lab_normalized_to_rgb(inputs[self.input_name], output)
        return tf.clip_by_value(output, 0.0, 1.0)

    def input_shapes(self, image_size):
        shapes = {self.input_name: (image_size, image_size, self.input_channels)}
        if self.uses_reference:
            shapes["reference"] = (image_size, image_size, 3)
        return shapes


IO_SPECS = {
    spec.name: spec
    for spec in (
        IOSpec("gray_rgb", "gray", 1, "rgb"),
        IOSpec("gray3_rgb", "gray", 3, "rgb"),
        IOSpec("ref_gray3_rgb", "gray", 3, "rgb", uses_reference=True),
        IOSpec("rgb_rgb", "rgb", 3, "rgb", is_autoencoder=True),
        IOSpec("l_ab", "L", 1, "ab"),
    )
}


def get_io(name: str) -> IOSpec:
    return IO_SPECS[choice("io", name, IO_SPECS, valid="io kinds")]


def feed(model, inputs):
    """Arrange an `io.inputs` dict the way `model` was built: a tensor, list or dict.

    Functional models built on one Input take the tensor itself (a one-key dict works
    but makes Keras warn), several Inputs take their own structure, matched by name.
    """
    try:
        structure = model.input  # a functional model's Input structure
    except (AttributeError, ValueError):
        return inputs
    if structure is None or isinstance(structure, dict):
        return inputs
    if isinstance(structure, (list, tuple)):
        return type(structure)(inputs[t.name] for t in structure)
    return inputs[structure.name]
