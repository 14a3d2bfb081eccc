"""Shared pytest fixtures for the whole suite.

``make test`` runs ``.venv/bin/python -m pytest`` with tests/netguard on
PYTHONPATH, so this process and every kernel it starts have the network
guard on. The fixture below (and the helpers in ``_foundation.py``) also put
the guard into the environment of the subprocesses and kernels that tests
start, so running ``pytest`` directly is just as strict.
"""

from __future__ import annotations

import pytest

from _foundation import guarded_env


@pytest.fixture
def guard_env_in_process(monkeypatch):
    """Put the guard on PYTHONPATH of this process's environment, so that
    kernels started in-process (nbclient) inherit it."""
    env = guarded_env()
    monkeypatch.setenv("PYTHONPATH", env["PYTHONPATH"])
    return env
