"""The network guard (tests/netguard) is active where notebooks run.

These tests never send traffic to a non-loopback address, even if the guard
were broken: before calling a guarded function they check that it is the
guard's wrapper, and they replace the guard's references to the real socket
functions with recording stubs, so a faulty check would hit a stub, not the
network. 192.0.2.0/24 (TEST-NET-1) is used as the forbidden destination.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap

import nbformat
import pytest
from nbclient import NotebookClient

from _foundation import NETGUARD_DIR, ROOT, guarded_env, unguarded_env

# Runs in a fresh interpreter (or a kernel). Prints one status line.
PROBE_DEF = textwrap.dedent(
    """
    def probe():
        import socket
        try:
            import leo_netguard as g
        except ImportError:
            print("GUARD-MISSING: leo_netguard not importable"); return 3
        if not g.is_installed():
            print("GUARD-MISSING: socket functions are not the guard's wrappers"); return 3

        calls = []
        def stub(name):
            def f(*a, **k):
                calls.append(name)
                raise ConnectionRefusedError("stub: real function reached")
            return f
        # Even if the guard's checks were wrong, nothing below can reach the network.
        for name in ("_real_connect", "_real_connect_ex", "_real_sendto",
                     "_real_getaddrinfo", "_real_create_connection"):
            setattr(g, name, stub(name))

        attempts = {
            "connect": lambda: socket.socket(socket.AF_INET).connect(("192.0.2.1", 9)),
            "connect_ex": lambda: socket.socket(socket.AF_INET).connect_ex(("192.0.2.1", 9)),
            "connect6": lambda: socket.socket(socket.AF_INET6).connect(("2001:db8::1", 9, 0, 0)),
            "sendto": lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("192.0.2.1", 53)),
            "getaddrinfo": lambda: socket.getaddrinfo("pypi.org", 443),
            "create_connection": lambda: socket.create_connection(("example.org", 80), timeout=1),
        }
        blocked = []
        for name, fn in attempts.items():
            try:
                fn()
            except g.NetworkAccessBlocked:
                blocked.append(name)
            except Exception as exc:
                print(f"NOT-BLOCKED {name}: {exc!r}")
        if calls:
            print(f"REAL-FUNCTION-REACHED {calls}"); return 4
        if len(blocked) != len(attempts):
            return 5
        print("GUARD-OK", ",".join(blocked))
        return 0
    """
)
PROBE = PROBE_DEF + "\nraise SystemExit(probe())\n"


def _load_guard_module():
    """Import leo_netguard without installing it in this process."""
    spec = importlib.util.spec_from_file_location(
        "_leo_netguard_under_test", NETGUARD_DIR / "leo_netguard.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize(
    "host, allowed",
    [
        ("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("[::1]", True),
        ("localhost", True), ("LOCALHOST", True), (None, True), ("", True),
        (b"127.0.0.1", True),
        ("192.0.2.1", False), ("10.0.0.1", False), ("192.168.1.1", False),
        ("0.0.0.0", False), ("2001:db8::1", False), ("pypi.org", False),
        ("localhost.example.org", False), (12345, False),
    ],
)
def test_is_allowed_host(host, allowed):
    assert _load_guard_module().is_allowed_host(host) is allowed


def test_guard_blocks_in_a_fresh_interpreter():
    res = subprocess.run(
        [sys.executable, "-c", PROBE], env=guarded_env(), cwd=ROOT,
        capture_output=True, text=True, timeout=60,
    )
    assert res.returncode == 0 and "GUARD-OK" in res.stdout, res.stdout + res.stderr
    assert "leo_netguard: blocked" in res.stderr  # the error is also reported on stderr


def test_probe_detects_a_missing_guard():
    """Without the guard on PYTHONPATH the probe fails: the check is not vacuous."""
    res = subprocess.run(
        [sys.executable, "-c", PROBE], env=unguarded_env(), cwd=ROOT,
        capture_output=True, text=True, timeout=60,
    )
    assert res.returncode == 3 and "GUARD-MISSING" in res.stdout


def test_guard_allows_loopback_and_unix_sockets(tmp_path):
    code = textwrap.dedent(
        f"""
        import socket, leo_netguard
        assert leo_netguard.is_installed()
        srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(1)
        port = srv.getsockname()[1]
        c = socket.create_connection(("localhost", port), timeout=5)
        conn, _ = srv.accept(); c.sendall(b"hi"); assert conn.recv(2) == b"hi"
        c.close(); conn.close(); srv.close()
        path = {str(tmp_path / "s.sock")!r}
        us = socket.socket(socket.AF_UNIX); us.bind(path); us.listen(1)
        uc = socket.socket(socket.AF_UNIX); uc.connect(path); uc.close(); us.close()
        print("LOCAL-OK")
        """
    )
    res = subprocess.run([sys.executable, "-c", code], env=guarded_env(),
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and "LOCAL-OK" in res.stdout, res.stdout + res.stderr


def _run_probe_in_kernel() -> str:
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell(PROBE_DEF + "\nprobe();"))
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT)}}).execute()
    return "".join(o.get("text", "") for o in nb.cells[0].outputs if o.output_type == "stream")


@pytest.mark.slow
def test_jupyter_kernels_inherit_the_guard(monkeypatch):
    """A kernel started the way nbclient / nbval / jupyter-book start one has the guard on."""
    monkeypatch.setenv("PYTHONPATH", guarded_env()["PYTHONPATH"])
    out = _run_probe_in_kernel()
    assert "GUARD-OK" in out, out


@pytest.mark.slow
def test_kernel_probe_detects_a_missing_guard(monkeypatch):
    env = unguarded_env()
    if "PYTHONPATH" in env:
        monkeypatch.setenv("PYTHONPATH", env["PYTHONPATH"])
    else:
        monkeypatch.delenv("PYTHONPATH", raising=False)
    out = _run_probe_in_kernel()
    assert "GUARD-MISSING" in out and "GUARD-OK" not in out, out
