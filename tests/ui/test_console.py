"""The web console as people use it, in Chromium, against a live service on both backends."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.support.fixtures import BACKENDS, backend_process

pytestmark = pytest.mark.e2e

MARIA = ["Maria prefers green tea in the morning", "Maria's laptop is a ThinkPad X1 Carbon",
         "Maria is allergic to peanuts", "Maria's daughter starts school in September"]


def test_admin_finds_a_user_and_searches_with_scores_and_the_threshold_line(ui):
    for content in MARIA:
        ui.api.create("maria.ivanova", content, type="preference" if "prefers" in content else "fact")
    ui.api.create("mark.schmidt", "Mark lives in Berlin")
    ui.api.create("olga.k", "Olga writes n8n workflows")
    ui.sign_in(ui.service.api_key)
    rows = ui.page.locator("#users-table tbody tr")
    expect(rows.filter(has_text="olga.k")).to_have_count(1)
    ui.screenshot("users")

    ui.page.fill("#users-form [name=prefix]", "mar")
    ui.page.press("#users-form [name=prefix]", "Enter")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("maria.ivanova")
    expect(rows.nth(0).locator("td.number")).to_have_text("4")
    expect(rows.nth(1)).to_contain_text("mark.schmidt")

    rows.nth(0).get_by_role("button", name="maria.ivanova").click()
    expect(ui.page.locator("#memory-list .card")).to_have_count(4)
    expect(ui.page.locator("#memory-list .card").first).to_contain_text(MARIA[-1])  # newest first
    ui.page.select_option("#memories-form [name=type]", "preference")
    ui.page.click("#memories-form button[type=submit]")
    expect(ui.page.locator("#memory-list .card")).to_have_count(1)
    expect(ui.page.locator("#memory-list .card")).to_contain_text("green tea")
    ui.page.fill("#memories-form [name=metadata]", "not json")
    ui.page.click("#memories-form button[type=submit]")
    expect(ui.page.locator("#memories-form [data-error-for=metadata]")).to_contain_text("'metadata'")
    ui.page.fill("#memories-form [name=metadata]", "")

    query = "which hot drink does she like"
    ui.tab("search")
    expect(ui.page.locator("#search-form [name=user_id]")).to_have_value("maria.ivanova")
    ui.page.fill("#search-form [name=query]", query)
    ui.page.fill("#search-form [name=relevance_threshold]", "1.5")
    ui.page.click("#search-form button[type=submit]")
    expect(ui.page.locator("#search-form [data-error-for=relevance_threshold]")).to_contain_text("relevance_threshold")
    ui.page.fill("#search-form [name=relevance_threshold]", "0.7")
    ui.page.click("#search-form button[type=submit]")
    cards = ui.page.locator("#search-results > li")
    expect(cards.first).to_contain_text("green tea")

    passed = ui.api.search("maria.ivanova", query, relevance_threshold=0.7, limit=10)["memories"]
    everything = ui.api.search("maria.ivanova", query, relevance_threshold=0, limit=10)["memories"]
    assert 1 <= len(passed) < len(everything) == 4
    texts = cards.all_inner_texts()
    line = next(i for i, text in enumerate(texts) if "threshold 0.70" in text)
    assert line == len(passed), "the line separates what the API returns at 0.7 from what it leaves out"
    for text, hit in zip([t for i, t in enumerate(texts) if i != line], everything):
        assert hit["content"] in text
        assert f"relevance {hit['relevance_score']:.3f}" in text
        assert re.search(r"why: (meaning|shared words|meaning and shared words)", text), text
    expect(ui.page.locator("#search-results .card.below")).to_have_count(len(everything) - len(passed))
    ui.screenshot("search")


def test_an_edit_shows_in_the_history_and_a_delete_removes_the_memory(ui):
    memory = ui.api.create("history.user", "Lives in Moscow")
    ui.sign_in(ui.service.api_key)
    ui.tab("memories")
    ui.page.fill("#memories-form [name=user_id]", "history.user")
    ui.page.click("#memories-form button[type=submit]")
    ui.page.locator("#memory-list .card").get_by_role("button", name="Open").click()
    dialog = ui.page.locator("#memory-dialog")
    expect(dialog).to_be_visible()

    # The API's own message lands next to the field it names.
    ui.page.fill("#edit-form [name=content]", "")
    ui.page.click("#edit-form button[type=submit]")
    expect(ui.page.locator("#edit-form [data-error-for=content]")).to_contain_text("content")
    expect(ui.page.locator("#edit-form [name=content]")).to_have_attribute("aria-invalid", "true")

    ui.page.fill("#edit-form [name=content]", "Lives in Saint Petersburg since 2024")
    ui.page.fill("#edit-form [name=metadata]", '{"source": "console"}')
    ui.page.click("#edit-form button[type=submit]")
    update = ui.page.locator("#history-list li.UPDATE")
    expect(update).to_have_count(1)
    expect(update.locator("del")).to_have_text("Lives in Moscow")
    expect(update.locator("ins")).to_have_text("Lives in Saint Petersburg since 2024")
    expect(ui.page.locator("#history-list li.ADD")).to_have_count(1)
    stored = ui.api.get(f"/api/memories/{memory['id']}").json()
    assert stored["content"] == "Lives in Saint Petersburg since 2024" and stored["metadata"] == {"source": "console"}
    expect(ui.page.locator("#edit-form .form-note")).to_have_text("Saved.")
    ui.page.locator("#history-list").scroll_into_view_if_needed()
    ui.screenshot("history")

    ui.page.once("dialog", lambda confirm: confirm.accept())
    ui.page.click("#delete-memory")
    expect(dialog).to_be_hidden()
    expect(ui.page.locator("#banner")).to_contain_text("Memory deleted")
    expect(ui.page.locator("#memory-list .card")).to_have_count(0)
    assert ui.api.get(f"/api/memories/{memory['id']}").status_code == 404


def test_erasing_a_user_needs_the_user_id_typed(ui):
    for content in ("Erase me: first", "Erase me: second"):
        ui.api.create("erase.me", content)
    ui.api.create("erase.me.not", "A neighbour with a similar id stays")
    ui.sign_in(ui.service.api_key)
    ui.page.fill("#users-form [name=prefix]", "erase.me")
    ui.page.press("#users-form [name=prefix]", "Enter")
    ui.page.get_by_role("button", name="erase.me", exact=True).click()
    expect(ui.page.locator("#memory-list .card")).to_have_count(2)

    ui.page.click("#erase")
    confirm = ui.page.locator("#erase-confirm")
    expect(confirm).to_be_disabled()
    ui.page.fill("#erase-form [name=confirm]", "erase.m")
    expect(confirm).to_be_disabled()
    ui.page.fill("#erase-form [name=confirm]", "erase.me")
    expect(confirm).to_be_enabled()
    ui.page.press("#erase-form [name=confirm]", "Enter")
    expect(ui.page.locator("#banner")).to_contain_text("Erased 2 memories of erase.me")
    assert ui.api.get("/api/memories/user/erase.me").json()["total"] == 0
    assert ui.api.get("/api/memories/user/erase.me.not").json()["total"] == 1


def test_a_sessions_log_reads_oldest_first(ui):
    turns = ["user: I need a new laptop", "assistant: What will you use it for?", "user: Mostly video editing"]
    for turn in turns:
        ui.api.create("session.user", turn, type="interaction", session_id="chat-7")
    ui.api.create("session.user", "Long-term: prefers Linux")
    ui.sign_in(ui.service.api_key)
    ui.tab("memories")
    form = "#memories-form"
    ui.page.fill(f"{form} [name=user_id]", "session.user")
    ui.page.fill(f"{form} [name=session_id]", "chat-7")
    ui.page.select_option(f"{form} [name=order]", "asc")
    ui.page.click(f"{form} button[type=submit]")
    cards = ui.page.locator("#memory-list .card .content")
    expect(cards).to_have_text(turns)


def test_a_read_only_key_sees_its_own_user_and_no_write_controls(ui):
    ui.api.create("reader.owner", "The reader's only memory")
    ui.api.create("someone.else", "Not for the reader's eyes")
    ui.sign_in(ui.service.api_key)
    ui.tab("keys")
    ui.page.fill("#key-form [name=user_id]", "reader.owner")
    ui.page.select_option("#key-form [name=access]", "read")
    ui.page.fill("#key-form [name=name]", "support dashboard")
    ui.page.click("#key-form button[type=submit]")
    expect(ui.page.locator("#new-key")).to_be_visible()
    secret = ui.page.locator("#new-key-value").inner_text()
    assert secret and secret.startswith(tuple("abcdefghijklmnopqrstuvwxyz")), secret
    row = ui.page.locator("#keys-table tbody tr", has_text="support dashboard")
    expect(row).to_contain_text("read only")
    ui.screenshot("keys")

    ui.sign_out()
    ui.sign_in(secret)
    expect(ui.page.locator("#who")).to_contain_text("read only")
    for admin_only in ("users", "keys"):
        expect(ui.page.locator(f"#tabs [data-view={admin_only}]")).to_be_hidden()
    user_field = ui.page.locator("#memories-form [name=user_id]")
    expect(user_field).to_have_value("reader.owner")
    expect(user_field).not_to_be_editable()
    expect(ui.page.locator("#memory-list .card")).to_have_count(1)
    expect(ui.page.locator("#memory-list")).not_to_contain_text("Not for the reader's eyes")
    expect(ui.page.locator("#erase")).to_be_hidden()
    ui.page.locator("#memory-list .card").get_by_role("button", name="Open").click()
    expect(ui.page.locator("#history-list li.ADD")).to_have_count(1)
    expect(ui.page.locator("#edit-form")).to_be_hidden()
    expect(ui.page.locator("#delete-memory")).to_be_hidden()
    ui.screenshot("read-only")
    ui.page.keyboard.press("Escape")
    with ui.page.expect_download() as download:
        ui.page.click("#export")
    assert download.value.suggested_filename == "memories-reader.owner.json"
    exported = json.loads(Path(download.value.path()).read_text())
    assert exported["user_id"] == "reader.owner" and exported["total"] == 1
    assert [m["content"] for m in exported["memories"]] == ["The reader's only memory"]
    ui.tab("health")
    expect(ui.page.locator("#metrics-list")).to_contain_text("admin key")

    # Signing out leaves nothing of the reader's view behind for the next key.
    ui.sign_out()
    expect(ui.page.locator("#memory-list .card")).to_have_count(0)
    ui.sign_in(ui.service.api_key)
    ui.tab("memories")
    expect(user_field).to_have_value("")
    expect(user_field).to_be_editable()


def test_a_key_revoked_in_the_console_sends_its_user_back_to_the_key_prompt(ui, open_console, console_service):
    ui.api.create("revoked.owner", "Something to list")
    created = ui.api.post("/api/keys", json={"user_id": "revoked.owner", "name": "soon revoked"}).json()
    holder = open_console(console_service)  # a second browser, where the key's user works
    holder.open()
    holder.sign_in(created["key"])
    expect(holder.page.locator("#memory-list .card")).to_have_count(1)
    assert holder.page.evaluate("() => sessionStorage.length") == 1

    ui.sign_in(ui.service.api_key)
    ui.tab("keys")
    row = ui.page.locator("#keys-table tbody tr", has_text="soon revoked")
    row.get_by_role("button", name="Revoke").click()
    expect(row).to_have_count(0)
    assert ui.api.get("/api/auth/check", key=created["key"]).status_code == 401

    holder.tab("search")
    holder.page.fill("#search-form [name=query]", "something")
    holder.page.click("#search-form button[type=submit]")
    expect(holder.page.locator("#login")).to_be_visible()
    expect(holder.page.locator("#banner")).to_contain_text("refused this key")
    expect(holder.page.locator("#tabs")).to_be_hidden()
    assert holder.page.evaluate("() => sessionStorage.length") == 0


def test_the_page_is_locked_down_and_talks_only_to_its_service(ui):
    response = ui.open()
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
    ui.api.create("health.user", "Seeded so the numbers are not zero")
    ui.sign_in(ui.service.api_key)
    for name in ("users", "memories", "search", "sessions", "keys", "health"):
        ui.tab(name)
    expect(ui.page.locator("#health-list")).to_contain_text("record_store")
    expect(ui.page.locator("#health-list")).to_contain_text("ok")
    expect(ui.page.locator("#health-list")).to_contain_text("Background jobs")  # the queue's depth
    expect(ui.page.locator("#metrics-list")).to_contain_text("Memories stored")
    ui.screenshot("health")
    # The policy is enforced, not only sent: a script injected into the page does not run, and the browser reports it.
    with ui.page.expect_console_message(lambda message: "Content Security Policy" in message.text) as report:
        ran = ui.page.evaluate("""() => { const s = document.createElement('script');
                                          s.textContent = 'window.injected = 1';
                                          document.body.append(s); return window.injected === 1; }""")
    assert ran is False and "inline script" in report.value.text
    ui.problems.clear()  # the provoked report is the only one expected
    # The key is in this tab's sessionStorage only: not in the URL, a cookie or localStorage.
    assert ui.service.api_key not in ui.page.url
    assert ui.page.context.cookies() == []
    assert ui.page.evaluate("() => Object.values(localStorage).join()").find(ui.service.api_key) == -1
    assert ui.page.evaluate("() => Object.values(sessionStorage).join()") == ui.service.api_key
    assert len(ui.requests) > 10
    ui.page.reload()  # the same tab keeps its key ...
    expect(ui.page.locator("#tabs")).to_be_visible()
    other_tab = ui.page.context.new_page()  # ... another tab, even of the same browser, asks for it
    other_tab.goto(ui.url)
    expect(other_tab.locator("#login")).to_be_visible()
    expect(other_tab.locator("#tabs")).to_be_hidden()


def test_russian_keyboard_only_on_a_narrow_screen(open_console, console_service):
    console = open_console(console_service, locale="ru-RU", width=390, height=844)
    console.api.create("narrow.user", "Пользователь любит зелёный чай по утрам")
    console.open()
    page = console.page
    expect(page.locator("#login-title")).to_have_text("Вход по API-ключу")
    expect(page.locator("#key-input")).to_be_focused()  # the key prompt takes the keyboard at once
    page.keyboard.type(console_service.api_key)
    page.keyboard.press("Enter")
    expect(page.locator("#tabs [data-view=users]")).to_have_text("Пользователи")
    expect(page.locator("#tabs [data-view=users]")).to_be_focused()
    for _ in range(2):  # Пользователи -> Воспоминания -> Поиск
        page.keyboard.press("Tab")
    expect(page.locator("#tabs [data-view=search]")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#view-search")).to_be_visible()
    page.fill("#search-form [name=user_id]", "narrow.user")
    page.fill("#search-form [name=query]", "что пьёт пользователь")
    page.keyboard.press("Enter")
    expect(page.locator("#search-results .card").first).to_contain_text("зелёный чай")
    expect(page.locator("#search-results")).to_contain_text("релевантность")
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"), "no sideways scrolling"
    console.screenshot("narrow-ru")
    page.select_option("#lang", "en")
    expect(page.locator("#tabs [data-view=search]")).to_have_text("Search")


@pytest.mark.parametrize("backend", sorted(BACKENDS))
def test_a_503_names_the_dependency_that_is_down(open_console, fake_openai, tmp_path, backend):
    fake_openai.clear()
    env = {"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": fake_openai.base_url, "MEM0_OPENAI_TIMEOUT": "2"}
    with backend_process(backend, tmp_path, env) as service:
        console = open_console(service)
        console.api.create("outage.user", "Stored while the provider answered")
        console.open()
        console.sign_in(service.api_key)
        console.tab("search")
        console.page.fill("#search-form [name=user_id]", "outage.user")
        console.page.fill("#search-form [name=query]", "provider")
        fake_openai.queue_error("/embeddings", 401, {"error": {"message": "Incorrect API key provided"}})
        console.page.click("#search-form button[type=submit]")
        banner = console.page.locator("#banner")
        expect(banner).to_contain_text("Unavailable: embedder")
        expect(banner).to_contain_text("OpenAI API error: 401")
        expect(console.page.locator("#tabs")).to_be_visible()  # a dependency outage is not a sign-out


def test_a_sessions_message_log_reads_oldest_first_with_older_pages_on_request(ui):
    user = "lena.k"
    for start in range(0, 60, 20):
        appended = ui.api.post("/api/sessions/chat-7/messages", json={"user_id": user, "messages": [
            {"role": "user" if i % 2 == 0 else "assistant", "content": f"turn {i}"} for i in range(start, start + 20)]})
        assert appended.status_code == 201, appended.text
    ui.sign_in(ui.service.api_key)
    ui.tab("sessions")
    ui.page.fill("#sessions-form [name=user_id]", user)
    ui.page.fill("#sessions-form [name=session_id]", "chat-7")
    ui.page.press("#sessions-form [name=session_id]", "Enter")
    cards = ui.page.locator("#message-list .card")
    expect(cards).to_have_count(50)  # the latest page, read top to bottom
    expect(cards.first).to_contain_text("turn 10")
    expect(cards.last).to_contain_text("turn 59")
    expect(ui.page.locator("#message-total")).to_contain_text("60")
    ui.page.click("#older-messages")
    expect(cards).to_have_count(60)
    expect(cards.first).to_contain_text("#1")
    expect(cards.first).to_contain_text("turn 0")
    expect(ui.page.locator("#older-messages")).to_be_hidden()
