"""dlbasics.cam: class activation maps against a float64 loop over channels; bad input rejected."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from dlbasics.cam import cam, split_gap_net


def gap_net(channels: int = 6, classes: int = 4) -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 3, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(3, channels, 3, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(channels, classes),
    ).double()


def pooled_inputs(net: nn.Sequential, X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The feature maps the pooling layer receives in an ordinary forward pass, and the output."""
    seen = {}
    hook = net[-3].register_forward_hook(lambda _m, inputs, _out: seen.update(F=inputs[0]))
    with torch.no_grad():
        out = net(X)
    hook.remove()
    return seen["F"], out


def test_cam_is_the_weighted_sum_of_feature_maps_and_averages_to_the_score() -> None:
    net = gap_net()
    X = torch.rand(5, 1, 12, 12, generator=torch.Generator().manual_seed(1)).double()
    F, scores = pooled_inputs(net, X)
    W, b = net[-1].weight.detach(), net[-1].bias.detach()
    for k in range(4):
        maps = cam(net, X, k)
        assert maps.shape == (5, 6, 6)
        for i in range(5):
            ref = torch.zeros(6, 6, dtype=torch.float64)
            for c in range(6):  # CAM_k = sum_c w_kc F_c, written out
                ref += W[k, c] * F[i, c]
            torch.testing.assert_close(maps[i], ref, rtol=0, atol=1e-12)
            assert float(scores[i, k]) == pytest.approx(float(ref.mean() + b[k]), abs=1e-12)


def _cam_by_hand(net: nn.Sequential, X: torch.Tensor, classes: list[int]) -> torch.Tensor:
    """CAM_k = sum_c w_kc F_c for each image's own class, in a float64 loop."""
    F, _ = pooled_inputs(net, X)
    W = net[-1].weight.detach()
    out = torch.zeros(F.shape[0], F.shape[2], F.shape[3], dtype=torch.float64)
    for i, k in enumerate(classes):
        for c in range(F.shape[1]):
            out[i] += W[k, c] * F[i, c]
    return out


