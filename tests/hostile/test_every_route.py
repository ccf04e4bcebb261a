"""Every operation of the served OpenAPI document, every field and parameter, attacked with values no store can
hold (NUL, lone surrogates, dates that overflow in UTC, 5,000-digit and 64-bit-overflowing integers, NaN and
Infinity, deep nesting), repeated parameters, wrong types and oversized values, on both backends.

Each answer must be a JSON 4xx naming the field (or a 2xx where the value is legitimately accepted), never a 5xx,
and afterwards another user's normal create still answers 201 and the attacker's list still answers 200."""

from __future__ import annotations

import pytest
import requests

from tests.hostile.attacks import Attack, Context, Operation, attacks, operations
from tests.support.api import Api
from tests.support.fixtures import unique_user

OPERATIONS = operations()


@pytest.fixture(scope="module")
def target(backend_service) -> tuple[Context, Api]:
    api = Api(backend_service.url, backend_service.api_key)
    user = unique_user("hostile")
    memory = api.create(user, "the attacker's own memory", agent_id="hostile-agent")
    key = api.post("/api/keys", json={"user_id": user, "agent_id": "hostile-agent", "name": "hostile suite"})
    assert key.status_code == 201, key.text
    api.agent_key = key.json()["key"]
    return Context(user=user, memory_id=memory["id"], key_id=key.json()["id"]), api


def judge(op: Operation, attack: Attack, response: requests.Response) -> str | None:
    """What is wrong with the answer to one attack, or None."""
    status = response.status_code
    # 501 is the mem0 platform's answer for a feature not offered (enable_graph, timestamp, immutable, exports...).
    if status >= 500 and not (status == 501 and (op.unsupported or not op.path.startswith("/api/"))):
        return f"{status}: {response.text[:300]}"
    if attack.must_refuse and status != 400:
        return f"a value that must be refused was answered {status}, not 400: {response.text[:200]}"
    if status < 400:
        return None
    if status == 501:
        return None if response.json().get("error") == "Not Implemented" else "501 without the error shape"
    if not response.headers.get("Content-Type", "").startswith("application/json"):
        return f"{status} is not JSON: {response.text[:200]!r}"
    body = response.json()
    if not isinstance(body, dict) or not {"error", "message"} <= body.keys():
        return f"{status} without the error shape: {body!r:.200}"
    named = str(body.get("field") or "").split(".")[0]
    if attack.field and status == 400 and named != attack.field:
        return f"the 400 names {body.get('field')!r}, not {attack.field!r}: {body['message'][:200]}"
    return None


@pytest.mark.parametrize("op", OPERATIONS, ids=[op.label for op in OPERATIONS])
def test_hostile_values_are_refused_and_break_nothing(backend_service, target, op: Operation):
    ctx, api = target
    log_start = len(backend_service.log())
    headers = {"Authorization": f"Bearer {backend_service.api_key}", "Content-Type": "application/json"}
    failures = []
    for attack in attacks(op, ctx):
        url = backend_service.url + attack.path + (f"?{attack.query}" if attack.query else "")
        response = requests.request(op.method, url, data=attack.body, headers=headers, timeout=30)
        if (problem := judge(op, attack, response)) is not None:
            failures.append(f"{attack.description}: {problem}")
    assert not failures, f"{op.label}:\n" + "\n".join(failures)

    bystander = api.post("/api/memories", json={"user_id": unique_user("bystander"),
                                                "content": "a normal memory written after the attack"})
    assert bystander.status_code == 201, bystander.text
    assert api.get(f"/api/memories/user/{ctx.user}").status_code == 200
    assert "unhandled error" not in backend_service.log()[log_start:]


@pytest.mark.parametrize("op", OPERATIONS, ids=[op.label for op in OPERATIONS])
def test_hostile_values_from_an_agent_bound_key_or_no_key_are_4xx(backend_service, target, op: Operation):
    """The key's guard and the authentication read the request before any handler: they must not fall over it
    either. A few of the values no store can hold, per route, from a key bound to a user and an agent, and from a
    caller without a key."""
    ctx, api = target
    refused = [a for a in attacks(op, ctx) if a.must_refuse]
    chosen = refused[:2] + [a for a in refused if a.description.startswith("body nested")]
    failures = []
    for who, headers in (("agent key", {"Authorization": f"Bearer {api.agent_key}"}), ("no key", {})):
        for attack in chosen:
            url = backend_service.url + attack.path + (f"?{attack.query}" if attack.query else "")
            response = requests.request(op.method, url, data=attack.body, timeout=30,
                                        headers={**headers, "Content-Type": "application/json"})
            answered = response.status_code < 500 or (response.status_code == 501 and op.unsupported)
            if not answered or response.status_code < 400 or "message" not in response.json():
                failures.append(f"{who}, {attack.description}: {response.status_code} {response.text[:200]}")
    assert not failures, f"{op.label}:\n" + "\n".join(failures)
    assert api.get(f"/api/memories/user/{ctx.user}").status_code == 200


def test_the_attacks_cover_every_route_and_field():
    """The catalogue is derived from the route table: a new route or field is attacked without a new test."""
    ctx = Context(user="u", memory_id="m", key_id="k")
    covered = {(op.label, a.description.split("=")[0].split(" with ")[0].split(" given")[0])
               for op in OPERATIONS for a in attacks(op, ctx)}
    for op in OPERATIONS:
        for name in op.body:
            assert (op.label, f"body {name}") in covered
        for name in op.query:
            assert (op.label, f"query {name}") in covered
        for name in op.path_params:
            assert (op.label, f"path {name}") in covered
    assert sum(len(attacks(op, ctx)) for op in OPERATIONS) < 800, "keep the suite at a few hundred requests"


def test_a_body_over_the_limit_is_a_413_in_the_error_shape(api):
    response = api.post("/api/memories", data=b'{"content": "' + b"x" * (1024 * 1024) + b'"}',
                        headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"] == "Payload Too Large"
