"""Optimizers of the training engine.

`FusedAdam` is Keras' Adam with the same hyperparameters, state and update rule, whose
per-variable update runs as TensorFlow's single fused `ResourceApplyAdam` kernel. Keras'
own TensorFlow Adam spells the update as about ten element-wise ops, each a pass over
memory; for Pix2Pix's 57 M parameters that alone costs a large share of a CPU step.
The arithmetic is identical: `m += (g - m)(1 - b1)`, `v += (g^2 - v)(1 - b2)`,
`w -= lr sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)`.

Example:
    opt = make_optimizer(2e-4, beta_1=0.5)
    opt.build(model.trainable_variables)       # before the first traced step
"""

import keras
import tensorflow as tf


def _tf_variable(variable):
    # A Keras variable on the TensorFlow backend wraps a tf.Variable in `.value`.
    return variable.value if isinstance(variable, keras.Variable) else variable


@keras.saving.register_keras_serializable(package="kcolor")
class FusedAdam(keras.optimizers.Adam):
    """Adam (Kingma & Ba) whose dense updates use TensorFlow's fused kernel.

    Same arguments as `keras.optimizers.Adam`. AMSGrad, sparse gradients and
    non-float32 variables fall back to the Keras implementation.

    Example:
        opt = FusedAdam(learning_rate=2e-4, beta_1=0.5)
        opt.apply_gradients(zip(grads, model.trainable_variables))
    """

    def update_step(self, gradient, variable, learning_rate):
        var = _tf_variable(variable)
        if self.amsgrad or isinstance(gradient, tf.IndexedSlices) or var.dtype != tf.float32:
            return super().update_step(gradient, variable, learning_rate)
        index = self._get_variable_index(variable)
        m = _tf_variable(self._momentums[index])
        v = _tf_variable(self._velocities[index])
        local_step = tf.cast(self.iterations + 1, tf.float32)
        beta_1 = tf.cast(self.beta_1, tf.float32)
        beta_2 = tf.cast(self.beta_2, tf.float32)
        tf.raw_ops.ResourceApplyAdam(
            var=var.handle,
            m=m.handle,
            v=v.handle,
            beta1_power=tf.pow(beta_1, local_step),
            beta2_power=tf.pow(beta_2, local_step),
            lr=tf.cast(learning_rate, tf.float32),
            beta1=beta_1,
            beta2=beta_2,
            epsilon=tf.cast(self.epsilon, tf.float32),
            grad=tf.cast(gradient, tf.float32),
            use_locking=False,
        )


def make_optimizer(learning_rate, *, beta_1=0.9, beta_2=0.999, mixed_precision=None):
    """The engine's Adam; wrapped in a `LossScaleOptimizer` for `mixed_float16`."""
    optimizer = FusedAdam(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2)
    if mixed_precision == "mixed_float16":
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer


__all__ = ["FusedAdam", "make_optimizer"]
