"""Image-size arithmetic shared by the Keras builders and the PyTorch benchmark peer.

TensorFlow-free: `kcolor.bench.torch_peer` imports it inside the peer's own process, where
starting TensorFlow would count against the peer's peak memory.
"""


def max_levels(image_size):
    """How many stride-2 levels fit: the number of times `image_size` halves exactly."""
    levels = 0
    while image_size % 2 == 0 and image_size > 1:
        image_size //= 2
        levels += 1
    return levels
