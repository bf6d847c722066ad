"""Week 12's next-character helpers: text as one-hot rows, a tiny recurrent model, a heat map.

A string of length ``L`` over a vocabulary of ``V`` characters becomes an ``(L, V)`` float
tensor with one 1 per row. :func:`next_char_data` pairs each character with the one after
it; :class:`CharNet` is a recurrent layer (``nn.RNN`` or ``nn.LSTM``) followed by a linear
read-out; :func:`plot_states` draws hidden states (and probabilities) over time.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure
from torch import nn

from ._checks import check_choice, check_int, check_tensor

__all__ = ["CharNet", "encode", "next_char_data", "one_hot", "plot_states", "vocabulary"]


def _check_text(text: object, name: str = "text", *, minimum: int = 1) -> str:
    if not isinstance(text, str):
        raise TypeError(f"{name} must be a str, got {type(text).__name__}")
    if len(text) < minimum:
        raise ValueError(f"{name} must have at least {minimum} character(s), got {text!r}")
    return text


def vocabulary(text: str) -> str:
    """The distinct characters of ``text`` in order of first appearance ('AbAcAd' -> 'Abcd')."""
    return "".join(dict.fromkeys(_check_text(text)))


def _check_vocab(vocab: object) -> str:
    vocab = _check_text(vocab, "vocab")
    if len(set(vocab)) != len(vocab):
        raise ValueError(f"vocab must not repeat a character, got {vocab!r}")
    return vocab


def encode(text: str, vocab: str) -> torch.Tensor:
    """Index of each character of ``text`` in ``vocab``: int64, shape ``(L,)``."""
    _check_text(text)
    vocab = _check_vocab(vocab)
    index = {c: i for i, c in enumerate(vocab)}
    unknown = sorted(set(text) - set(vocab))
    if unknown:
        raise ValueError(f"text has characters {unknown} that are not in vocab {vocab!r}")
    return torch.tensor([index[c] for c in text], dtype=torch.int64)


def one_hot(text: str, vocab: str) -> torch.Tensor:
    """One row per character, a single 1 in the column of that character: float32 ``(L, V)``."""
    return nn.functional.one_hot(encode(text, vocab), len(vocab)).float()


def next_char_data(text: str, vocab: str | None = None) -> tuple[torch.Tensor, torch.Tensor, str]:
    """Inputs and targets for predicting the next character of ``text``.

    Returns ``(X, Y, vocab)``: ``X`` one-hot rows of ``text[:-1]`` and ``Y`` one-hot rows of
    ``text[1:]``, both float32 ``(L - 1, V)``; ``vocab`` defaults to :func:`vocabulary`.
    """
    _check_text(text, minimum=2)
    vocab = vocabulary(text) if vocab is None else vocab
    return one_hot(text[:-1], vocab), one_hot(text[1:], vocab), vocab


class CharNet(nn.Module):
    """A recurrent layer and a linear read-out: one-hot ``(L, V)`` -> logits ``(L, V)``.

    ``kind`` is ``"rnn"`` (``nn.RNN``, tanh) or ``"lstm"`` (``nn.LSTM``). The recurrent layer
    is created first and the read-out second, so after ``torch.manual_seed(s)`` the weights
    are those of ``nn.RNN(V, hidden)`` (or ``nn.LSTM``) followed by ``nn.Linear(hidden, V)``.
    The sequence is unbatched and starts from zero states.
    """

    def __init__(self, vocab_size: int, hidden: int, kind: str = "rnn") -> None:
        super().__init__()
        self.vocab_size = check_int(vocab_size, "vocab_size", minimum=1)
        hidden = check_int(hidden, "hidden", minimum=1)  # a plain int (np.int64 is fine)
        self.kind = check_choice(kind, "kind", ("rnn", "lstm"))
        layer = nn.RNN if kind == "rnn" else nn.LSTM
        self.rnn = layer(self.vocab_size, hidden)
        self.linr = nn.Linear(hidden, self.vocab_size)

    def hidden_states(self, X: torch.Tensor) -> torch.Tensor:
        """The hidden state after each step, ``(L, hidden)``."""
        check_tensor(X, "X", ndim=2, floating=True)
        if X.shape[1] != self.vocab_size:
            raise ValueError(
                f"X must have {self.vocab_size} columns (one per character), "
                f"got shape {tuple(X.shape)}"
            )
        h, _ = self.rnn(X)
        return h

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return self.linr(self.hidden_states(X))


def plot_states(
    h: torch.Tensor,
    text: str,
    probs: torch.Tensor | None = None,
    vocab: str | None = None,
    ax: plt.Axes | None = None,
) -> Figure:
    """Heat map of hidden states over time: one column per step, one row per hidden unit.

    Args:
        h: hidden states, ``(L, k)`` with values in about ``[-1, 1]`` (blue -1, white 0, red 1).
        text: the ``L`` input characters, written under the columns.
        probs: optional predicted probabilities ``(L, V)``, drawn as ``V`` more rows below a
            line (0 white, 1 red); then ``vocab`` (``V`` characters) labels them.
        ax: axes to draw on (a new figure if ``None``).
    """
    h = check_tensor(h, "h", ndim=2, floating=True).detach().cpu()
    _check_text(text)
    if len(text) != h.shape[0]:
        raise ValueError(
            f"text must have one character per row of h ({h.shape[0]}), got {len(text)}"
        )
    rows = [f"$h_{{{j + 1}}}$" for j in range(h.shape[1])]
    mat = h
    if probs is not None:
        probs = check_tensor(probs, "probs", ndim=2, floating=True).detach().cpu()
        vocab = _check_vocab(vocab) if vocab is not None else None
        if vocab is None or probs.shape != (h.shape[0], len(vocab)):
            raise ValueError(
                f"probs must have shape (L, len(vocab)) = ({h.shape[0]}, V) with vocab given, "
                f"got {tuple(probs.shape)} and vocab={vocab!r}"
            )
        mat = torch.cat([h, probs], dim=1)
        rows += [f"$P_{{{c}}}$" for c in vocab]
    if ax is None:
        _, ax = plt.subplots(figsize=(0.35 * len(text) + 1.2, 0.32 * len(rows) + 0.9))
    ax.imshow(mat.T.numpy(), cmap="bwr", vmin=-1, vmax=1, aspect="auto")
    ax.set_xticks(range(len(text)), list(text))
    ax.set_yticks(range(len(rows)), rows)
    ax.set_xlabel("input character $x_t$, step by step")
    if probs is not None:
        ax.axhline(h.shape[1] - 0.5, color="black", linewidth=1.5)
    return ax.figure
