"""Reference attention layers in plain numpy, plain or with a sigmoid gate at one position.

Conventions (row convention: tokens are rows). ``X`` in R^{N x d}; head ``h`` has
``W_Q[h], W_K[h]`` in R^{d x d_k} and ``W_V[h]`` in R^{d x d_v}; ``W_O`` in R^{H d_v x d_out}.

* single-head attention (scaled dot-product attention, SDPA):
  ``softmax(X W_Q W_K^T X^T / sqrt(d_k)) X W_V`` (softmax over each row);
* multi-head attention: ``Y = [O_1, ..., O_H] W_O`` with ``O_h`` the SDPA of head ``h``;
* gated attention: one sigmoid gate ``sigmoid(X W_theta)`` (no bias; the gate reads the layer input
  ``X``, token by token) multiplies, elementwise, the tensor at one position:

  ==============  ===============================  =====================================
  position        gated tensor                     gate weight ``W_theta`` shape
  ==============  ===============================  =====================================
  G1-elementwise  SDPA output O_h (N x d_v)        (H, d, d_v): one gate per coordinate
  G1-headwise     SDPA output O_h                  (H, d): one scalar per head and token
  G2              value map X W_V[h]               (H, d, d_v)
  G3              key map X W_K[h]                 (H, d, d_k)
  G4              query map X W_Q[h]               (H, d, d_k)
  G5              final output Y (N x d_out)       (d, d_out)
  ==============  ===============================  =====================================

Every function also accepts numpy *object* arrays of sympy expressions: it then returns the exact
symbolic layer (softmax as exp / sum, sigmoid as 1 / (1 + exp(-z)), 1/sqrt(d_k) exact), which is how
the claims prove that this very code equals the mixture-of-experts decompositions. Numeric arrays use a
max-shifted (overflow-free) softmax.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import sympy as sp

from .. import numeric
from ..errors import ModelError, UnknownNameError
from ..expr import sigmoid as symbolic_sigmoid
from ..symbols import input_symbols, matrix_symbols, vector_symbols

GATE_POSITIONS: tuple[str | None, ...] = (None, "G1-elementwise", "G1-headwise", "G2", "G3", "G4", "G5")

_exp_objects = np.frompyfunc(sp.exp, 1, 1)
_sigmoid_objects = np.frompyfunc(symbolic_sigmoid, 1, 1)


def is_symbolic(*arrays: np.ndarray) -> bool:
    """True when any array holds sympy objects (dtype object)."""
    return any(np.asarray(a).dtype == object for a in arrays)


def softmax(scores: np.ndarray, axis: int = -1) -> np.ndarray:
    """exp(s_j) / sum_l exp(s_l) along ``axis``; numerically stable (max-shifted) for float input."""
    scores = np.asarray(scores)
    if scores.dtype == object:
        weights = _exp_objects(scores)
        return weights / weights.sum(axis=axis, keepdims=True)
    return numeric.softmax(scores, axis)


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Logistic function 1 / (1 + exp(-z)), overflow-free for float input."""
    z = np.asarray(z)
    if z.dtype == object:
        return _sigmoid_objects(z)
    return numeric.sigmoid(z)


def inverse_sqrt(n: int, symbolic: bool = False) -> float | sp.Expr:
    """1 / sqrt(n), exact (sympy) when ``symbolic``."""
    return 1 / sp.sqrt(n) if symbolic else 1.0 / np.sqrt(n)


def _matrix(a: np.ndarray, name: str, ndim: int = 2) -> np.ndarray:
    a = np.asarray(a)
    if a.ndim != ndim:
        raise ModelError(f"{name} must be a {ndim}-d array, got shape {a.shape}")
    return a


def attention_scores(X: np.ndarray, W_Q: np.ndarray, W_K: np.ndarray) -> np.ndarray:
    """S = (X W_Q)(X W_K)^T / sqrt(d_k), shape (N, N); S_ij = x_i^T W_Q W_K^T x_j / sqrt(d_k)."""
    X, W_Q, W_K = _matrix(X, "X"), _matrix(W_Q, "W_Q"), _matrix(W_K, "W_K")
    return scaled_scores(X @ W_Q, X @ W_K)


def scaled_scores(Q: np.ndarray, K: np.ndarray) -> np.ndarray:
    """Q K^T / sqrt(d_k) for queries Q (N x d_k) and keys K (N x d_k)."""
    if Q.shape[1] != K.shape[1]:
        raise ModelError(f"queries and keys differ in width: {Q.shape[1]} vs {K.shape[1]}")
    return (Q @ K.T) * inverse_sqrt(Q.shape[1], is_symbolic(Q, K))


