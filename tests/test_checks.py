"""airoadmap.checks: the helpers test cells use."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from airoadmap.checks import forbidden, spy


def test_forbidden_bans_functions_and_methods_then_restores_them():
    x = torch.randn(3, 4)
    want = torch.logsumexp(x, 1)
    with forbidden("torch.logsumexp", "torch.Tensor.logsumexp", "torch.nn.functional.softmax", why="write it yourself"):
        for call in (lambda: torch.logsumexp(x, 1), lambda: x.logsumexp(1), lambda: F.softmax(x, 1)):
            with pytest.raises(AssertionError, match="write it yourself"):
                call()
        assert torch.equal(x.exp().sum(1).log(), x.exp().sum(1).log())   # everything else still works
    assert torch.allclose(torch.logsumexp(x, 1), want) and torch.allclose(x.logsumexp(1), want)
    assert "logsumexp" not in vars(torch.Tensor), "an inherited method comes back as inherited, not copied"
    assert F.softmax(x, 1).shape == (3, 4)


def test_forbidden_restores_after_an_error():
    with pytest.raises(ZeroDivisionError), forbidden("torch.softmax", why="no"):
        raise ZeroDivisionError
    assert torch.softmax(torch.zeros(2), 0).tolist() == [0.5, 0.5]


def test_spy_records_calls_on_modules_classes_and_instances():
    model = torch.nn.Linear(2, 1)
    with spy(model, "forward") as forwards, spy(torch.Tensor, "to") as moves:
        x = torch.ones(4, 2)
        model(x)
        model(x.to("cpu"))
    assert len(forwards) == 2 and forwards[0][0][0] is x, "each call's (args, kwargs, result)"
    assert len(moves) == 1 and moves[0][0] == (x, "cpu") and moves[0][2] is x
    assert "forward" not in vars(model) and "to" not in vars(torch.Tensor), "the originals are back"
    with spy(torch.autograd, "backward") as backwards:
        model(x).sum().backward()
    assert len(backwards) == 1, "Tensor.backward goes through torch.autograd.backward"
