"""Message logs in backups: they come back under their own numbers, appends continue after them, and archives
made before logs existed still restore."""

from __future__ import annotations

import json

import pytest
import requests

from tests.ops.conftest import BACKENDS
from tests.ops.helpers import auth, cli, create, read_manifest, service_env
from tests.ops.test_backup_restore import _rewrite
from tests.support.fixtures import unique_user


def _append(service, user: str, session: str, *contents: str, key: str | None = None) -> list[dict]:
    response = requests.post(f"{service.url}/api/sessions/{session}/messages", headers=auth(key or service.api_key),
                             json={"user_id": user, "messages": [
                                 {"role": "user" if i % 2 == 0 else "assistant", "content": c, "metadata": {"i": i}}
                                 for i, c in enumerate(contents)]}, timeout=30)
    assert response.status_code == 201, response.text
    return response.json()["messages"]


def _log(service, user: str, session: str, key: str) -> list[tuple]:
    response = requests.get(f"{service.url}/api/sessions/{session}/messages", headers=auth(key),
                            params={"user_id": user, "limit": 1000}, timeout=30)
    assert response.status_code == 200, response.text
    return [(m["seq"], m["role"], m["content"], m["metadata"], m["created_at"])
            for m in response.json()["messages"]]


@pytest.mark.postgres
@pytest.mark.parametrize("kind", BACKENDS)
def test_message_logs_restore_under_their_numbers_and_appends_continue(kind, service_factory, new_backend,
                                                                        tmp_path):
    source = service_factory(new_backend(kind))
    user = unique_user("chat")
    create(source, user, "The user is learning Portuguese")
    _append(source, user, "lesson-1", "Olá!", "Olá, tudo bem?", "Tudo bem, e você?")
    requests.delete(f"{source.url}/api/sessions/lesson-1/messages", params={"user_id": user},
                    headers=auth(source.api_key), timeout=30)
    _append(source, user, "lesson-1", "After the clear")  # seq 4: numbers are not reused
    _append(source, user, "lesson-2", "Second lesson", "Bem-vindo")
    before = {s: _log(source, user, s, source.api_key) for s in ("lesson-1", "lesson-2")}
    assert [m[0] for m in before["lesson-1"]] == [4]

    archive = tmp_path / "b.tar.gz"
    done = cli(service_env(source), "backup", str(archive))
    assert done.returncode == 0, done.stderr
    assert "3 logged messages" in done.stdout
    assert read_manifest(archive)["format_version"] == 4

    target_env = {**new_backend(kind), "MEM0_DATA_DIR": str(tmp_path / "restored"), "MEM0_API_KEY": "other-admin"}
    restored = cli(target_env, "restore", str(archive))
    assert restored.returncode == 0, restored.stderr
    assert "3 logged messages added" in restored.stdout
    again = cli(target_env, "restore", str(archive))
    assert "0 logged messages added" in again.stdout

    target = service_factory({k: v for k, v in target_env.items() if k not in ("MEM0_DATA_DIR", "MEM0_API_KEY")},
                             data_dir=tmp_path / "restored")
    assert {s: _log(target, user, s, target.api_key) for s in before} == before
    after = _append(target, user, "lesson-1", "Continued after the restore")
    assert after[0]["seq"] == 5  # the counter came back with the log


def test_archives_of_the_second_format_restore_without_logs(service_factory, tmp_path):
    source = service_factory()
    user = unique_user()
    memory = create(source, user, "The user collects stamps")
    _append(source, user, "s1", "not in the old archive")
    archive = tmp_path / "b.tar.gz"
    assert cli(service_env(source), "backup", str(archive)).returncode == 0

    def second_format(contents):
        manifest = json.loads(contents["manifest.json"])
        manifest["format_version"] = 2
        del manifest["messages"], contents["messages.jsonl"]
        del manifest["webhooks"], contents["webhooks.jsonl"]
        contents["manifest.json"] = json.dumps(manifest).encode()

    old = _rewrite(archive, tmp_path / "v2.tar.gz", second_format)
    restored = cli({"MEM0_DATA_DIR": str(tmp_path / "target"), "MEM0_API_KEY": "k"}, "restore", old)
    assert restored.returncode == 0, restored.stderr
    assert "1 added" in restored.stdout and "0 logged messages added" in restored.stdout
    target = service_factory(data_dir=tmp_path / "target")
    assert requests.get(f"{target.url}/api/memories/{memory['id']}", headers=auth(target.api_key),
                        timeout=30).status_code == 200
    assert _log(target, user, "s1", target.api_key) == []

    incomplete = _rewrite(archive, tmp_path / "v4-partial.tar.gz", lambda contents: contents.pop("messages.jsonl"))
    refused = cli({"MEM0_DATA_DIR": str(tmp_path / "other"), "MEM0_API_KEY": "k"}, "restore", incomplete)
    assert refused.returncode == 3 and "messages.jsonl is missing" in refused.stderr
