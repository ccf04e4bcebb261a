"""The scripted fake model is shared by every suite of a run: a reply a test queued for its service must not be
taken by another suite's service that is still retrying in the background (which once failed a conversation test)."""

from __future__ import annotations

import openai
import pytest

from tests.support.fake_openai import FakeOpenAI


def _reply(fake: FakeOpenAI, api_key: str) -> str:
    client = openai.OpenAI(api_key=api_key, base_url=fake.base_url, max_retries=0)
    answer = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    return answer.choices[0].message.content or ""


def test_queued_replies_go_only_to_the_scripted_caller():
    fake = FakeOpenAI().start()
    try:
        fake.script_for("sk-mine")
        fake.queue_chat({"content": "for the test's own service"})
        fake.queue_error("/chat/completions", 500)
        assert _reply(fake, "sk-background").startswith("FAKE-REPLY"), "another caller takes neither reply nor error"
        with pytest.raises(openai.InternalServerError):  # the queued error is the scripted caller's
            _reply(fake, "sk-mine")
        assert _reply(fake, "sk-mine") == "for the test's own service"
        fake.clear()  # a cleared fake serves whoever asks, as before any script
        fake.queue_chat({"content": "anyone"})
        assert _reply(fake, "sk-background") == "anyone"
    finally:
        fake.stop()
