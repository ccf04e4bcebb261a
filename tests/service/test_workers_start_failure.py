"""MEM0_WORKERS: a pool whose first worker cannot start stops with that worker's error, not one of its own."""

from __future__ import annotations

import socket

import pytest

from tests.support.service_process import ServiceProcess


def test_a_pool_whose_first_worker_cannot_bind_exits_with_the_workers_error(tmp_path):
    # Bound without SO_REUSEPORT (and not listening): the workers' reuse_port bind of the same port fails.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        service = ServiceProcess(tmp_path, env={"MEM0_WORKERS": "2"}, port=taken.getsockname()[1])
        with pytest.raises(RuntimeError, match="service exited with 1"):
            service.start(timeout=120)
    log = service.log_path.read_text(errors="replace")
    assert "address already in use" in log
    # the second worker never started; stopping the pool must not trip over it
    assert "mem0_service/workers.py" not in log, log
