"""Shared fixtures. Tests that execute notebooks are marked ``slow``; ``make test-fast`` skips them."""
from __future__ import annotations

import socket

import pytest

from airoadmap.tooling.course import notebook_slugs, repo_root

ROOT = repo_root()
SLUGS = notebook_slugs(ROOT)


@pytest.fixture
def no_network(monkeypatch):
    """Make every outbound socket connection from this process fail at once, as on a machine with
    no internet. Loopback stays allowed (local servers, Jupyter kernels)."""

    real_connect = socket.socket.connect

    def guarded_connect(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and (host.startswith("127.") or host in ("localhost", "::1") or host.startswith("/")):
            return real_connect(self, address)
        if self.family == socket.AF_UNIX:
            return real_connect(self, address)
        raise OSError(f"network disabled in this test (tried to connect to {address!r})")

    def guarded_getaddrinfo(host, *args, **kwargs):
        if host in (None, "localhost", "127.0.0.1", "::1"):
            return real_getaddrinfo(host, *args, **kwargs)
        raise socket.gaierror(f"network disabled in this test (tried to resolve {host!r})")

    real_getaddrinfo = socket.getaddrinfo
    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    yield
