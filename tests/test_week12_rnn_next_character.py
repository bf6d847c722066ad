"""Week 12: one-hot text, the RNN recurrence written out (float64) against nn.RNNCell and
nn.RNN, one LSTM step against nn.LSTMCell, the memoryless ceilings counted by hand, the
dlbasics.rnn helpers with their error messages, and the numbers the executed post prints."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib
import pytest
import torch
from torch import nn

from dlbasics.rnn import CharNet, encode, next_char_data, one_hot, plot_states, vocabulary

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from post_output import answers_of, number, printed  # noqa: E402

POST = "12-rnn-next-character"
QMD = Path(__file__).resolve().parents[1] / "posts" / POST / "index.qmd"


# ------------------------------------------------------------------ one-hot text


def test_vocabulary_keeps_order_of_first_appearance() -> None:
    assert vocabulary("AbAcAd" * 3) == "Abcd"
    assert vocabulary("abcabC") == "abcC"
    assert vocabulary("x") == "x"


def test_one_hot_rows_have_a_single_one_in_the_character_column() -> None:
    text, vocab = "hello", "helo"
    X = one_hot(text, vocab)
    assert X.shape == (5, 4) and X.dtype == torch.float32
    for t, char in enumerate(text):
        expected = [1.0 if v == char else 0.0 for v in vocab]
        assert X[t].tolist() == expected
    assert encode(text, vocab).tolist() == [0, 1, 2, 2, 3]


def test_next_char_data_pairs_each_character_with_its_successor() -> None:
    X, Y, vocab = next_char_data("AbAcAd" * 50)
    assert vocab == "Abcd" and X.shape == Y.shape == (299, 4)
    txt = "AbAcAd" * 50
    assert "".join(vocab[i] for i in X.argmax(1)) == txt[:-1]
    assert "".join(vocab[i] for i in Y.argmax(1)) == txt[1:]
    # an explicit vocabulary fixes the column order
    X2, _, v2 = next_char_data("ab", vocab="ba")
    assert v2 == "ba" and X2.tolist() == [[0.0, 1.0]]


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: vocabulary(["a", "b"]), TypeError, "text must be a str, got list"),
        (lambda: vocabulary(""), ValueError, "text must have at least 1 character"),
        (lambda: encode("abz", "ab"), ValueError, "characters ['z'] that are not in vocab"),
        (lambda: encode("ab", "aba"), ValueError, "vocab must not repeat a character"),
        (lambda: one_hot(b"ab", "ab"), TypeError, "text must be a str, got bytes"),
        (lambda: next_char_data("a"), ValueError, "text must have at least 2 character"),
        (lambda: next_char_data("abc", vocab=3), TypeError, "vocab must be a str, got int"),
        (lambda: CharNet(4, 2, kind="gru"), ValueError, "kind must be one of ('rnn', 'lstm')"),
        (lambda: CharNet(4, 0), ValueError, "hidden must be >= 1, got 0"),
        (lambda: CharNet(4.0, 2), TypeError, "vocab_size must be an int, got float"),
        (lambda: CharNet(4, 2)(torch.zeros(5, 3)), ValueError, "X must have 4 columns"),
        (lambda: CharNet(4, 2)(torch.zeros(5, 4, dtype=torch.int64)), TypeError, "floating"),
        (lambda: CharNet(4, 2)(torch.zeros(4)), ValueError, "X must be 2-D"),
    ],
)
def test_bad_input_raises_a_clear_error(call, error, message) -> None:
    with pytest.raises(error, match=re.escape(message)):
        call()


# ------------------------------------------------------------------ the recurrence


def _rnn_loop_float64(X: torch.Tensor, W_ih, W_hh, b_ih, b_hh) -> torch.Tensor:
    """h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), entry by entry in float64."""
    X, W_ih, W_hh, b_ih, b_hh = (t.detach().double() for t in (X, W_ih, W_hh, b_ih, b_hh))
    k, V = W_ih.shape
    h = [0.0] * k
    out = []
    for x in X:
        h = [
            float(
                torch.tanh(
                    sum(x[v] * W_ih[j, v] for v in range(V))
                    + b_ih[j]
                    + sum(h[m] * W_hh[j, m] for m in range(k))
                    + b_hh[j]
                )
            )
            for j in range(k)
        ]
        out.append(h)
    return torch.tensor(out, dtype=torch.float64)


@pytest.mark.parametrize(("seed", "hidden"), [(4, 2), (43052, 3)])
def test_recurrence_by_hand_equals_rnncell_and_rnn(seed: int, hidden: int) -> None:
    X, _, vocab = next_char_data("AbAcAd" * 4)
    torch.manual_seed(seed)
    cell = nn.RNNCell(len(vocab), hidden)
    reference = _rnn_loop_float64(X, cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    with torch.no_grad():
        h, by_cell = torch.zeros(hidden), []
        for x in X:
            h = cell(x, h)
            by_cell.append(h)
        torch.manual_seed(seed)
        net = CharNet(len(vocab), hidden, kind="rnn")
        by_rnn = net.hidden_states(X)
    torch.testing.assert_close(torch.stack(by_cell).double(), reference, atol=1e-6, rtol=0)
    torch.testing.assert_close(by_rnn.double(), reference, atol=1e-6, rtol=0)


def test_charnet_draws_the_weights_of_rnn_then_linear() -> None:
    torch.manual_seed(4)
    cell = nn.RNNCell(4, 2)
    cook = nn.Linear(2, 4)
    torch.manual_seed(4)
    net = CharNet(4, 2)
    assert torch.equal(net.rnn.weight_ih_l0, cell.weight_ih)
    assert torch.equal(net.rnn.weight_hh_l0, cell.weight_hh)
    assert torch.equal(net.rnn.bias_hh_l0, cell.bias_hh)
    assert torch.equal(net.linr.weight, cook.weight)
    torch.manual_seed(0)
    lstm, cook = nn.LSTM(4, 3), nn.Linear(3, 4)
    torch.manual_seed(0)
    net = CharNet(4, 3, kind="lstm")
    assert torch.equal(net.rnn.weight_hh_l0, lstm.weight_hh_l0)
    assert torch.equal(net.linr.bias, cook.bias)
    X, _, _ = next_char_data("abcabC")
    assert net(X).shape == (5, 4)


def test_one_lstm_step_by_the_formulas_equals_lstmcell() -> None:
    torch.manual_seed(43052)
    cell = nn.LSTMCell(4, 2)
    x = torch.tensor([0.0, 1.0, 0.0, 0.0])
    h0, c0 = torch.tensor([0.3, -0.2]), torch.tensor([0.5, -1.0])
    W_ih, W_hh = cell.weight_ih.detach().double(), cell.weight_hh.detach().double()
    b = (cell.bias_ih + cell.bias_hh).detach().double()

    def gate(block: int, squash) -> torch.Tensor:
        rows = slice(2 * block, 2 * block + 2)
        return squash(W_ih[rows] @ x.double() + W_hh[rows] @ h0.double() + b[rows])

    i, f = gate(0, torch.sigmoid), gate(1, torch.sigmoid)
    g, o = gate(2, torch.tanh), gate(3, torch.sigmoid)
    c1 = f * c0.double() + i * g
    h1 = o * torch.tanh(c1)
    with torch.no_grad():
        h_ref, c_ref = cell(x, (h0, c0))
    torch.testing.assert_close(h_ref.double(), h1, atol=1e-6, rtol=0)
    torch.testing.assert_close(c_ref.double(), c1, atol=1e-6, rtol=0)


# ------------------------------------------------------------------ plot helper


def test_plot_states_draws_states_and_probabilities() -> None:
    h = torch.linspace(-1, 1, 12).reshape(6, 2)
    probs = torch.softmax(torch.randn(6, 4), dim=1)
    fig = plot_states(h, "AbAcAd", probs, "Abcd")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == list("AbAcAd")
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "$h_{1}$", "$h_{2}$", "$P_{A}$", "$P_{b}$", "$P_{c}$", "$P_{d}$",
    ]  # fmt: skip
    shown = ax.images[0].get_array()
    torch.testing.assert_close(torch.as_tensor(shown.data[:2]).float(), h.T)
    plt.close(fig)
    fig, ax = plt.subplots()
    assert plot_states(h, "AbAcAd", ax=ax) is fig
    plt.close(fig)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"text": "Ab"}, ValueError, "text must have one character per row of h (6), got 2"),
        ({"h": torch.zeros(6)}, ValueError, "h must be 2-D"),
        ({"probs": torch.zeros(6, 4)}, ValueError, "probs must have shape (L, len(vocab))"),
        ({"probs": torch.zeros(6, 3), "vocab": "Abcd"}, ValueError, "probs must have shape"),
        ({"h": [[0.0]]}, TypeError, "h must be a torch.Tensor"),
    ],
)
def test_plot_states_rejects_bad_input(kwargs, error, message) -> None:
    args = {"h": torch.zeros(6, 2), "text": "AbAcAd"} | kwargs
    with pytest.raises(error, match=re.escape(message)):
        plot_states(**args)
    plt.close("all")


# ------------------------------------------------------------------ the executed post


# The ceilings counted by hand. "AbAcAd" * 50 gives 299 inputs: 150 A's, followed by b, c
# and d 50 times each (a rule gets at most 50 right), and 149 lower-case letters, always
# followed by A. "abcabC" * 50: a -> b 100 times, b -> c or C 50 times each, c -> a 50,
# C -> a 49.
CEILING_ABACAD = (50 + 149) / 299
CEILING_ABCABC = (100 + 50 + 50 + 49) / 299


def test_takeaway_states_the_ceiling_as_counted() -> None:
    assert round(CEILING_ABACAD * 299) == 199
    assert "199 of the 299 pairs,\n  about 2/3, on `AbAcAd`" in QMD.read_text(encoding="utf-8")


def test_unbatched_input_shapes_as_the_text_says() -> None:
    # "an unbatched sequence (L, V) gives output (L, k) and h_n (layers, k)"
    rnn = nn.RNN(4, 3, num_layers=2)
    output, h_n = rnn(torch.zeros(7, 4))
    assert tuple(output.shape) == (7, 3) and tuple(h_n.shape) == (2, 3)
    lstm = nn.LSTM(4, 3)
    output, (h_n, c_n) = lstm(torch.zeros(7, 4))
    assert tuple(output.shape) == (7, 3) and tuple(h_n.shape) == tuple(c_n.shape) == (1, 3)


def test_post_prints_the_ceilings_counted_by_hand(executed_post) -> None:
    shown = printed(executed_post(POST))
    ceiling = number(r"best memoryless accuracy on AbAcAd: ([0-9.]+)", shown)
    assert ceiling == pytest.approx(CEILING_ABACAD, abs=1e-4)
    assert number(r"best memoryless accuracy on abcabC: ([0-9.]+)", shown) == pytest.approx(
        CEILING_ABCABC, abs=1e-4
    )


def test_post_hand_written_cells_match_pytorch(executed_post) -> None:
    shown = printed(executed_post(POST))
    assert "same weights in nn.RNN: True" in shown
    assert number(r"max \|by hand - nn.RNNCell\| = ([0-9.e+-]+)", shown) <= 1e-6
    assert number(r"max \|by hand - nn.RNN\| += ([0-9.e+-]+)", shown) <= 1e-6
    assert number(r"max \|h_1 by hand - LSTMCell\| = ([0-9.e+-]+)", shown) <= 1e-6
    assert number(r"max \|c_1 by hand - LSTMCell\| = ([0-9.e+-]+)", shown) <= 1e-6


def test_post_teaching_claims_about_accuracy(executed_post) -> None:
    shown = printed(executed_post(POST))
    # no memory: at (or under) the ceiling, on both strings
    assert number(r"memoryless net, accuracy: ([0-9.]+)", shown) <= CEILING_ABACAD + 1e-4
    assert number(r"memoryless net on abcabC: ([0-9.]+)", shown) <= CEILING_ABCABC + 1e-4
    # the RNN predicts AbAcAd perfectly ...
    assert number(r"RNN, accuracy on AbAcAd: ([0-9.]+)", shown) == 1.0
    # ... but not abcabC, where the LSTM's memory is needed
    assert number(r"RNN  accuracy on abcabC: ([0-9.]+)", shown) <= CEILING_ABCABC + 1e-4
    assert number(r"LSTM accuracy on abcabC: ([0-9.]+)", shown) == 1.0


def test_post_saturation_and_parameter_counts(executed_post) -> None:
    shown = printed(executed_post(POST))
    assert number(r"RNN on abcabC  : share of \|h\| > 0.95 = ([0-9.]+)", shown) >= 0.95
    assert number(r"LSTM on abcabC : share of \|h\| > 0.95 = ([0-9.]+)", shown) <= 0.05
    # k (V + k + 2) with V = 4, k = 2, and the read-out k V + V
    assert "RNN : recurrent layer 16, whole CharNet 28" in shown
    assert "LSTM: recurrent layer 64, whole CharNet 76" in shown


def _lstm_loop_float64(X: torch.Tensor, lstm: nn.LSTM) -> torch.Tensor:
    """The post's LSTM recurrence written out in float64, gates in PyTorch's i, f, g, o order."""
    W_ih, W_hh = lstm.weight_ih_l0.detach().double(), lstm.weight_hh_l0.detach().double()
    b = (lstm.bias_ih_l0 + lstm.bias_hh_l0).detach().double()
    k = W_hh.shape[1]
    h, c, out = torch.zeros(k, dtype=torch.float64), torch.zeros(k, dtype=torch.float64), []
    for x in X.double():
        z = W_ih @ x + W_hh @ h + b
        i, f = 1 / (1 + torch.exp(-z[:k])), 1 / (1 + torch.exp(-z[k : 2 * k]))
        g, o = torch.tanh(z[2 * k : 3 * k]), 1 / (1 + torch.exp(-z[3 * k :]))
        c = f * c + i * g
        h = o * torch.tanh(c)
        out.append(h)
    return torch.stack(out)


def test_charnet_lstm_hidden_states_equal_the_recurrence_written_out() -> None:
    X, _, vocab = next_char_data("abcabC" * 3)
    torch.manual_seed(43052)
    net = CharNet(len(vocab), 2, kind="lstm")
    with torch.no_grad():
        states = net.hidden_states(X)
        logits = net(X)
    reference = _lstm_loop_float64(X, net.rnn)
    torch.testing.assert_close(states.double(), reference, atol=1e-6, rtol=0)
    readout = reference @ net.linr.weight.detach().double().T + net.linr.bias.detach().double()
    torch.testing.assert_close(logits.double(), readout, atol=1e-6, rtol=0)


@pytest.mark.slow
def test_post_vanishing_gradients_shapes_and_generation(executed_post) -> None:
    shown = printed(executed_post(POST))
    norms = {}
    for kind in ("RNN", "LSTM"):
        line = re.search(rf"^{kind} *: (k=1: .*)$", shown, re.M).group(1)
        norms[kind] = [float(v) for v in re.findall(r"k=\d: (\S+)", line)]
        assert len(norms[kind]) == 6
    rnn, lstm = norms["RNN"], norms["LSTM"]
    # the RNN's link keeps falling, by orders of magnitude over six steps; the LSTM's cell
    # state keeps a link at least a hundred times stronger three steps back
    assert all(b < a for a, b in zip(rnn, rnn[1:], strict=False))
    assert rnn[1] < rnn[0] / 3 and rnn[5] < 1e-6 * rnn[0]
    assert lstm[2] > 100 * rnn[2] and lstm[0] / lstm[1] < rnn[0] / rnn[1]
    # shapes of nn.RNN / nn.LSTM, checked against what the text says
    assert "batch_first=True:  input (3, 6, 4) -> output (3, 6, 2)  h_n (1, 3, 2)" in shown
    assert "last step of output equals h_n: True" in shown
    assert "batch_first=False: input (6, 3, 4) -> output (6, 3, 2)  same numbers: True" in shown
    assert "LSTM: output (3, 6, 2)  h_n (1, 3, 2)  c_n (1, 3, 2)" in shown
    # generation: the LSTM repeats abcabC; the RNN is right everywhere except after b
    lstm_text = re.search(r"^LSTM: ([abcC]+)$", shown, re.M).group(1)
    rnn_text = re.search(r"^RNN : ([abcC]+)$", shown, re.M).group(1)
    assert len(lstm_text) == len(rnn_text) == 36
    assert lstm_text == ("abcabC" * 6)[:36]
    for prev, nxt in zip(rnn_text, rnn_text[1:], strict=False):
        expected = {"a": "b", "c": "a", "C": "a"}.get(prev)
        assert nxt == expected if expected else nxt in "cC"
    # "a probability close to 1 but not 1": greedy decoding is exact, sampling can slip
    low, high = (
        float(v)
        for v in re.search(
            r"LSTM, probability of the true next character: ([0-9.]+) to ([0-9.]+)", shown
        ).groups()
    )
    assert 0.5 < low < high and low < 0.999


def self_check_answers() -> list[str]:
    return answers_of(QMD)


def test_self_check_answers_are_what_pytorch_computes() -> None:
    answers = self_check_answers()
    assert len(answers) == 6

    # 1. shapes with batch_first=True
    output, h_n = nn.RNN(5, 8, batch_first=True)(torch.zeros(16, 20, 5))
    assert tuple(output.shape) == (16, 20, 8) and tuple(h_n.shape) == (1, 16, 8)
    assert answers[0].startswith("`output` is `(16, 20, 8)`") and "`(1, 16, 8)`" in answers[0]

    # 2. parameter counts: k (V + k + 2) and four times that
    n_rnn = sum(p.numel() for p in nn.RNN(10, 3).parameters())
    n_lstm = sum(p.numel() for p in nn.LSTM(10, 3).parameters())
    assert n_rnn == 3 * (10 + 3 + 2) == 45 and n_lstm == 4 * n_rnn == 180
    assert answers[1].startswith("45 and 180.")

    # 3. the memoryless ceiling of "aab" * 50, counted pair by pair
    text = "aab" * 50
    pairs: dict[str, dict[str, int]] = {}
    for a, b in zip(text, text[1:], strict=False):
        pairs.setdefault(a, {}).setdefault(b, 0)
        pairs[a][b] += 1
    best = sum(max(successors.values()) for successors in pairs.values())
    assert (best, len(text) - 1) == (99, 149)
    stated = " ".join(answers[2].split())  # the answer's words, line breaks folded
    assert f"{best} of the {len(text) - 1} pairs, {best / (len(text) - 1):.3f}" in stated

    # 4. a state of None at every step makes the LSTM memoryless
    torch.manual_seed(0)
    lstm = nn.LSTM(4, 2)
    x = torch.eye(4)[:1]
    with torch.no_grad():
        _, state = lstm(x, None)
        carried, _ = lstm(x, state)
        restarted, _ = lstm(x, None)
        first, _ = lstm(x, None)
    assert torch.equal(restarted, first) and not torch.equal(carried, first)
    assert "`model.rnn(x, state)`" in answers[3]

    # 5. teacher forcing: the inputs are the text, the targets the text shifted by one
    X, Y, vocab = next_char_data("abcabC" * 50)
    assert torch.equal(X[1:], Y[:-1])
    assert answers[4].startswith("The true character")

    # 6. f = 1, i = 0 carries the cell state
    c_prev, g = torch.tensor([0.3, -0.7]), torch.tensor([0.9, 0.1])
    f, i = torch.ones(2), torch.zeros(2)
    assert torch.equal(f * c_prev + i * g, c_prev)
    assert "\\mathbf f_t \\approx 1$ and input gate $\\mathbf i_t \\approx 0$" in answers[5]


def test_post_rnn_cannot_tell_the_two_bs_apart_and_the_lstm_can(executed_post) -> None:
    shown = printed(executed_post(POST))
    states = {
        kind: [[float(v) for v in group.split(", ")] for group in groups]
        for kind, *groups in re.findall(
            r"^(RNN|LSTM)\s+state after the 1st b: \(([^)]*)\), after the 2nd b: \(([^)]*)\)$",
            shown,
            re.M,
        )
    }
    first, second = states["RNN"]
    assert (
        max(abs(a - b) for a, b in zip(first, second, strict=False)) < 0.1
    )  # "practically the same"
    first, second = states["LSTM"]
    assert (
        max(abs(a - b) for a, b in zip(first, second, strict=False)) > 0.1
    )  # the LSTM's states differ
