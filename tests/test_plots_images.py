"""plots.plot_images and plots.plot_heatmap_overlay: what is drawn, and bad input rejected."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from dlbasics.plots import plot_heatmap_overlay, plot_images  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_plot_images_draws_each_image_unchanged_in_a_new_grid() -> None:
    images = torch.arange(5 * 4 * 3, dtype=torch.float32).reshape(5, 1, 4, 3)
    fig = plot_images(images, titles=list("abcde"), ncols=3)
    drawn = [ax for ax in fig.axes if ax.images]
    assert len(fig.axes) == 6 and len(drawn) == 5  # 2 rows x 3 columns, the last one empty
    for k, ax in enumerate(drawn):
        np.testing.assert_array_equal(ax.images[0].get_array(), images[k, 0].numpy())
        assert ax.get_title() == "abcde"[k] and not ax.get_xticks().size
    assert not fig.axes[5].axison


def test_plot_images_uses_given_axes_and_a_symmetric_scale() -> None:
    fig, axs = plt.subplots(2, 2)
    images = [np.array([[-1.0, 3.0], [0.0, 2.0]]), np.zeros((3, 5))]
    out = plot_images(images, ax=axs[:, 1], cmap="RdBu_r", symmetric=True)
    assert out is fig
    assert axs[0, 1].images[0].get_clim() == (-3.0, 3.0)
    assert axs[1, 1].images[0].get_clim() == (-1.0, 1.0)  # all zeros: a scale that still works
    assert not axs[0, 0].images and axs[0, 1].images[0].get_cmap().name == "RdBu_r"


@pytest.mark.parametrize(
    ("kwargs", "err", "words"),
    [
        ({"images": "abc"}, TypeError, "images must be"),
        ({"images": []}, TypeError, "images must be"),
        ({"images": torch.zeros(4, 4)}, ValueError, r"\(n, h, w\)"),
        ({"images": torch.zeros(2, 3, 4, 4)}, ValueError, r"images\[0\] must have shape"),
        ({"images": [torch.zeros(4, 4), "x"]}, TypeError, r"images\[1\]"),
        ({"images": torch.zeros(2, 4, 4), "titles": ["one"]}, ValueError, "titles"),
        ({"images": torch.zeros(2, 4, 4), "ncols": 0}, ValueError, "ncols"),
        ({"images": torch.zeros(2, 4, 4), "ncols": 1.5}, TypeError, "ncols"),
        ({"images": torch.zeros(2, 4, 4), "symmetric": "yes"}, TypeError, "symmetric"),
        ({"images": torch.zeros(2, 4, 4), "size": -1}, ValueError, "size"),
    ],
)
def test_plot_images_rejects_bad_input(kwargs, err, words) -> None:
    with pytest.raises(err, match=words):
        plot_images(**kwargs)


def test_plot_images_needs_enough_axes() -> None:
    _, axs = plt.subplots(1, 2)
    with pytest.raises(ValueError, match="at least 3 axes"):
        plot_images(torch.zeros(3, 4, 4), ax=axs)


def test_heatmap_overlay_stretches_the_map_over_the_image() -> None:
    image = torch.rand(1, 28, 28)
    heat = torch.arange(49.0).reshape(7, 7)
    fig = plot_heatmap_overlay(image, heat, title="seven", alpha=0.4)
    ax = fig.axes[0]
    under, over = ax.images
    np.testing.assert_array_equal(under.get_array(), image[0].numpy())
    np.testing.assert_array_equal(over.get_array(), heat.numpy())
    assert under.get_extent() == over.get_extent() == [-0.5, 27.5, 27.5, -0.5]
    assert over.get_alpha() == 0.4 and ax.get_title() == "seven"
    _, ax2 = plt.subplots()
    assert plot_heatmap_overlay(image[0].numpy(), heat[None], ax=ax2) is ax2.figure


@pytest.mark.parametrize(
    ("args", "kwargs", "err", "words"),
    [
        ((torch.zeros(2, 4, 4), torch.zeros(2, 2)), {}, ValueError, "image must have shape"),
        ((torch.zeros(4, 4), torch.zeros(4)), {}, ValueError, "heat must have shape"),
        ((torch.zeros(4, 4), [[1.0]]), {}, TypeError, "heat must be a tensor"),
        ((torch.zeros(4, 4), torch.zeros(2, 2)), {"alpha": 1.5}, ValueError, "alpha"),
        ((torch.zeros(4, 4), torch.zeros(2, 2)), {"alpha": "half"}, TypeError, "alpha"),
    ],
)
def test_heatmap_overlay_rejects_bad_input(args, kwargs, err, words) -> None:
    with pytest.raises(err, match=words):
        plot_heatmap_overlay(*args, **kwargs)


def test_plot_images_colour_scale_ignores_non_finite_pixels() -> None:
    """Misuse 8: one nan pixel gave nan colour limits and a blank image."""
    img = np.array([[-2.0, 1.0], [np.nan, 0.5]])
    fig = plot_images([img, np.array([[np.inf, 3.0], [1.0, 2.0]])], symmetric=True)
    assert fig.axes[0].images[0].get_clim() == (-2.0, 2.0)
    assert fig.axes[1].images[0].get_clim() == (-3.0, 3.0)
    fig = plot_images([img, np.full((2, 2), np.nan)])
    assert fig.axes[0].images[0].get_clim() == (-2.0, 1.0)
    assert fig.axes[1].images[0].get_clim() == (0.0, 1.0)  # nothing finite: a blank 0-1 scale
    plt.close("all")
