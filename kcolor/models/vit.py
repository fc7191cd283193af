"""A Vision-Transformer discriminator (Dosovitskiy et al. 2020, "An Image is Worth 16x16
Words: Transformers for Image Recognition at Scale", arXiv:2010.11929), shared by every
model that judges images with a ViT.

The image is cut into `patch_size` x `patch_size` patches, each flattened and projected
to `dim` (one strided convolution, the same linear map), a learned class token is put in
front, learned position embeddings are added, then `depth` pre-norm transformer blocks
(LayerNorm → multi-head self-attention → dropout → residual; LayerNorm → Dense(mlp_dim,
GELU) → dropout → Dense(dim) → dropout → residual) and a final LayerNorm. The class
token (`pool="cls"`, default) or the mean of the patch tokens (`pool="mean"`) goes
through one Dense to a single real/fake logit per image.

Paper 004 (Bana, Loya and Kulkarni, "ViT-Inception-GAN for Image Colourising", 2021,
arXiv:2106.06321, Table 1) uses image 256, patch 32 (64 tokens), 6 blocks, 16 heads,
MLP 2048, dropout 0.1 and embedding dropout 0.1. It does not state the model dimension:
the default 1024 is the common choice for exactly this configuration (and gives each
head 64 dimensions). Attention uses `key_dim = dim // heads`, with biases (Keras'
default), and dropout 0.1 on the attention weights as well as after each projection.

Position embeddings are learned for the grid the model is built for (`H/patch` x
`W/patch`). Any image size that is a multiple of `patch_size` builds its own grid; a
size that is not fails at build time with a message naming the valid sizes. The model
has fixed spatial Inputs, so it is never called on a grid it was not built for (no
interpolation is needed or done).

Example:
    from kcolor.models.vit import build_vit_discriminator
    d = build_vit_discriminator((64, 64, 1), image_channels=2, patch_size=16, dim=64,
                                depth=2, heads=4, mlp_dim=128)
    logits = d({"condition": L, "image": ab})        # [B, 1]
"""

import keras
from keras import layers, ops

from kcolor.models.options import choice, positive_int, rate

POOLS = ("cls", "mean")


@keras.saving.register_keras_serializable(package="kcolor")
class ClassToken(layers.Layer):
    """Puts one learned token in front of a `[B, N, D]` sequence: `[B, N + 1, D]`.

    Example:
        tokens = ClassToken(name="vit_cls")(patches)
    """

    def build(self, input_shape):
        self.token = self.add_weight(
            shape=(1, 1, int(input_shape[-1])), initializer="zeros", trainable=True, name="token"
        )

    def call(self, inputs):
        token = ops.cast(self.token, inputs.dtype)
        token = ops.broadcast_to(token, (ops.shape(inputs)[0], 1, ops.shape(inputs)[-1]))
        return ops.concatenate([token, inputs], axis=1)

    def compute_output_shape(self, input_shape):
        n = None if input_shape[1] is None else input_shape[1] + 1
        return (input_shape[0], n, input_shape[2])

    def get_config(self):
        return super().get_config()


@keras.saving.register_keras_serializable(package="kcolor")
class PositionEmbedding(layers.Layer):
    """Adds a learned embedding per token position to a `[B, N, D]` sequence.

    The sequence length is fixed when the layer is built; a sequence of another length
    raises (the ViT builder checks the image size before it gets here).

    Example:
        tokens = PositionEmbedding(name="vit_pos")(tokens)
    """

    def __init__(self, initializer_stddev=0.02, **kwargs):
        super().__init__(**kwargs)
        self.initializer_stddev = float(initializer_stddev)

    def build(self, input_shape):
        if input_shape[1] is None:
            raise ValueError(f"{self.name}: the sequence length must be known; got input shape {input_shape}")
        self.embedding = self.add_weight(
            shape=(int(input_shape[1]), int(input_shape[2])),
            initializer=keras.initializers.RandomNormal(stddev=self.initializer_stddev),
            trainable=True,
            name="embedding",
        )

    def call(self, inputs):
        return inputs + ops.cast(self.embedding, inputs.dtype)[None]

    def get_config(self):
        return {**super().get_config(), "initializer_stddev": self.initializer_stddev}


