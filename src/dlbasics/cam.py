"""Class activation maps (Zhou et al., 2016) for a CNN that ends in GAP and one linear layer.

For ``net = nn.Sequential(*features, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(C, k))``
the score of class ``k`` is ``b_k + sum_c w_kc mean_ij F_c(i, j)`` with ``F = features(X)``.
Averaging and the weighted sum over channels commute, so the score is the spatial mean of

    CAM_k(i, j) = sum_c w_kc F_c(i, j)

plus ``b_k``: the map shows where in the image the evidence for class ``k`` sits.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from dlbasics._checks import check_int, check_tensor

__all__ = ["split_gap_net", "cam"]


def split_gap_net(net: nn.Module) -> tuple[nn.Sequential, nn.Linear]:
    """Split ``nn.Sequential(*features, AdaptiveAvgPool2d(1), Flatten(), Linear)``.

    Returns ``(features, linear)``: the layers before the pooling, and the last layer.

    Raises ``TypeError``/``ValueError`` naming what is missing for any other network.
    """
    if not isinstance(net, nn.Sequential):
        raise TypeError(f"net must be an nn.Sequential, got {type(net).__name__}")
    want = (
        "end in AdaptiveAvgPool2d(1), Flatten(), Linear "
        "(global average pooling, then one linear layer)"
    )
    if len(net) < 4:
        raise ValueError(f"net must have feature layers and {want}; it has {len(net)} layers")
    pool, flat, linear = list(net)[-3:]
    if not (isinstance(pool, nn.AdaptiveAvgPool2d) and pool.output_size in (1, (1, 1))):
        raise ValueError(f"net must {want}; layer {len(net) - 3} is {pool!r}")
    if not isinstance(flat, nn.Flatten):
        raise ValueError(f"net must {want}; layer {len(net) - 2} is {flat!r}")
    if not isinstance(linear, nn.Linear):
        raise ValueError(f"net must {want}; its last layer is {linear!r}")
    return net[:-3], linear


def cam(
    net: nn.Module,
    X: torch.Tensor,
    cls: int | torch.Tensor,
    *,
    size: tuple[int, int] | None = None,
) -> torch.Tensor:
    """Class activation maps of ``X`` for class ``cls``: shape ``(n, h, w)``.

    Args:
        net: ``nn.Sequential(*features, AdaptiveAvgPool2d(1), Flatten(), Linear(C, k))``.
            It is evaluated in eval mode (dropout off, BatchNorm's running statistics)
            whatever its mode, and left as it was: same mode, same parameters and
            buffers, and the global random generator is not used.
        X: images, shape ``(n, channels, H, W)``, floating; moved to ``net``'s device
            (the maps are returned on the CPU).
        cls: one class for all images (an int) or one per image (``n`` ints).
        size: ``(H', W')`` to upsample the maps to (bilinear), e.g. the image size;
            ``None`` keeps the feature maps' resolution ``(h, w)``, where
            ``net(X)[i, cls_i] == cam(...)[i].mean() + bias[cls_i]`` holds exactly
            (up to rounding).
    """
    features, linear = split_gap_net(net)
    check_tensor(X, "X", ndim=4, floating=True)
    n = X.shape[0]
    classes = linear.out_features
    if isinstance(cls, torch.Tensor):
        if cls.is_floating_point() or cls.dtype == torch.bool or cls.ndim != 1 or len(cls) != n:
            raise ValueError(
                f"cls must be an int or an integer tensor of shape ({n},), got "
                f"{cls.dtype} of shape {tuple(cls.shape)}"
            )
        index = cls.long()
    else:
        index = torch.full((n,), check_int(cls, "cls"), dtype=torch.long)
    if n and (int(index.min()) < 0 or int(index.max()) >= classes):
        raise ValueError(f"cls must be between 0 and {classes - 1}, got {cls!r}")
    if size is not None:
        if not (isinstance(size, (tuple, list)) and len(size) == 2):
            raise TypeError(f"size must be a pair (height, width) or None, got {size!r}")
        size = tuple(check_int(s, "size", minimum=1) for s in size)
    device = linear.weight.device
    was_training = net.training
    net.eval()
    try:
        with torch.no_grad():
            fmap = features(X.to(device))  # (n, C, h, w)
    except RuntimeError as err:  # e.g. 2 colour channels for a Conv2d(1, ...)
        raise ValueError(
            f"X of shape {tuple(X.shape)} does not fit net's feature layers: {err}"
        ) from None
    finally:
        net.train(was_training)
    with torch.no_grad():
        if fmap.ndim != 4 or fmap.shape[1] != linear.in_features:
            raise ValueError(
                f"net's feature layers give shape {tuple(fmap.shape)}, but its linear layer "
                f"expects {linear.in_features} channels"
            )
        weights = linear.weight[index.to(device)]  # (n, C)
        maps = torch.einsum("nchw,nc->nhw", fmap, weights)
        if size is not None:
            maps = F.interpolate(maps[:, None], size=size, mode="bilinear", align_corners=False)[
                :, 0
            ]
    return maps.cpu()
