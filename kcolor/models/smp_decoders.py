"""U-Net and UNet++ decoders over five encoder features, as segmentation_models_pytorch builds them.

Both read the five skip features of a `kcolor.models.encoders` encoder (strides 2, 4, 8,
16, 32, finest first) and end at full resolution with `channels[-1]` channels. Each
decoder block is nearest 2x upsampling, concatenation with its skip features (if any),
then two [Conv 3x3 "same" without bias, BatchNorm, ReLU]; there is no center block.

- `unet_decoder` (Ronneberger et al. 2015, arXiv:1505.04597): five blocks, block i reads
  the previous block and the skip one level finer; the last has no skip.
- `unetpp_decoder` (UNet++, Zhou et al. 2018, arXiv:1807.10165): the nested nodes
  `x_{d}_{l}` of segmentation_models_pytorch's `UnetPlusPlusDecoder`. With the features
  reversed (f0 = stride 32, ..., f4 = stride 2), node x_{d}_{d} reads f_d and skip
  f_{d+1}; node x_{d}_{l} (l > d) reads x_{d}_{l-1} and the concatenation of
  x_{d+1}_{l}, ..., x_{l}_{l} and f_{l+1}; nodes with d > 0 have as many channels as
  their encoder skip, the d = 0 column has the decoder channels. x_0_4 upsamples x_0_3
  to full size without a skip.

The default channels (256, 128, 64, 32, 16) are segmentation_models_pytorch's, which
KMHCNet (Hossain) used. BatchNorm follows torch's defaults (epsilon 1e-5, momentum 0.1).

Example:
    features = build_encoder("resnet34", (256, 256, 1))(inputs)
    x = unetpp_decoder(features)                    # (B, 256, 256, 16)
"""

from kcolor.models.blocks import TORCH_BN_EPSILON, TORCH_BN_MOMENTUM, conv_bn_act, unet_up_path, upsample_concat

DECODER_CHANNELS = (256, 128, 64, 32, 16)


def decoder_block(x, skips, filters, name):
    """Nearest 2x upsample, concatenate `skips` (a list, maybe empty), 2 x conv-BN-ReLU."""
    x = upsample_concat(x, skips, name=name)
    for i in (1, 2):
        x = conv_bn_act(x, filters, 3, bn_epsilon=TORCH_BN_EPSILON, bn_momentum=TORCH_BN_MOMENTUM, name=f"{name}_{i}")
    return x


def _check(features, channels):
    if len(features) != 5 or len(channels) != 5:
        raise ValueError(
            f"The decoders take 5 encoder features and 5 channel counts. "
            f"Received: {len(features)} features, channels={tuple(channels)}"
        )
    for finer, coarser in zip(features, features[1:]):
        if finer.shape[1] != 2 * coarser.shape[1] or finer.shape[2] != 2 * coarser.shape[2]:
            raise ValueError(
                "Encoder features must halve in size at each level (an image size divisible by 32). "
                f"Received feature shapes {[tuple(f.shape[1:3]) for f in features]}"
            )


def unet_decoder(features, channels=DECODER_CHANNELS, name="decoder"):
    """segmentation_models_pytorch's U-Net decoder over `features` (finest first)."""
    _check(features, channels)
    reversed_features = list(features[::-1])  # stride 32 first
    skips = [[f] for f in reversed_features[1:]] + [[]]  # the last block has no skip
    return unet_up_path(reversed_features[0], skips, channels, decoder_block, name=f"{name}_block")


def unetpp_decoder(features, channels=DECODER_CHANNELS, name="decoder"):
    """segmentation_models_pytorch's UNet++ decoder (nested nodes x_{d}_{l}) over `features`."""
    _check(features, channels)
    f = list(features[::-1])  # f[0]: stride 32 ... f[4]: stride 2
    skip_channels = [int(t.shape[-1]) for t in f[1:]]
    depth = len(f) - 1  # 4
    nodes = {}
    for layer_idx in range(depth):
        for depth_idx in range(depth - layer_idx):
            level = depth_idx + layer_idx
            filters = channels[level] if depth_idx == 0 else skip_channels[level]
            node = f"x_{depth_idx}_{level}"
            if layer_idx == 0:
                x, skips = f[depth_idx], [f[depth_idx + 1]]
            else:
                x = nodes[f"x_{depth_idx}_{level - 1}"]
                skips = [nodes[f"x_{i}_{level}"] for i in range(depth_idx + 1, level + 1)] + [f[level + 1]]
            nodes[node] = decoder_block(x, skips, filters, f"{name}_{node}")
    return decoder_block(nodes[f"x_0_{depth - 1}"], [], channels[-1], f"{name}_x_0_{depth}")


__all__ = ["DECODER_CHANNELS", "decoder_block", "unet_decoder", "unetpp_decoder"]
