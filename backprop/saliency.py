"""Which input pixels push a class's probability up or down: dP_c/dx.

    probs, grad, trace = probability_gradient(net, x, target_class=3)

For softmax probabilities p = softmax(z), dp_c/dz = p_c (e_c - p). The fused
cross-entropy gradient is (p - y) / N, so a soft target y = p - N·p_c (e_c - p)
makes the engine's own backward pass carry exactly dp_c/dz down to the input:
no second implementation of backprop to keep in step with the layers.
"""

from __future__ import annotations

import numpy as np

from .network import Network
from .tracing import Trace


def probability_gradient(net: Network, x, target_class=None) -> tuple[np.ndarray, np.ndarray, Trace]:
    """Gradient of one class's probability with respect to each input, in eval mode.

    net: a cross-entropy Network without an embedding (float inputs).
    x: (N, n_inputs).  target_class: None (each row's predicted class), an int,
      or (N,) ints.
    Returns probs (N, C), grad (N, n_inputs) = dp_c/dx, and the Trace of the
    pass (activations per layer for showing; its dW are for this pseudo-loss).
    """
    if not net.is_classifier:
        raise ValueError("saliency needs a cross_entropy classifier; this network uses mse")
    if net.embedding is not None:
        raise ValueError("saliency needs float inputs; this network reads token ids")
    x = net.check_inputs(x)
    n, c = x.shape[0], net.n_outputs
    probs = net.forward(x, check=False).probs
    if target_class is None:
        classes = probs.argmax(axis=1)
    else:
        classes = np.broadcast_to(np.asarray(target_class, dtype=np.int64), (n,)).copy()
        if classes.min() < 0 or classes.max() >= c:
            raise ValueError(f"target class must be in [0, {c - 1}], got {target_class!r}")
    rows = np.arange(n)
    p_target = probs[rows, classes][:, None]
    onehot = np.zeros_like(probs)
    onehot[rows, classes] = 1
    d_prob = p_target * (onehot - probs)  # dp_c/dz, (N, C)
    soft_target = probs - n * d_prob  # so that (p - y) / N == dp_c/dz
    trace = net.gradients(x, soft_target, train=False, input_gradient=True, check=False)
    return probs, net.as_rows(trace.dx), trace


__all__ = ["probability_gradient"]
