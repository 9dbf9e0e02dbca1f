"""Layer-normalised recurrent cells (Section 3.1, supplementary LN-LSTM), their unrolling and the sequence data."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from pkg_layernorm.cells import (
    CELLS,
    LNGRUCell,
    LNLSTMCell,
    LNRNNCell,
    RecurrentClassifier,
    make_cell,
    unroll,
)
from pkg_layernorm.data import adding_problem, digits_split, sequential_digits
from pkg_shared.errors import UserError

EPS = 1e-5
B, T, D, H = 3, 5, 4, 6


def _randn(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _randomised(cell: nn.Module) -> nn.Module:
    """The cell in float64 with every parameter (LN gains and biases too) drawn N(0, 1)."""
    cell = cell.double()
    with torch.no_grad():
        for seed, p in enumerate(cell.parameters()):
            p.copy_(_randn(*p.shape, seed=100 + seed))
    return cell


def _ln(a: torch.Tensor, ln: nn.Module) -> torch.Tensor:
    return F.layer_norm(a, (a.shape[-1],), ln.gain, ln.bias, EPS)


def _reference_ln_rnn(cell: LNRNNCell, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    outputs = []
    for t in range(x.shape[1]):
        h = torch.tanh(_ln(h @ cell.w_hh.weight.T + x[:, t] @ cell.w_xh.weight.T, cell.ln))
        outputs.append(h)
    return torch.stack(outputs, dim=1)


def _reference_ln_lstm(cell: LNLSTMCell, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    c = 0.5 * h.flip(0)
    outputs = []
    for t in range(x.shape[1]):
        gates = (
            _ln(h @ cell.w_h.weight.T, cell.ln_h) + _ln(x[:, t] @ cell.w_x.weight.T, cell.ln_x) + cell.bias
        )
        f, i, o, c_tilde = gates[:, :H], gates[:, H : 2 * H], gates[:, 2 * H : 3 * H], gates[:, 3 * H :]
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(c_tilde)
        h = torch.sigmoid(o) * torch.tanh(_ln(c, cell.ln_c))
        outputs.append(h)
    return torch.stack(outputs, dim=1)


def _reference_ln_gru(cell: LNGRUCell, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    outputs = []
    for t in range(x.shape[1]):
        gx = _ln(x[:, t] @ cell.w_x.weight.T, cell.ln_x) + cell.bias
        gh = _ln(h @ cell.w_h.weight.T, cell.ln_h)
        r = torch.sigmoid(gx[:, :H] + gh[:, :H])
        z = torch.sigmoid(gx[:, H : 2 * H] + gh[:, H : 2 * H])
        n = torch.tanh(gx[:, 2 * H :] + r * gh[:, 2 * H :])
        h = (1 - z) * n + z * h
        outputs.append(h)
    return torch.stack(outputs, dim=1)


@pytest.mark.parametrize(
    ("name", "reference"),
    [("ln-rnn", _reference_ln_rnn), ("ln-lstm", _reference_ln_lstm), ("ln-gru", _reference_ln_gru)],
)
def test_unrolled_sequence_equals_hand_unrolled_reference(name, reference):
    cell = _randomised(make_cell(name, D, H))
    x, h0 = _randn(B, T, D, seed=1), _randn(B, H, seed=2)
    state = (h0, 0.5 * h0.flip(0)) if name == "ln-lstm" else h0
    torch.testing.assert_close(unroll(cell, x, state), reference(cell, x, h0), atol=1e-12, rtol=0)


@pytest.mark.parametrize(("name", "torch_rnn"), [("lstm", nn.LSTM), ("gru", nn.GRU), ("rnn", nn.RNN)])
def test_unroll_of_torch_cells_matches_torch_sequence_modules(name, torch_rnn):
    cell = make_cell(name, D, H).double()
    sequence_module = torch_rnn(D, H, batch_first=True).double()
    sequence_module.load_state_dict({f"{key}_l0": value for key, value in cell.state_dict().items()})
    x = _randn(B, T, D)
    with torch.no_grad():
        torch.testing.assert_close(unroll(cell, x), sequence_module(x)[0], atol=1e-12, rtol=0)


def test_ln_lstm_parameter_count():
    cell = LNLSTMCell(D, H)
    count = sum(p.numel() for p in cell.parameters())
    assert count == 4 * H * (H + D) + 4 * H + 2 * (2 * 4 * H) + 2 * H
    assert sum(p.numel() for p in LNGRUCell(D, H).parameters()) == 3 * H * (H + D) + 3 * H + 2 * (2 * 3 * H)


def test_ln_lstm_outputs_stay_bounded_with_huge_gains():
    cell = LNLSTMCell(D, H).double()
    with torch.no_grad():
        for ln in (cell.ln_h, cell.ln_x, cell.ln_c):
            ln.gain.fill_(1e6)
            ln.bias.zero_()
    x = 100.0 * _randn(8, 20, D)
    state = None
    for t, x_t in enumerate(x.unbind(dim=1), start=1):
        state = cell(x_t, state)
        h, c = state
        assert torch.isfinite(h).all() and torch.isfinite(c).all()
        assert h.abs().max() <= 1 and c.abs().max() <= t


def test_ln_cells_do_not_mix_training_cases():
    cell = _randomised(LNLSTMCell(D, H))
    x = _randn(6, T, D)
    perturbed = torch.cat([x[:1], 10.0 * x[1:].flip(0)])
    with torch.no_grad():
        torch.testing.assert_close(unroll(cell, x)[0], unroll(cell, perturbed)[0], atol=1e-12, rtol=0)


@pytest.mark.parametrize("name", CELLS)
def test_classifier_shapes_and_gradients(name, device):
    model = RecurrentClassifier(name, input_size=D, hidden_size=H, num_classes=7).to(device)
    x = torch.randn(B, T, D, device=device)
    logits = model(x)
    assert logits.shape == (B, 7)
    assert unroll(model.cell, x).shape == (B, T, H)
    F.cross_entropy(logits, torch.arange(B, device=device)).backward()
    for param_name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0, param_name


def test_baseline_cells_are_torch_cells():
    assert type(make_cell("lstm", D, H)) is nn.LSTMCell
    assert type(make_cell("gru", D, H)) is nn.GRUCell
    assert type(make_cell("rnn", D, H)) is nn.RNNCell


def test_bad_options_raise():
    with pytest.raises(UserError, match="'bn-lstm'"):
        RecurrentClassifier("bn-lstm", D, H, 2)
    with pytest.raises(UserError, match=r"\(B, T, D\)"):
        unroll(LNRNNCell(D, H), torch.randn(B, D))
    with pytest.raises(UserError, match="T=1"):
        adding_problem(4, T=1)


def test_sequential_digits_reads_rows_as_time_steps():
    flat, sequences = digits_split(), sequential_digits()
    assert sequences.x_train.shape == (1257, 8, 8) and sequences.x_test.shape == (540, 8, 8)
    torch.testing.assert_close(sequences.x_train[0, 2], flat.x_train[0, 16:24])
    assert torch.equal(sequences.y_test, flat.y_test)


def test_adding_problem():
    x, y = adding_problem(20_000, T=50, seed=3)
    assert x.shape == (20_000, 50, 2) and y.shape == (20_000,)
    values, markers = x.unbind(dim=-1)
    assert torch.equal(markers.sum(dim=1), torch.full((20_000,), 2.0))
    assert set(markers.unique().tolist()) == {0.0, 1.0}
    torch.testing.assert_close(y, (values * markers).sum(dim=1))
    assert abs(F.mse_loss(torch.ones_like(y), y).item() - 1 / 6) < 0.01
    assert torch.equal(adding_problem(5, seed=3)[0], adding_problem(5, seed=3)[0])
    assert not torch.equal(adding_problem(5, seed=3)[0], adding_problem(5, seed=4)[0])
