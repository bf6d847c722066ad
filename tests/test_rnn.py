"""dlbasics.rnn: CharNet against the recurrence written out; NumPy integers accepted."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlbasics.rnn import CharNet, next_char_data


def test_charnet_is_the_tanh_recurrence_and_a_linear_readout() -> None:
    X, Y, vocab = next_char_data("AbAcAd")
    torch.manual_seed(0)
    net = CharNet(len(vocab), 3)
    r, lin = net.rnn, net.linr
    h = torch.zeros(3, dtype=torch.float64)
    logits = []
    for x in X.double():  # h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), in float64
        h = torch.tanh(r.weight_ih_l0.double() @ x + r.bias_ih_l0.double()
                       + r.weight_hh_l0.double() @ h + r.bias_hh_l0.double())  # fmt: skip
        logits.append(lin.weight.double() @ h + lin.bias.double())
    with torch.no_grad():
        torch.testing.assert_close(net(X).double(), torch.stack(logits), rtol=0, atol=1e-6)


def test_charnet_takes_numpy_integers() -> None:
    """Misuse 12: CharNet(np.int64(4), 2) failed inside nn.RNN."""
    torch.manual_seed(1)
    net = CharNet(np.int64(4), np.int32(2), kind="lstm")
    assert net.rnn.input_size == 4 and net.rnn.hidden_size == 2
    assert type(net.rnn.input_size) is int and type(net.vocab_size) is int
    assert net(torch.eye(4)).shape == (4, 4)


@pytest.mark.parametrize(
    ("args", "err", "words"),
    [
        ((4.0, 2), TypeError, "vocab_size must be an int, got float"),
        ((4, 0), ValueError, "hidden must be >= 1, got 0"),
        ((4, 2, "gru"), ValueError, r"kind must be one of \('rnn', 'lstm'\), got 'gru'"),
    ],
)
def test_charnet_bad_arguments(args, err, words) -> None:
    with pytest.raises(err, match=words):
        CharNet(*args)