def _bilinear_by_hand(image: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Bilinear resize, half-pixel centres (align_corners=False), written out in float64:
    output pixel i samples the input at s = (i + 0.5) h_in / h_out - 0.5, clamped at 0."""

    def taps(n_out: int, n_in: int, i: int) -> tuple[int, int, float]:
        s = max((i + 0.5) * n_in / n_out - 0.5, 0.0)
        lo = min(int(s), n_in - 1)
        return lo, min(lo + 1, n_in - 1), s - lo

    out = torch.zeros(height, width, dtype=torch.float64)
    for i in range(height):
        r0, r1, a = taps(height, image.shape[0], i)
        for j in range(width):
            c0, c1, b = taps(width, image.shape[1], j)
            top = (1 - b) * image[r0, c0] + b * image[r0, c1]
            bottom = (1 - b) * image[r1, c0] + b * image[r1, c1]
            out[i, j] = (1 - a) * top + a * bottom
    return out


def test_one_class_per_image_and_upsampling_against_loops() -> None:
    net = gap_net()
    X = torch.rand(3, 1, 12, 12, generator=torch.Generator().manual_seed(2)).double()
    cls = torch.tensor([2, 0, 3])
    maps = cam(net, X, cls)
    torch.testing.assert_close(maps, _cam_by_hand(net, X, cls.tolist()), rtol=0, atol=1e-12)
    for size in [(12, 12), (6, 6), (28, 9)]:
        up = cam(net, X, cls, size=size)
        assert up.shape == (3, *size)
        for i in range(3):
            torch.testing.assert_close(up[i], _bilinear_by_hand(maps[i], *size), rtol=0, atol=1e-12)
    # a hand-computed 2 x 2 -> 4 x 4 case: corners copy, inner pixels mix 3:1 and 1:3
    tiny = torch.tensor([[0.0, 4.0], [8.0, 12.0]], dtype=torch.float64)
    assert _bilinear_by_hand(tiny, 4, 4)[0].tolist() == [0.0, 1.0, 3.0, 4.0]
    assert _bilinear_by_hand(tiny, 4, 4)[:, 0].tolist() == [0.0, 2.0, 6.0, 8.0]
    flat = gap_net()
    with torch.no_grad():
        flat[-1].weight.zero_()
        flat[-1].weight[1, 0] = 1.0
        flat[3].weight.zero_()
        flat[3].bias.fill_(2.0)  # feature map 0 is the constant relu(2) = 2
    torch.testing.assert_close(
        cam(flat, X, 1, size=(12, 12)), torch.full((3, 12, 12), 2.0).double()
    )


def test_split_gap_net_returns_the_feature_layers_and_the_linear_layer() -> None:
    net = gap_net()
    features, linear = split_gap_net(net)
    assert linear is net[-1] and len(features) == len(net) - 3
    assert all(a is b for a, b in zip(features, list(net)[:-3], strict=True))


@pytest.mark.parametrize(
    ("net", "err", "words"),
    [
        (nn.Linear(3, 2), TypeError, "nn.Sequential"),
        (
            nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(3, 2)),
            ValueError,
            "feature layers",
        ),
        (
            nn.Sequential(nn.Conv2d(1, 3, 3), nn.Flatten(), nn.Linear(3, 2), nn.ReLU()),
            ValueError,
            "AdaptiveAvgPool2d",
        ),
        (
            nn.Sequential(
                nn.Conv2d(1, 3, 3), nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(12, 2)
            ),
            ValueError,
            "AdaptiveAvgPool2d",
        ),
        (
            nn.Sequential(nn.Conv2d(1, 3, 3), nn.AdaptiveAvgPool2d(1), nn.ReLU(), nn.Linear(3, 2)),
            ValueError,
            "Flatten",
        ),
        (
            nn.Sequential(nn.Conv2d(1, 3, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.ReLU()),
            ValueError,
            "last layer",
        ),
    ],
)
def test_networks_without_a_gap_linear_end_are_rejected(net, err, words) -> None:
    with pytest.raises(err, match=words):
        cam(net, torch.zeros(1, 1, 8, 8), 0)


@pytest.mark.parametrize(
    ("X", "cls", "size", "err", "words"),
    [
        ([[0.0]], 0, None, TypeError, "X must be a torch.Tensor"),
        (torch.zeros(1, 12, 12), 0, None, ValueError, "X must be 4-D"),
        (torch.zeros(1, 1, 12, 12, dtype=torch.long), 0, None, TypeError, "floating"),
        (torch.zeros(2, 1, 12, 12), 4, None, ValueError, "between 0 and 3"),
        (torch.zeros(2, 1, 12, 12), -1, None, ValueError, "between 0 and 3"),
        (torch.zeros(2, 1, 12, 12), 1.0, None, TypeError, "cls must be an int"),
        (torch.zeros(2, 1, 12, 12), True, None, TypeError, "cls must be an int"),
        (torch.zeros(2, 1, 12, 12), torch.tensor([0.0, 1.0]), None, ValueError, "integer tensor"),
        (torch.zeros(2, 1, 12, 12), torch.tensor([0, 1, 2]), None, ValueError, r"shape \(2,\)"),
        (torch.zeros(2, 1, 12, 12), torch.tensor([0, 9]), None, ValueError, "between 0 and 3"),
        (torch.zeros(2, 1, 12, 12), 0, 28, TypeError, "size must be a pair"),
        (torch.zeros(2, 1, 12, 12), 0, (28, 0), ValueError, "size must be >= 1"),
        (
            torch.zeros(2, 2, 12, 12),
            0,
            None,
            ValueError,
            r"X of shape \(2, 2, 12, 12\) does not fit",
        ),
    ],
)
def test_bad_input_is_rejected_with_a_clear_message(X, cls, size, err, words) -> None:
    net = gap_net().float()
    with pytest.raises(err, match=words):
        cam(net, X, cls, size=size)


def test_feature_channels_must_match_the_linear_layer() -> None:
    net = nn.Sequential(nn.Conv2d(1, 3, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(5, 2))
    with pytest.raises(ValueError, match="expects 5 channels"):
        cam(net, torch.zeros(1, 1, 8, 8), 0)


def test_cam_leaves_a_training_mode_net_untouched() -> None:
    """Misuse 5: BatchNorm statistics, the random generator and the mode stay as they were;
    the maps are those of eval mode (dropout off, running statistics)."""
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(1, 3, 3), nn.BatchNorm2d(3), nn.Dropout(0.5),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(3, 2),
    ).double()  # fmt: skip
    with torch.no_grad():
        net[1].running_mean.copy_(torch.tensor([0.1, -0.2, 0.3]))
        net[1].running_var.copy_(torch.tensor([2.0, 0.5, 1.5]))
    X = torch.rand(2, 1, 8, 8, generator=torch.Generator().manual_seed(3)).double()
    net.train()
    buffers = {k: v.clone() for k, v in net.state_dict().items()}
    rng = torch.get_rng_state()
    maps = cam(net, X, 1)
    assert net.training
    assert torch.equal(torch.get_rng_state(), rng)
    for k, v in net.state_dict().items():
        assert torch.equal(v, buffers[k]), k
    # eval-mode features written out: (conv - running_mean) / sqrt(running_var + eps) * g + b
    bn = net[1]
    with torch.no_grad():
        conv = net[0](X)
        scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
        F = (conv - bn.running_mean[:, None, None]) * scale[:, None, None] + bn.bias[:, None, None]
        expected = torch.einsum("nchw,c->nhw", F, net[-1].weight[1])
    torch.testing.assert_close(maps, expected, rtol=0, atol=1e-12)