def scaled_dot_product_attention(Q: np.ndarray, K: np.ndarray, V: np.ndarray) -> np.ndarray:
    """softmax(Q K^T / sqrt(d_k)) V, softmax over each row; shape (N, d_v)."""
    Q, K, V = _matrix(Q, "Q"), _matrix(K, "K"), _matrix(V, "V")
    if not Q.shape[0] == K.shape[0] == V.shape[0]:
        raise ModelError(f"Q, K, V must have the same number of tokens, got {Q.shape[0]}, {K.shape[0]}, {V.shape[0]}")
    return softmax(scaled_scores(Q, K), axis=1) @ V


def single_head_attention(X: np.ndarray, W_Q: np.ndarray, W_K: np.ndarray, W_V: np.ndarray) -> np.ndarray:
    """softmax(X W_Q W_K^T X^T / sqrt(d_k)) X W_V, shape (N, d_v)."""
    X = _matrix(X, "X")
    for name, W in (("W_Q", W_Q), ("W_K", W_K), ("W_V", W_V)):
        if _matrix(W, name).shape[0] != X.shape[1]:
            raise ModelError(f"{name} has {np.shape(W)[0]} rows but tokens have dimension {X.shape[1]}")
    return scaled_dot_product_attention(X @ W_Q, X @ W_K, X @ W_V)


def gate_shape(
    position: str | None, n_heads: int, dim: int, key_dim: int, value_dim: int, out_dim: int
) -> tuple[int, ...] | None:
    """Shape of the gate weight ``W_theta`` at ``position`` (None when there is no gate)."""
    shapes = {
        None: None,
        "G1-elementwise": (n_heads, dim, value_dim),
        "G1-headwise": (n_heads, dim),
        "G2": (n_heads, dim, value_dim),
        "G3": (n_heads, dim, key_dim),
        "G4": (n_heads, dim, key_dim),
        "G5": (dim, out_dim),
    }
    if position not in shapes:
        raise UnknownNameError(f"unknown gate position {position!r} (known: {', '.join(map(str, GATE_POSITIONS))})")
    return shapes[position]


@dataclass(frozen=True, eq=False)  # array fields: compare explicitly
class AttentionWeights:
    """Weights of a (gated) multi-head attention layer; see the module docstring for the shapes.

    ``query``/``key`` (H, d, d_k), ``value`` (H, d, d_v), ``output`` (H d_v, d_out); ``gate`` has the
    shape :func:`gate_shape` gives for ``position`` (``None`` for plain attention).
    """

    query: np.ndarray
    key: np.ndarray
    value: np.ndarray
    output: np.ndarray
    position: str | None = None
    gate: np.ndarray | None = None

    def __post_init__(self) -> None:
        for name in ("query", "key", "value"):
            if np.ndim(getattr(self, name)) != 3:
                raise ModelError(
                    f"{name} weights must have shape (heads, d, width), got {np.shape(getattr(self, name))}"
                )
        H, d, dk = np.shape(self.query)
        if np.shape(self.key) != (H, d, dk):
            raise ModelError(f"key weights must have shape {(H, d, dk)} like the queries, got {np.shape(self.key)}")
        if np.shape(self.value)[:2] != (H, d):
            raise ModelError(f"value weights must have shape ({H}, {d}, d_v), got {np.shape(self.value)}")
        if np.ndim(self.output) != 2 or np.shape(self.output)[0] != H * self.value_dim:
            raise ModelError(
                f"output projection must have shape ({H * self.value_dim}, d_out), got {np.shape(self.output)}"
            )
        expected = gate_shape(self.position, H, d, dk, self.value_dim, self.out_dim)
        if expected is None and self.gate is not None:
            raise ModelError("gate weights given but no gate position")
        if expected is not None and np.shape(self.gate) != expected:
            raise ModelError(f"gate {self.position} needs weights of shape {expected}, got {np.shape(self.gate)}")

    n_heads = property(lambda self: np.shape(self.query)[0], doc="number of heads H")
    dim = property(lambda self: np.shape(self.query)[1], doc="token dimension d")
    key_dim = property(lambda self: np.shape(self.query)[2], doc="query/key width d_k")
    value_dim = property(lambda self: np.shape(self.value)[2], doc="value width d_v")
    out_dim = property(lambda self: np.shape(self.output)[1], doc="output width d_out")

    @property
    def symbolic(self) -> bool:
        """True when the weights are sympy symbols (object arrays)."""
        arrays = (self.query, self.key, self.value, self.output)
        return is_symbolic(*arrays, *(() if self.gate is None else (self.gate,)))

    def without_gate(self) -> AttentionWeights:
        """The same layer with its gate removed."""
        return replace(self, position=None, gate=None)

    @classmethod
    def random(
        cls,
        n_heads: int,
        dim: int,
        key_dim: int,
        value_dim: int | None = None,
        out_dim: int | None = None,
        position: str | None = None,
        seed: int | np.random.Generator = 0,
    ) -> AttentionWeights:
        """Gaussian weights with the usual 1/sqrt(fan-in) scale (d_v = d_k, d_out = d by default)."""
        rng = np.random.default_rng(seed)
        value_dim = key_dim if value_dim is None else value_dim
        out_dim = dim if out_dim is None else out_dim
        _check_sizes(n_heads=n_heads, dim=dim, key_dim=key_dim, value_dim=value_dim, out_dim=out_dim)
        shape = gate_shape(position, n_heads, dim, key_dim, value_dim, out_dim)

        def draw(*size: int, fan_in: int) -> np.ndarray:
            return rng.standard_normal(size) / np.sqrt(fan_in)

        return cls(
            draw(n_heads, dim, key_dim, fan_in=dim),
            draw(n_heads, dim, key_dim, fan_in=dim),
            draw(n_heads, dim, value_dim, fan_in=dim),
            draw(n_heads * value_dim, out_dim, fan_in=n_heads * value_dim),
            position,
            None if shape is None else draw(*shape, fan_in=dim),
        )

    @classmethod
    def symbolic_generic(
        cls,
        n_heads: int,
        dim: int,
        key_dim: int,
        value_dim: int | None = None,
        out_dim: int | None = None,
        position: str | None = None,
    ) -> AttentionWeights:
        """Independent real symbols: ``WQ_h_u_v``, ``WK_h_u_v``, ``WV_h_u_v``, ``WO_u_v`` and gate ``Wg_...``."""
        value_dim = key_dim if value_dim is None else value_dim
        out_dim = dim if out_dim is None else out_dim
        _check_sizes(n_heads=n_heads, dim=dim, key_dim=key_dim, value_dim=value_dim, out_dim=out_dim)
        shape = gate_shape(position, n_heads, dim, key_dim, value_dim, out_dim)

        def stack(base: str, cols: int) -> np.ndarray:
            return np.array([np.array(matrix_symbols(base, dim, cols, h + 1), dtype=object) for h in range(n_heads)])

        gate = None
        if shape is not None and len(shape) == 3:
            gate = stack("Wg", shape[2])
        elif shape is not None and position == "G1-headwise":
            gate = np.array([list(vector_symbols("Wg", dim, h + 1)) for h in range(n_heads)], dtype=object)
        elif shape is not None:
            gate = np.array(matrix_symbols("Wg", dim, out_dim), dtype=object)
        return cls(
            stack("WQ", key_dim),
            stack("WK", key_dim),
            stack("WV", value_dim),
            np.array(matrix_symbols("WO", n_heads * value_dim, out_dim), dtype=object),
            position,
            gate,
        )


