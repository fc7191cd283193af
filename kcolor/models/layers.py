"""Custom layers shared by several models.

`FusedBatchNormalization` is a drop-in `BatchNormalization` that keeps Keras' arithmetic,
weights and config and only changes how TensorFlow trains it on a CPU: Pix2Pix at
128x128 batch 16 spends about a tenth of a step in Keras' BatchNormalization, which it
writes as a dozen element-wise ops. Inference runs the Keras layer unchanged, so
exported graphs hold standard ops.

Example:
    from kcolor.models.layers import FusedBatchNormalization
    x = FusedBatchNormalization(name="enc2_bn")(x)
"""

import keras
import tensorflow as tf
from keras import layers


@keras.saving.register_keras_serializable(package="kcolor")
class FusedBatchNormalization(layers.BatchNormalization):
    """`keras.layers.BatchNormalization` whose training pass is TensorFlow's fused kernel.

    Same arguments, weights and results as the Keras layer (the moving variance is
    updated with the biased batch variance, as Keras does). The fused kernel applies to
    4-D inputs normalised over the last axis with `center` and `scale`; anything else,
    and inference, runs the Keras implementation.

    Example:
        x = FusedBatchNormalization(name="enc2_bn")(x)
    """

    def _fusable(self, inputs, mask):
        return (
            mask is None
            and len(inputs.shape) == 4
            and self.axis in (-1, 3)
            and self.center
            and self.scale
            and not self.renorm
            and not self.synchronized
        )

    def call(self, inputs, training=None, mask=None):
        if not (training and self.trainable) or not self._fusable(inputs, mask):
            return super().call(inputs, training=training, mask=mask)
        x = tf.cast(inputs, tf.float32)
        y, mean, variance, _, _, _ = tf.raw_ops.FusedBatchNormV3(
            x=x,
            scale=tf.cast(self.gamma, tf.float32),
            offset=tf.cast(self.beta, tf.float32),
            mean=tf.constant([], tf.float32),
            variance=tf.constant([], tf.float32),
            epsilon=float(self.epsilon),
            exponential_avg_factor=1.0,
            data_format="NHWC",
            is_training=True,
        )
        # The kernel reports the unbiased variance; Keras tracks the biased one.
        count = tf.cast(tf.size(x) // tf.shape(x)[-1], tf.float32)
        variance = tf.stop_gradient(variance) * tf.maximum(count - 1.0, 0.0) / tf.maximum(count, 1.0)
        mean = tf.stop_gradient(mean)
        momentum = self.momentum
        self.moving_mean.assign(self.moving_mean * momentum + mean * (1.0 - momentum))
        self.moving_variance.assign(self.moving_variance * momentum + variance * (1.0 - momentum))
        return tf.cast(y, self.compute_dtype)

    def get_config(self):
        return super().get_config()


__all__ = ["FusedBatchNormalization"]
