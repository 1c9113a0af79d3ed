"""Assertions for the notebooks' test cells, with messages a learner can act on.

Test cells check behaviour (shapes, agreement with a library implementation on fresh random
inputs, gradients), never the learner's internal structure.
"""
from __future__ import annotations

from collections.abc import Iterable

import torch


def assert_shape(tensor, expected: Iterable[int], name: str = "tensor") -> None:
    if not isinstance(tensor, torch.Tensor):
        raise AssertionError(f"{name} should be a torch.Tensor, got {type(tensor).__name__}")
    expected = tuple(expected)
    if tuple(tensor.shape) != expected:
        raise AssertionError(f"{name} has shape {tuple(tensor.shape)}, expected {expected}")


def assert_close(actual, expected, *, atol: float = 1e-5, rtol: float = 1e-4, name: str = "result") -> None:
    """Like ``torch.testing.assert_close`` but accepts numbers and names the value in the message."""
    actual_t = torch.as_tensor(actual, dtype=torch.float64) if not isinstance(actual, torch.Tensor) else actual
    expected_t = torch.as_tensor(expected, dtype=torch.float64) if not isinstance(expected, torch.Tensor) else expected
    if actual_t.shape != expected_t.shape:
        raise AssertionError(f"{name} has shape {tuple(actual_t.shape)}, expected {tuple(expected_t.shape)}")
    a, e = actual_t.detach().double().cpu(), expected_t.detach().double().cpu()
    if not torch.isfinite(a).all():
        raise AssertionError(f"{name} contains NaN or inf")
    if not torch.allclose(a, e, atol=atol, rtol=rtol):
        diff = (a - e).abs().max().item()
        raise AssertionError(f"{name} differs from the expected value: max abs difference {diff:.3g} "
                             f"(atol={atol:g}, rtol={rtol:g})" + (f"; got {a.item():.6g}, expected {e.item():.6g}"
                                                                    if a.numel() == 1 else ""))


def snapshot_params(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """A detached copy of every parameter, to compare before and after training."""
    return {n: p.detach().clone() for n, p in model.named_parameters()}


def assert_params_changed(model: torch.nn.Module, before: dict[str, torch.Tensor], *,
                          only_trainable: bool = True) -> None:
    unchanged = [n for n, p in model.named_parameters()
                 if (p.requires_grad or not only_trainable) and torch.equal(p.detach(), before[n])]
    if unchanged:
        raise AssertionError(f"{len(unchanged)} parameter(s) did not change during training, e.g. {unchanged[0]!r}: "
                             "is the optimizer stepping, and on this model's parameters?")


def assert_params_unchanged(model: torch.nn.Module, before: dict[str, torch.Tensor]) -> None:
    changed = [n for n, p in model.named_parameters() if not torch.equal(p.detach(), before[n])]
    if changed:
        raise AssertionError(f"{len(changed)} parameter(s) changed, e.g. {changed[0]!r}, where none should")
