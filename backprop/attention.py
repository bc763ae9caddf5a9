"""The layers of a small transformer: positions, layer norm, causal self-attention, residual connections.

Sequences of vectors are (N, T, D): N samples, T positions, D numbers per position.
A one-block transformer over token ids is a layer list like any other network:

    embed32-pos-res-ln-attn2-add-res-ln-dense64-relu-dense32-add-ln-last

``res`` marks where a residual connection starts and ``add`` where the input it
kept is added back: out = x + f(x).
"""

from __future__ import annotations

import math

import numpy as np

from .layers import Layer, init_weights

LAYER_NORM_EPS = 1e-5


class PositionEmbedding(Layer):
    """Adds a learned vector per position: out[n, t] = x[n, t] + P[t].  P (T, D)."""

    kind = "pos"

    def __init__(self, positions: int, dim: int, *, rng: np.random.Generator, dtype=np.float32):
        super().__init__()
        self.params = {"table": (rng.normal(0.0, 1.0, size=(positions, dim)) / np.sqrt(dim)).astype(dtype)}

    def forward(self, x, train=False):
        return x + self.params["table"]

    def backward(self, dout, input_grad=True):
        self.grads = {"table": dout.sum(axis=0)}  # every sample adds to the same position vectors
        return dout


class LayerNorm(Layer):
    """Normalises each position's vector over its D numbers, then scales by γ and shifts by β.

    x̂ = (x − μ)/√(σ² + ε) with μ, σ² of that one vector; out = γ·x̂ + β.  γ, β (D,).
    Unlike batch norm it does not look at the other samples, so training and evaluation agree.
    """

    kind = "ln"

    def __init__(self, dim: int, dtype=np.float32):
        super().__init__()
        self.params = {"gamma": np.ones(dim, dtype=dtype), "beta": np.zeros(dim, dtype=dtype)}

    def forward(self, x, train=False):
        centered = x - x.mean(axis=-1, keepdims=True)
        var = (centered * centered).mean(axis=-1, keepdims=True)
        self.inv_std = 1.0 / np.sqrt(var + x.dtype.type(LAYER_NORM_EPS))
        self.normalized = centered * self.inv_std
        return self.normalized * self.params["gamma"] + self.params["beta"]

    def backward(self, dout, input_grad=True):
        dim = dout.shape[-1]
        rows = dout.reshape(-1, dim)
        self.grads = {
            "gamma": (rows * self.normalized.reshape(-1, dim)).sum(axis=0),
            "beta": rows.sum(axis=0),
        }
        d_norm = dout * self.params["gamma"]
        # through the vector's own mean and variance: dx = inv_std·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂))
        return self.inv_std * (
            d_norm
            - d_norm.mean(axis=-1, keepdims=True)
            - self.normalized * (d_norm * self.normalized).mean(axis=-1, keepdims=True)
        )

    def saved(self):
        return {"normalized": self.normalized}


