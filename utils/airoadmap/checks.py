"""Assertions for the notebooks' test cells, with messages a learner can act on.

Test cells check behaviour (shapes, agreement with a library implementation on fresh random
inputs, gradients), never the learner's internal structure.
"""
from __future__ import annotations

import contextlib
import importlib
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


# Stand-ins for the duration of one call, restored afterwards whatever happens (appended for issue 11).

_MISSING = object()


@contextlib.contextmanager
def _replaced(owner, replacements: dict):
    saved = {name: vars(owner).get(name, _MISSING) for name in replacements}
    try:
        for name, value in replacements.items():
            setattr(owner, name, value)
        yield
    finally:
        for name, value in saved.items():
            if value is _MISSING:
                delattr(owner, name)   # it was inherited (a Tensor method from its C base, a module's forward)
            else:
                setattr(owner, name, value)


def _resolve(path: str):
    """``"torch.nn.functional.softmax"`` -> (the module torch.nn.functional, "softmax");
    ``"torch.Tensor.softmax"`` -> (torch.Tensor, "softmax")."""
    parts = path.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            owner = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for part in parts[cut:-1]:
            owner = getattr(owner, part)
        return owner, parts[-1]
    raise ValueError(f"{path!r} does not start with an importable module")


@contextlib.contextmanager
def forbidden(*paths: str, why: str):
    """While the block runs, calling any of ``paths`` raises ``AssertionError(why)``: a test cell's way
    to check that an answer does not call the library function it is asked to write. Functions of a
    module and methods of a class alike (``"torch.logsumexp"``, ``"torch.Tensor.logsumexp"``)."""
    def banned(*args, **kwargs):
        raise AssertionError(why)

    with contextlib.ExitStack() as stack:
        for path in paths:
            owner, name = _resolve(path)
            stack.enter_context(_replaced(owner, {name: banned}))
        yield


@contextlib.contextmanager
def spy(owner, name: str):
    """Record every call of ``owner.<name>`` while the block runs (the original still runs). Yields the
    list of calls, each ``(args, kwargs, result)``: count a model's ``forward`` calls, or check that a
    batch went through ``torch.Tensor.to`` (``spy(torch.Tensor, "to")``)."""
    original = getattr(owner, name)
    calls: list[tuple[tuple, dict, object]] = []

    def recording(*args, **kwargs):
        result = original(*args, **kwargs)
        calls.append((args, kwargs, result))
        return result

    with _replaced(owner, {name: recording}):   # on a class, the instance arrives as args[0]
        yield calls
