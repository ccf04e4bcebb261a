"""A budget of failed authentications per client address (MEM0_AUTH_FAILURE_LIMIT), behind trusted proxies too."""

from __future__ import annotations

import http.client
import secrets
import time

import pytest
import requests

from tests.ops.conftest import BACKENDS

# Per minute: once spent, one more failure is allowed every 10 s, far longer than a busy machine takes between
# the requests of a test.
LIMIT = 6


def call(service, key: str | None, forwarded: str | None = None, path: str = "/api/auth/check") -> requests.Response:
    headers = {} if key is None else {"Authorization": f"Bearer {key}"}
    if forwarded is not None:
        headers["X-Forwarded-For"] = forwarded
    # a new connection per request: with several workers the kernel spreads them over the processes
    return requests.get(service.url + path, headers=headers, timeout=10)


def guesses(n: int) -> list[str]:
    """Wrong keys, half shaped like scoped keys (each of those costs a key-store look-up) and half not."""
    return [("m0s_" if i % 2 else "sk-") + secrets.token_hex(16) for i in range(n)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_address_that_keeps_guessing_keys_is_refused_until_its_budget_refills(service_factory, new_backend,
                                                                                   backend):
    service = service_factory({"MEM0_AUTH_FAILURE_LIMIT": str(LIMIT), **new_backend(backend)})
    # requests without a key guess nothing and cost nothing: they never spend the budget
    assert {call(service, None).status_code for _ in range(2 * LIMIT)} == {401}
    assert call(service, service.api_key).status_code == 200

    assert {call(service, guess).status_code for guess in guesses(LIMIT)} == {401}
    refused = call(service, service.api_key)  # the right key, from the address that spent its budget
    assert refused.status_code == 429
    assert refused.json()["error"] == "Too Many Requests"
    assert "failed authentications from this address" in refused.json()["message"]
    wait = int(refused.headers["Retry-After"])
    assert 1 <= wait <= 10
    assert call(service, guesses(1)[0]).status_code == 429  # a guess is not even looked at
    assert requests.get(service.url + "/api/health", timeout=10).status_code == 200  # public routes stay open

    time.sleep(wait)
    assert call(service, service.api_key).status_code == 200
    metrics = call(service, service.api_key, path="/metrics").text
    assert "mem0_auth_refused_total 2" in metrics


def test_worker_processes_share_one_budget_per_address(service_factory):
    service = service_factory({"MEM0_AUTH_FAILURE_LIMIT": str(LIMIT), "MEM0_WORKERS": "2"})
    assert {call(service, guess).status_code for guess in guesses(LIMIT)} == {401}
    assert {call(service, service.api_key).status_code for _ in range(10)} == {429}


def test_behind_a_trusted_proxy_the_forwarded_client_is_counted(service_factory):
    service = service_factory({"MEM0_AUTH_FAILURE_LIMIT": str(LIMIT), "MEM0_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8"})
    guesser, neighbour = "198.51.100.7", "198.51.100.8"
    assert {call(service, guess, guesser).status_code for guess in guesses(LIMIT)} == {401}

    assert call(service, service.api_key, guesser).status_code == 429
    # more proxies on the way (each trusted hop vouches for the one before it) name the same client
    assert call(service, service.api_key, f"{guesser}, 10.1.2.3").status_code == 429
    # what the client writes itself before its address does not change who it is
    assert call(service, service.api_key, f"{neighbour}, {guesser}").status_code == 429
    assert call(service, service.api_key, neighbour).status_code == 200  # another client behind the same proxy
    assert call(service, service.api_key).status_code == 200  # the proxy's own requests


def test_without_trusted_proxies_x_forwarded_for_is_ignored(service_factory):
    service = service_factory({"MEM0_AUTH_FAILURE_LIMIT": str(LIMIT)})
    for n, guess in enumerate(guesses(LIMIT)):  # a fresh made-up address on every guess ...
        assert call(service, guess, f"203.0.113.{n}").status_code == 401
    assert call(service, service.api_key, "203.0.113.200").status_code == 429  # ... is still the one peer


def test_off_by_default(live_service):
    assert {call(live_service, guess).status_code for guess in guesses(100)} == {401}
    assert call(live_service, live_service.api_key).status_code == 200


def test_hostile_forwarded_addresses_are_client_errors_never_faults(service_factory):
    service = service_factory({"MEM0_AUTH_FAILURE_LIMIT": "600", "MEM0_TRUSTED_PROXIES": "127.0.0.1"})
    hostile = ["", ",,,", "not-an-ip", "[::1]", "::ffff:198.51.100.9", "198.51.100.9:8080", "300.1.2.3",
               "10.0.0.1/8", "\u0661.\u0662.\u0663.\u0664".encode(), b"\xff\xfe", "1.2.3.4, " * 500 + "5.6.7.8",
               "127.0.0.1, 127.0.0.1"]
    for value in hostile:
        answer = requests.get(service.url + "/api/auth/check", timeout=10,
                              headers={"Authorization": "Bearer m0s_" + secrets.token_hex(16), "X-Forwarded-For": value})
        assert answer.status_code == 401, (value, answer.status_code, answer.text)
    # a proxy may send X-Forwarded-For as several fields
    host, port = service.url.removeprefix("http://").split(":")
    for key, status in ((service.api_key, 200), ("m0s_" + secrets.token_hex(16), 401)):
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        connection.putrequest("GET", "/api/auth/check")
        connection.putheader("Authorization", f"Bearer {key}")
        connection.putheader("X-Forwarded-For", "198.51.100.1")
        connection.putheader("X-Forwarded-For", "198.51.100.2, 127.0.0.1")
        connection.endheaders()
        assert connection.getresponse().status == status
        connection.close()
