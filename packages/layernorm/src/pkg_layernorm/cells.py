"""Layer-normalised recurrent cells (Ba, Kiros & Hinton 2016, Section 3.1 and supplementary material).

In a recurrent network the summed inputs at time step t are normalised over the H hidden units of
that step (eq. 4 applied per step); the gains and biases of each LN are shared over time, and there
are no per-step statistics to store, unlike batch-normalised RNNs. Every cell maps
``(x_t, state_{t-1}) -> state_t`` with the calling convention of ``torch.nn.LSTMCell``: ``x_t`` has
shape ``(B, D)``, the state is ``h`` (or ``(h, c)`` for LSTMs) of shape ``(B, H)`` and ``None``
means zeros. The unnormalised baselines are torch's own ``LSTMCell``, ``GRUCell`` and ``RNNCell``.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from pkg_shared.errors import UserError

from .config import CELLS
from .layers import LayerNorm

__all__ = ["CELLS", "LNGRUCell", "LNLSTMCell", "LNRNNCell", "RecurrentClassifier", "make_cell", "unroll"]

State = Tensor | tuple[Tensor, Tensor]


def _zeros(x: Tensor, hidden_size: int) -> Tensor:
    return x.new_zeros(x.shape[0], hidden_size)


class LNRNNCell(nn.Module):
    """Layer-normalised vanilla RNN cell (Section 3.1, eq. 4)::

        a^t = W_hh h^{t-1} + W_xh x^t
        h^t = tanh( g / sigma^t * (a^t - mu^t) + b )

    with ``mu^t`` and ``sigma^t`` taken over the H units of step t and g, b shared over time.
    """

    def __init__(self, input_size: int, hidden_size: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.w_xh = nn.Linear(input_size, hidden_size, bias=False)
        self.w_hh = nn.Linear(hidden_size, hidden_size, bias=False)
        self.ln = LayerNorm(hidden_size, eps=eps)

    def forward(self, x: Tensor, h: Tensor | None = None) -> Tensor:
        """One step: ``x`` of shape ``(B, D)``, ``h`` of shape ``(B, H)`` -> ``h^t`` of shape ``(B, H)``."""
        if h is None:
            h = _zeros(x, self.hidden_size)
        return torch.tanh(self.ln(self.w_hh(h) + self.w_xh(x)))


class LNLSTMCell(nn.Module):
    """Layer-normalised LSTM cell (paper's supplementary material; spec Method item 4)::

        [f, i, o, c~] = LN(W_h h^{t-1}; a1, b1) + LN(W_x x^t; a2, b2) + bias    (each LN over all 4H)
        c^t = sigmoid(f) * c^{t-1} + sigmoid(i) * tanh(c~)
        h^t = sigmoid(o) * tanh( LN(c^t; a3, b3) )

    Three LNs with their own gains a_k (init 1) and biases b_k (init 0), shared over time; the
    LSTM ``bias`` (init 0) is added after the LNs as in the paper's equations. Parameters:
    ``4H(H + D) + 4H + 2 * (2 * 4H) + 2H``.
    """

    def __init__(self, input_size: int, hidden_size: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.w_h = nn.Linear(hidden_size, 4 * hidden_size, bias=False)
        self.w_x = nn.Linear(input_size, 4 * hidden_size, bias=False)
        self.ln_h = LayerNorm(4 * hidden_size, eps=eps)
        self.ln_x = LayerNorm(4 * hidden_size, eps=eps)
        self.bias = nn.Parameter(torch.zeros(4 * hidden_size))
        self.ln_c = LayerNorm(hidden_size, eps=eps)

    def forward(self, x: Tensor, state: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, Tensor]:
        """One step: ``x`` of shape ``(B, D)``, ``state = (h, c)`` of shape ``(B, H)`` each -> ``(h^t, c^t)``."""
        if state is None:
            state = (_zeros(x, self.hidden_size), _zeros(x, self.hidden_size))
        h, c = state
        f, i, o, c_tilde = (self.ln_h(self.w_h(h)) + self.ln_x(self.w_x(x)) + self.bias).chunk(4, dim=-1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(c_tilde)
        h = torch.sigmoid(o) * torch.tanh(self.ln_c(c))
        return h, c


class LNGRUCell(nn.Module):
    """Layer-normalised GRU cell, built like the LN-LSTM (two LNs over the full 3H pre-activations)::

        [r_x, z_x, n_x] = LN(W_x x^t; a1, b1)          [r_h, z_h, n_h] = LN(W_h h^{t-1}; a2, b2)
        r = sigmoid(r_x + r_h + bias_r)                z = sigmoid(z_x + z_h + bias_z)
        n = tanh(n_x + bias_n + r * n_h)
        h^t = (1 - z) * n + z * h^{t-1}

    Gate order [r, z, n] and the reset gate acting on the hidden-side candidate term follow
    ``torch.nn.GRUCell``. LN gains init 1, LN biases and ``bias`` init 0, all shared over time.
    Parameters: ``3H(H + D) + 3H + 2 * (2 * 3H)``.
    """

    def __init__(self, input_size: int, hidden_size: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.w_x = nn.Linear(input_size, 3 * hidden_size, bias=False)
        self.w_h = nn.Linear(hidden_size, 3 * hidden_size, bias=False)
        self.ln_x = LayerNorm(3 * hidden_size, eps=eps)
        self.ln_h = LayerNorm(3 * hidden_size, eps=eps)
        self.bias = nn.Parameter(torch.zeros(3 * hidden_size))

    def forward(self, x: Tensor, h: Tensor | None = None) -> Tensor:
        """One step: ``x`` of shape ``(B, D)``, ``h`` of shape ``(B, H)`` -> ``h^t`` of shape ``(B, H)``."""
        if h is None:
            h = _zeros(x, self.hidden_size)
        r_x, z_x, n_x = (self.ln_x(self.w_x(x)) + self.bias).chunk(3, dim=-1)
        r_h, z_h, n_h = self.ln_h(self.w_h(h)).chunk(3, dim=-1)
        r = torch.sigmoid(r_x + r_h)
        z = torch.sigmoid(z_x + z_h)
        n = torch.tanh(n_x + r * n_h)
        return (1 - z) * n + z * h


_CELLS: dict[str, type[nn.Module]] = {
    "lstm": nn.LSTMCell,
    "ln-lstm": LNLSTMCell,
    "gru": nn.GRUCell,
    "ln-gru": LNGRUCell,
    "rnn": nn.RNNCell,
    "ln-rnn": LNRNNCell,
}


def make_cell(cell: str, input_size: int, hidden_size: int) -> nn.Module:
    """Build a recurrent cell by name: plain ``"lstm"``, ``"gru"``, ``"rnn"`` (tanh; torch's cells) or
    their layer-normalised versions ``"ln-lstm"``, ``"ln-gru"``, ``"ln-rnn"`` (Section 3.1)."""
    if cell not in _CELLS:
        raise UserError(f"unknown cell {cell!r}; expected one of {', '.join(CELLS)}")
    return _CELLS[cell](input_size, hidden_size)


def unroll(cell: nn.Module, x: Tensor, state: State | None = None) -> Tensor:
    """Run ``cell`` over the time axis of ``x`` (shape ``(B, T, D)``) from ``state`` (``None``: zeros).

    Returns the hidden states ``h^1 .. h^T`` as a ``(B, T, H)`` tensor. The LN statistics of each
    step are taken over that step's H units only (Section 3.1).
    """
    if x.dim() != 3:
        raise UserError(f"expected x of shape (B, T, D), got {tuple(x.shape)}")
    hidden = []
    for x_t in x.unbind(dim=1):
        state = cell(x_t, state)
        hidden.append(state[0] if isinstance(state, tuple) else state)
    return torch.stack(hidden, dim=1)


class RecurrentClassifier(nn.Module):
    """Sequence classifier: unroll a (layer-normalised) cell over ``(B, T, D)`` and classify from ``h^T``.

    The recurrent stand-in for the paper's RNN experiments (Section 6): e.g. the 8 rows of an 8x8
    digit as 8 time steps of 8 features. ``cell`` is one of :data:`CELLS`.
    """

    def __init__(self, cell: str, input_size: int, hidden_size: int, num_classes: int) -> None:
        super().__init__()
        self.cell = make_cell(cell, input_size, hidden_size)
        self.head = nn.Linear(hidden_size, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        """Logits of shape ``(B, num_classes)`` for ``x`` of shape ``(B, T, D)``."""
        return self.head(unroll(self.cell, x)[:, -1])