class SelfAttention(Layer):
    """Causal multi-head self-attention: each position attends to itself and the positions before it.

    x (N, T, D) → Q = x·Wq + bq, K = x·Wk + bk, V = x·Wv + bv, split into H heads of D/H.
    scores = Q·Kᵀ/√(D/H) with the future masked out; weights = softmax over each row;
    Z = weights·V, heads joined again; out = Z·Wo + bo.
    Backward: dZ = dout·Woᵀ; dweights = dZ·Vᵀ; dV = weightsᵀ·dZ;
    dscores = weights ⊙ (dweights − Σ_k weights·dweights) (the softmax Jacobian);
    dQ = dscores·K/√(D/H); dK = dscoresᵀ·Q/√(D/H); dx = dQ·Wqᵀ + dK·Wkᵀ + dV·Wvᵀ.
    """

    kind = "attn"

    def __init__(
        self,
        dim: int,
        heads: int,
        *,
        rng: np.random.Generator,
        init: str = "xavier",
        init_std: float = 0.01,
        dtype=np.float32,
    ):
        super().__init__()
        if dim % heads:
            raise ValueError(f"attn{heads}: {dim} numbers per position do not split into {heads} heads")
        self.heads = int(heads)
        self.params = {}
        for name in ("q", "k", "v", "o"):
            self.params[f"W{name}"] = init_weights(init, (dim, dim), dim, dim, rng, init_std, dtype)
            self.params[f"b{name}"] = np.zeros(dim, dtype=dtype)

    def _split(self, m):
        """(N, T, D) → (N, H, T, D/H): one slice of the vector per head."""
        n, t, d = m.shape
        return m.reshape(n, t, self.heads, d // self.heads).transpose(0, 2, 1, 3)

    @staticmethod
    def _join(m):
        """(N, H, T, D/H) → (N, T, D)."""
        n, h, t, dh = m.shape
        return m.transpose(0, 2, 1, 3).reshape(n, t, h * dh)

    def forward(self, x, train=False):
        p = self.params
        self.x = x
        self.q = self._split(x @ p["Wq"] + p["bq"])
        self.k = self._split(x @ p["Wk"] + p["bk"])
        self.v = self._split(x @ p["Wv"] + p["bv"])
        t, head_dim = x.shape[1], self.q.shape[-1]
        self.scale = x.dtype.type(1.0 / math.sqrt(head_dim))
        future = np.triu(np.ones((t, t), dtype=bool), k=1)  # j > i: not yet seen
        self.scores = np.where(future, -np.inf, (self.q @ self.k.transpose(0, 1, 3, 2)) * self.scale)
        e = np.exp(self.scores - self.scores.max(axis=-1, keepdims=True))
        self.weights = e / e.sum(axis=-1, keepdims=True)  # (N, H, T, T), rows sum to 1
        self.z = self._join(self.weights @ self.v)  # (N, T, D)
        return self.z @ p["Wo"] + p["bo"]

    def backward(self, dout, input_grad=True):
        p = self.params
        d = self.x.shape[-1]
        rows_x, rows_z, rows_out = self.x.reshape(-1, d), self.z.reshape(-1, d), dout.reshape(-1, d)
        grads = {"Wo": rows_z.T @ rows_out, "bo": rows_out.sum(axis=0)}
        dz = self._split(dout @ p["Wo"].T)
        self.d_weights = dz @ self.v.transpose(0, 1, 3, 2)
        dv = self.weights.transpose(0, 1, 3, 2) @ dz
        self.d_scores = self.weights * (
            self.d_weights - (self.weights * self.d_weights).sum(axis=-1, keepdims=True)
        )
        dq = (self.d_scores @ self.k) * self.scale
        dk = (self.d_scores.transpose(0, 1, 3, 2) @ self.q) * self.scale
        self.dq, self.dk, self.dv = self._join(dq), self._join(dk), self._join(dv)
        for name, dm in (("q", self.dq), ("k", self.dk), ("v", self.dv)):
            rows = dm.reshape(-1, d)
            grads[f"W{name}"], grads[f"b{name}"] = rows_x.T @ rows, rows.sum(axis=0)
        self.grads = {name: grads[name] for name in self.params}
        if not input_grad:
            return None
        return self.dq @ p["Wq"].T + self.dk @ p["Wk"].T + self.dv @ p["Wv"].T

    def saved(self):
        return {
            "q": self._join(self.q),
            "k": self._join(self.k),
            "v": self._join(self.v),
            "scores": self.scores,
            "weights": self.weights,
            "z": self.z,
        }

    def saved_backward(self):
        return {
            "dq": self.dq,
            "dk": self.dk,
            "dv": self.dv,
            "d_scores": self.d_scores,
            "d_weights": self.d_weights,
        }

    def spec(self):
        return f"attn{self.heads}"


class Skip:
    """What a residual connection carries from where it starts to where it is added back."""

    def __init__(self):
        self.x = None
        self.dout = None


class ResidualStart(Layer):
    """Where a residual connection starts: passes x on unchanged and keeps it for the matching add.

    Backward: the gradient of the branch and the gradient that went straight across add up.
    """

    kind = "res"

    def __init__(self, skip: Skip):
        super().__init__()
        self.skip = skip

    def forward(self, x, train=False):
        self.skip.x = x
        return x

    def backward(self, dout, input_grad=True):
        return dout + self.skip.dout


class ResidualAdd(Layer):
    """Where a residual connection ends: out = f(x) + x, with x kept by the matching start.

    Backward: the gradient goes both into the branch f and straight back to x.
    """

    kind = "add"

    def __init__(self, skip: Skip):
        super().__init__()
        self.skip = skip

    def forward(self, x, train=False):
        return x + self.skip.x

    def backward(self, dout, input_grad=True):
        self.skip.dout = dout
        return dout


class LastPosition(Layer):
    """The vector at the last position of each sequence: (N, T, D) → (N, D); the next token is read there."""

    kind = "last"

    def forward(self, x, train=False):
        self.input_shape = x.shape
        return x[:, -1, :]

    def backward(self, dout, input_grad=True):
        dx = np.zeros(self.input_shape, dtype=dout.dtype)
        dx[:, -1, :] = dout
        return dx
