"""Webhook subscriptions in backups: they come back with their id, URL, events, scope and signing secret, so the
receivers keep getting deliveries they can verify with the secret they already hold; the restore's own writes are
not announced to them; archives made before subscriptions were backed up still restore."""

from __future__ import annotations

import io
import json
import tarfile
import time

import pytest
import requests

from mem0_service.webhooks.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from tests.ops.conftest import BACKENDS
from tests.ops.helpers import auth, cli, create, read_manifest, service_env
from tests.ops.test_backup_restore import _rewrite
from tests.support.fixtures import unique_user
from tests.support.webhook_receiver import WebhookReceiver

PRIVATE = {"MEM0_WEBHOOK_ALLOW_PRIVATE": "true"}  # the receiver listens on 127.0.0.1


def _register(service, key: str | None = None, **fields) -> dict:
    response = requests.post(f"{service.url}/api/webhooks", headers=auth(key or service.api_key), json=fields,
                             timeout=30)
    assert response.status_code == 201, response.text
    return response.json()


def _listed(service) -> list[dict]:
    response = requests.get(f"{service.url}/api/webhooks", headers=auth(service.api_key), timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["webhooks"]


def _member(archive, name: str) -> list[dict]:
    with tarfile.open(archive) as tar:
        return [json.loads(line) for line in io.TextIOWrapper(tar.extractfile(name), encoding="utf-8")]


@pytest.mark.postgres
@pytest.mark.parametrize("kind", BACKENDS)
def test_webhooks_come_back_with_their_secrets_and_receivers_verify_the_deliveries(kind, service_factory, new_backend,
                                                                                     tmp_path):
    receiver = WebhookReceiver().start()
    try:
        source = service_factory({**new_backend(kind), **PRIVATE})
        user = unique_user("hooks")
        old = create(source, user, "The user likes sailing")  # made before the webhooks: never announced to them
        scoped_key = requests.post(f"{source.url}/api/keys", headers=auth(source.api_key), timeout=30,
                                   json={"user_id": user}).json()
        made = [
            _register(source, url=receiver.url, events=["memory.created"], description="every user",
                      secret="whsec_chosen_by_the_operator_0123456789"),
            _register(source, url=receiver.url + "?scoped=1", user_id=user, agent_id="planner",
                      events=["memory.created", "memory.deleted"]),
            _register(source, scoped_key["key"], url=receiver.url + "?by=key"),  # bound to the key's user
        ]
        secrets = {hook["id"]: hook["secret"] for hook in made}
        before = _listed(source)
        assert len(before) == 3

        archive = tmp_path / "b.tar.gz"
        done = cli(service_env(source), "backup", str(archive))
        assert done.returncode == 0, done.stderr
        assert "3 webhook subscriptions" in done.stdout
        manifest = read_manifest(archive)
        assert manifest["format_version"] == 4 and manifest["webhooks"]["count"] == 3
        # The secrets travel in the archive (documented: protect it like the database), the delivery state does not.
        archived = _member(archive, "webhooks.jsonl")
        assert {h["id"]: h["secret"] for h in archived} == secrets
        assert not any({"consecutive_failures", "next_attempt_at", "lease_until"} & set(h) for h in archived)
        source.stop()

        target_env = {**new_backend(kind), "MEM0_DATA_DIR": str(tmp_path / "restored"), "MEM0_API_KEY": "other"}
        restored = cli(target_env, "restore", str(archive))
        assert restored.returncode == 0, restored.stderr
        assert "3 webhook subscriptions added" in restored.stdout
        shown = [line for line in restored.stdout.splitlines() if line.startswith("Webhook restored: ")]
        assert sorted(line.split()[2] for line in shown) == sorted(secrets), restored.stdout
        assert not any(secret in restored.stdout for secret in secrets.values())  # never printed
        again = cli(target_env, "restore", str(archive))
        assert again.returncode == 0, again.stderr
        assert "0 webhook subscriptions added" in again.stdout
        assert "3 webhook subscriptions of the archive are here already" in again.stdout

        target = service_factory({**{k: v for k, v in target_env.items() if k not in ("MEM0_DATA_DIR", "MEM0_API_KEY")},
                                  **PRIVATE}, data_dir=tmp_path / "restored")
        assert _listed(target) == before  # same ids, URLs, events, scopes, descriptions, times and state

        new = create(target, user, "The user bought a dinghy", agent_id="planner")
        receiver.wait_for(3)
        time.sleep(1.0)  # anything announced for the restored memory would have come first, in commit order
        received = list(receiver.received)
        assert sorted(r.json["webhook_id"] for r in received) == sorted(secrets)
        for delivery in received:
            assert delivery.json["event"] == "memory.created"
            assert delivery.json["data"]["memory"]["id"] == new["id"] != old["id"]
            # signed with the very secret the receiver was given when the webhook was made
            assert verify(secrets[delivery.json["webhook_id"]], delivery.body, delivery.headers[TIMESTAMP_HEADER],
                          delivery.headers[SIGNATURE_HEADER])
    finally:
        receiver.stop()


def test_archives_of_the_third_format_restore_without_webhooks(service_factory, tmp_path):
    source = service_factory(PRIVATE)
    user = unique_user()
    memory = create(source, user, "The user collects stamps")
    _register(source, url="http://127.0.0.1:9/hook", events=["memory.deleted"])
    archive = tmp_path / "b.tar.gz"
    assert cli(service_env(source), "backup", str(archive)).returncode == 0

    def third_format(contents):
        manifest = json.loads(contents["manifest.json"])
        manifest["format_version"] = 3
        del manifest["webhooks"], contents["webhooks.jsonl"]
        contents["manifest.json"] = json.dumps(manifest).encode()

    old = _rewrite(archive, tmp_path / "v3.tar.gz", third_format)
    checked = cli({"MEM0_DATA_DIR": str(tmp_path / "target"), "MEM0_API_KEY": "k"}, "restore", "--check", old)
    assert checked.returncode == 0 and "webhook subscriptions" not in checked.stdout, checked.stdout
    restored = cli({"MEM0_DATA_DIR": str(tmp_path / "target"), "MEM0_API_KEY": "k"}, "restore", old)
    assert restored.returncode == 0, restored.stderr
    assert "1 added" in restored.stdout and "0 webhook subscriptions added" in restored.stdout
    target = service_factory(data_dir=tmp_path / "target")
    assert requests.get(f"{target.url}/api/memories/{memory['id']}", headers=auth(target.api_key),
                        timeout=30).status_code == 200
    assert _listed(target) == []

    incomplete = _rewrite(archive, tmp_path / "v4-partial.tar.gz", lambda contents: contents.pop("webhooks.jsonl"))
    refused = cli({"MEM0_DATA_DIR": str(tmp_path / "other"), "MEM0_API_KEY": "k"}, "restore", incomplete)
    assert refused.returncode == 3 and "webhooks.jsonl is missing" in refused.stderr

    left_out = cli({"MEM0_DATA_DIR": str(tmp_path / "nohooks"), "MEM0_API_KEY": "k"}, "restore", "--no-webhooks",
                   str(archive))
    assert left_out.returncode == 0, left_out.stderr
    assert "0 webhook subscriptions added" in left_out.stdout
    assert "Note: 1 webhook subscriptions in the archive left out (--no-webhooks)" in left_out.stdout
