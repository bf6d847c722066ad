"""dlbasics.plots.plot_confusion: counts in the cells, colour = share of the true class."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from dlbasics.plots import plot_confusion

C = torch.tensor([[50, 3, 0], [4, 40, 6], [0, 0, 0]])  # class 2 never occurs


def _cell_texts(ax) -> dict[tuple[int, int], str]:
    return {
        (round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in ax.texts
    }


def test_cells_show_counts_and_colours_are_row_shares() -> None:
    fig = plot_confusion(C, title="three classes")
    ax = fig.axes[0]
    texts = _cell_texts(ax)
    assert len(texts) == 9
    for i in range(3):
        for j in range(3):
            assert texts[(i, j)] == str(int(C[i, j]))
    image = np.asarray(ax.images[0].get_array(), dtype=float)
    for i in range(3):
        row_total = sum(int(v) for v in C[i])
        for j in range(3):
            expect = int(C[i, j]) / row_total if row_total else 0.0
            assert image[i, j] == pytest.approx(expect)
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"
    assert ax.get_title() == "three classes"
    plt.close(fig)


def test_errors_only_leaves_the_diagonal_out_of_the_colour_scale() -> None:
    fig = plot_confusion(C.numpy(), errors_only=True)
    ax = fig.axes[0]
    image = np.ma.filled(np.ma.asarray(ax.images[0].get_array(), dtype=float), np.nan)
    assert np.isnan(np.diag(image)).all()
    # the brightest colour is the largest mistake's share: 6 of 50 in row 1
    assert ax.images[0].norm.vmax == pytest.approx(6 / 50)
    assert _cell_texts(ax)[(0, 0)] == "50"  # counts are still written on the diagonal
    plt.close(fig)


def test_draws_into_a_given_axes_with_labels() -> None:
    fig, axs = plt.subplots(1, 2)
    out = plot_confusion(C, ax=axs[1], labels=["zero", "one", "two"])
    assert out is fig and len(axs[1].images) == 1 and len(axs[0].images) == 0
    assert [t.get_text() for t in axs[1].get_xticklabels()] == ["zero", "one", "two"]
    assert [t.get_text() for t in axs[1].get_yticklabels()] == ["zero", "one", "two"]
    plt.close(fig)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"C": [[1, 0], [0, 1]]}, TypeError, "C must be a tensor or array"),
        ({"C": torch.ones(2, 3)}, ValueError, "square"),
        ({"C": torch.ones(1, 1)}, ValueError, "k >= 2"),
        ({"C": torch.ones(2)}, ValueError, "square"),
        ({"C": torch.tensor([[1, -1], [0, 1]])}, ValueError, "whole counts"),
        ({"C": torch.tensor([[1.5, 0.0], [0.0, 1.0]])}, ValueError, "whole counts"),
        ({"C": torch.tensor([[float("nan"), 0.0], [0.0, 1.0]])}, ValueError, "whole counts"),
        ({"C": C, "labels": ["a", "b"]}, ValueError, "labels must be 3 class names"),
        ({"C": C, "labels": "abc"}, ValueError, "labels must be 3 class names"),
        ({"C": C, "errors_only": 1}, TypeError, "errors_only must be a bool"),
    ],
)
def test_bad_input_names_the_argument(kwargs, error, message) -> None:
    with pytest.raises(error, match=message):
        plot_confusion(**kwargs)
