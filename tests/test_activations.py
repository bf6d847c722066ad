"""The staircase helpers keep the caller's precision and reject a bad dtype."""

import math

import pytest
import torch

from dlbasics.activations import staircase, step_staircase


def _h(u: float, s: float = 200.0) -> float:
    """h(u) = sigmoid(s (u + 1/2)) + sigmoid(-s (u - 1/2)) - 1, in float64."""

    def sig(t: float) -> float:
        return 1 / (1 + math.exp(-t)) if t >= 0 else math.exp(t) / (1 + math.exp(t))

    return sig(s * (u + 0.5)) + sig(-s * (u - 0.5)) - 1


def test_float64_input_gives_a_float64_staircase_exact_to_rounding():
    edges, heights = [0.0, 0.3, 1.0, 2.0], [0.7, -1.3, 2.1]
    x = torch.linspace(-0.5, 2.5, 301, dtype=torch.float64)
    out = staircase(x, edges, heights)
    assert out.dtype == torch.float64 and out.shape == x.shape
    for xi, got in zip(x.tolist(), out.tolist(), strict=True):
        want = sum(
            hj * _h((xi - (a + b) / 2) / (b - a))
            for a, b, hj in zip(edges[:-1], edges[1:], heights, strict=True)
        )
        assert got == pytest.approx(want, rel=1e-12, abs=1e-13)
    out32 = staircase(x.float(), edges, heights)
    assert out32.dtype == torch.float32
    assert float((out32.double() - out).abs().max()) > 1e-9  # float32 really is coarser


def test_step_staircase_dtype_must_be_a_float_type():
    assert step_staircase([0, 1], [1.0], dtype=torch.float64)[0].weight.dtype == torch.float64
    with pytest.raises(TypeError, match="dtype must be torch.float32 or torch.float64"):
        step_staircase([0, 1], [1.0], dtype=torch.int64)