def _check_sizes(**sizes: int) -> None:
    for name, value in sizes.items():
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ModelError(f"{name} must be a positive integer, got {value!r}")


def symbolic_tokens(n_tokens: int, dim: int) -> np.ndarray:
    """X with entries from x~ = (x_1, ..., x_{Nd}): token i (0-based) is (x_{id+1}, ..., x_{id+d})."""
    _check_sizes(n_tokens=n_tokens, dim=dim)
    return np.array(input_symbols(n_tokens * dim), dtype=object).reshape(n_tokens, dim)


def head_output(X: np.ndarray, weights: AttentionWeights, h: int) -> np.ndarray:
    """SDPA output O_h (N x d_v) of head ``h``, with the G1-G4 gates of that head applied."""
    position, theta = weights.position, weights.gate
    Q, K, V = X @ weights.query[h], X @ weights.key[h], X @ weights.value[h]
    if position == "G4":
        Q = Q * sigmoid(X @ theta[h])
    elif position == "G3":
        K = K * sigmoid(X @ theta[h])
    elif position == "G2":
        V = V * sigmoid(X @ theta[h])
    attended = scaled_dot_product_attention(Q, K, V)
    if position == "G1-elementwise":
        attended = attended * sigmoid(X @ theta[h])
    elif position == "G1-headwise":
        attended = attended * sigmoid(X @ theta[h])[:, None]
    return attended


def multi_head_attention(X: np.ndarray, weights: AttentionWeights) -> np.ndarray:
    """(Gated) multi-head attention Y = [O_1, ..., O_H] W_O (times sigmoid(X W_theta) for G5); (N, d_out)."""
    X = _matrix(X, "X")
    if X.shape[1] != weights.dim:
        raise ModelError(f"tokens have dimension {X.shape[1]} but the weights expect {weights.dim}")
    heads = [head_output(X, weights, h) for h in range(weights.n_heads)]
    Y = np.concatenate(heads, axis=1) @ weights.output
    if weights.position == "G5":
        Y = Y * sigmoid(X @ weights.gate)
    return Y