def transformer_block(x, *, heads, mlp_dim, dropout, name):
    """One pre-norm transformer encoder block on `[B, N, D]` tokens."""
    dim = int(x.shape[-1])
    h = layers.LayerNormalization(epsilon=1e-6, name=f"{name}_ln1")(x)
    h = layers.MultiHeadAttention(num_heads=heads, key_dim=dim // heads, dropout=dropout, name=f"{name}_mha")(h, h)
    h = layers.Dropout(dropout, name=f"{name}_attn_drop")(h)
    x = layers.Add(name=f"{name}_attn_add")([x, h])
    h = layers.LayerNormalization(epsilon=1e-6, name=f"{name}_ln2")(x)
    h = layers.Dense(mlp_dim, activation="gelu", name=f"{name}_mlp1")(h)
    h = layers.Dropout(dropout, name=f"{name}_mlp_drop1")(h)
    h = layers.Dense(dim, name=f"{name}_mlp2")(h)
    h = layers.Dropout(dropout, name=f"{name}_mlp_drop2")(h)
    return layers.Add(name=f"{name}_mlp_add")([x, h])


def check_vit_size(height, width, patch_size):
    """Raise a ValueError naming the valid sizes unless `patch_size` tiles the image."""
    if height % patch_size or width % patch_size or height < patch_size or width < patch_size:
        raise ValueError(
            f"ViT discriminator: image {height}x{width} is not a whole number of {patch_size}x{patch_size} "
            f"patches. Use an image size that is a multiple of patch_size (e.g. {patch_size}, "
            f"{2 * patch_size}, ..., 256 for patch 32) or set another patch_size."
        )


def build_vit_discriminator(
    input_shape=(256, 256, 1),
    *,
    image_channels=2,
    patch_size=32,
    dim=1024,
    depth=6,
    heads=16,
    mlp_dim=2048,
    dropout=0.1,
    embedding_dropout=0.1,
    pool="cls",
    name="vit_discriminator",
):
    """ViT discriminator on the (condition, image) pair; one real/fake logit per image.

    Two Inputs, `condition` (for Lab models, L in [-1, 1], shape `input_shape`) and
    `image` (ab / 128, `image_channels` channels), concatenated along channels. At the
    paper's setting (256, patch 32):

        patches (8, 8, 1024) → tokens (65, 1024) → 6 blocks → cls (1024,) → logit (1,)

    Args:
        input_shape: `(H, W, C)` of the condition; H and W multiples of `patch_size`.
        image_channels: channels of the judged image (2 for ab).
        patch_size: side of a square patch in pixels.
        dim: model (token) dimension; divisible by `heads`.
        depth: number of transformer blocks.
        heads: attention heads per block.
        mlp_dim: hidden width of each block's MLP.
        dropout: dropout in the blocks (attention weights, after attention, in the MLP).
        embedding_dropout: dropout on the tokens after the position embeddings.
        pool: "cls" (class token) or "mean" (mean of the patch tokens).
        name: model name.

    Example:
        d = build_vit_discriminator((256, 256, 1))          # Paper 004's Table 1
        logits = d({"condition": L, "image": ab})            # [B, 1]
    """
    owner = "ViT discriminator"
    patch_size = positive_int("patch_size", patch_size, owner=owner)
    dim, depth = positive_int("dim", dim, owner=owner), positive_int("depth", depth, owner=owner)
    heads, mlp_dim = positive_int("heads", heads, owner=owner), positive_int("mlp_dim", mlp_dim, owner=owner)
    if dim % heads:
        raise ValueError(f"ViT discriminator: dim must be divisible by heads. Received: dim={dim}, heads={heads}")
    choice("pool", pool, POOLS, owner=owner)
    dropout = rate("dropout", dropout, owner=owner)
    embedding_dropout = rate("embedding_dropout", embedding_dropout, owner=owner)
    height, width = int(input_shape[0]), int(input_shape[1])
    check_vit_size(height, width, patch_size)
    grid_h, grid_w = height // patch_size, width // patch_size

    condition = keras.Input(shape=tuple(input_shape), name="condition")
    image = keras.Input(shape=(height, width, image_channels), name="image")
    x = layers.Concatenate(name="vit_pair_concat")([condition, image])
    # A stride-`patch` conv is the ViT's linear projection of each flattened patch.
    x = layers.Conv2D(dim, patch_size, strides=patch_size, padding="valid", name="vit_patch_embed")(x)
    x = layers.Reshape((grid_h * grid_w, dim), name="vit_patch_tokens")(x)  # (N, dim)
    if pool == "cls":
        x = ClassToken(name="vit_cls_token")(x)  # (N + 1, dim)
    x = PositionEmbedding(name="vit_pos_embed")(x)
    x = layers.Dropout(embedding_dropout, name="vit_embed_drop")(x)
    for i in range(depth):
        x = transformer_block(x, heads=heads, mlp_dim=mlp_dim, dropout=dropout, name=f"vit_block{i + 1}")
    x = layers.LayerNormalization(epsilon=1e-6, name="vit_final_ln")(x)
    if pool == "cls":
        x = layers.Cropping1D((0, grid_h * grid_w), name="vit_cls_select")(x)  # (1, dim)
        x = layers.Flatten(name="vit_cls_flat")(x)
    else:
        x = layers.GlobalAveragePooling1D(name="vit_mean_pool")(x)
    logits = layers.Dense(1, name="vit_logit", dtype="float32")(x)
    return keras.Model({"condition": condition, "image": image}, logits, name=name)


def num_tokens(model):
    """Tokens the transformer blocks see (patches, plus the class token if any)."""
    return int(model.get_layer("vit_pos_embed").embedding.shape[0])


__all__ = ["POOLS", "ClassToken", "PositionEmbedding", "build_vit_discriminator", "check_vit_size", "num_tokens", "transformer_block"]
