// The console's words in English and Russian; the browser's language picks one, the switch overrides it.

const WORDS = {
  en: {
    title: "Mem0 console", language: "Language", signOut: "Sign out", signInTitle: "Sign in with an API key",
    signInHelp: "The key stays in this browser tab only and is sent to this service alone.", apiKey: "API key",
    signIn: "Sign in", users: "Users", memories: "Memories", search: "Search", keys: "Keys", health: "Health",
    idPrefix: "User id starts with", filter: "Filter", userId: "User", memoryCount: "Memories",
    lastActivity: "Last activity", type: "Type", session: "Session", agent: "Agent",
    metadataFilter: "Metadata (JSON)", createdAfter: "Created after", createdBefore: "Created before", show: "Show",
    export: "Export as a file", erase: "Erase this user…", query: "Query", threshold: "Threshold", limit: "Limit",
    searchHint: "Memories under the threshold line are what the API leaves out at this threshold.",
    access: "Access", readOnly: "read only", readWrite: "read and write", keyName: "Name", createKey: "Create key",
    secretOnce: "Copy the key now: it is shown this once.", prefix: "Prefix", created: "Created", refresh: "Refresh",
    liveNumbers: "Live numbers", close: "Close", memory: "Memory", content: "Content", metadata: "Metadata (JSON)",
    expiresAt: "Expires at (ISO 8601)", save: "Save", delete: "Delete", history: "History",
    eraseTitle: "Erase every memory of this user", eraseHelp: "This cannot be undone. Type the user id to confirm:",
    eraseNow: "Erase", cancel: "Cancel", anyType: "any type", previous: "Previous", next: "Next",
    page: "{from}–{to} of {total}", open: "Open", revoke: "Revoke", revoked: "revoked", none: "Nothing here yet.",
    noResults: "No memories match.", thresholdLine: "threshold {value}", score: "relevance {value}",
    why: "why: {how}", dense: "meaning", keyword: "shared words", both: "meaning and shared words",
    denseScore: "meaning score {value}", keywordScore: "keyword lift +{value}", signedInAdmin: "admin key",
    signedInScoped: "key for {scope}", readOnlyBadge: "read only", badKey: "The service refused this key: sign in again.",
    unavailable: "Unavailable: {dependency} — {message}", saved: "Saved.", deleted: "Memory deleted.",
    erased: "Erased {count} memories of {user}.", confirmDelete: "Delete this memory?", status: "Status",
    version: "Version", backlog: "Index backlog", outbox: "Index outbox (pending writes)", checkOk: "ok", requests: "HTTP requests", memoriesStored: "Memories stored",
    vectorsStored: "Vectors stored", uptime: "Uptime (s)", authFailures: "Authentication failures", createdAt: "Created",
    updatedAt: "Updated", expires: "Expires", by: "by {actor}", needsAdmin: "Live numbers need an admin key.",
    networkError: "The service did not answer: {message}", badJson: "Must be a JSON object",
    order: "Order", newestFirst: "newest first", oldestFirst: "oldest first",
    sessions: "Sessions", sessionLog: "A session's message log", olderMessages: "Older messages",
    noMessages: "No messages in this log.", messageCount: "{count} messages in the log",
    quarantined: "Quarantined memories", jobQueue: "Background jobs",
    jobCounts: "{queued} queued, {running} running, {failed} failed",
  },
  ru: {
    title: "Консоль Mem0", language: "Язык", signOut: "Выйти", signInTitle: "Вход по API-ключу",
    signInHelp: "Ключ хранится только в этой вкладке браузера и отправляется только этому сервису.",
    apiKey: "API-ключ", signIn: "Войти", users: "Пользователи", memories: "Воспоминания", search: "Поиск",
    keys: "Ключи", health: "Состояние", idPrefix: "Id пользователя начинается с", filter: "Отобрать",
    userId: "Пользователь", memoryCount: "Воспоминаний", lastActivity: "Последняя активность", type: "Тип",
    session: "Сессия", agent: "Агент", metadataFilter: "Метаданные (JSON)", createdAfter: "Создано после",
    createdBefore: "Создано до", show: "Показать", export: "Выгрузить в файл", erase: "Стереть пользователя…",
    query: "Запрос", threshold: "Порог", limit: "Сколько",
    searchHint: "Воспоминания под линией порога API при этом пороге не вернёт.",
    access: "Доступ", readOnly: "только чтение", readWrite: "чтение и запись", keyName: "Название",
    createKey: "Создать ключ", secretOnce: "Скопируйте ключ сейчас: он показывается один раз.", prefix: "Префикс",
    created: "Создан", refresh: "Обновить", liveNumbers: "Текущие показатели", close: "Закрыть",
    memory: "Воспоминание", content: "Текст", metadata: "Метаданные (JSON)", expiresAt: "Истекает (ISO 8601)",
    save: "Сохранить", delete: "Удалить", history: "История", eraseTitle: "Стереть все воспоминания пользователя",
    eraseHelp: "Это необратимо. Введите id пользователя для подтверждения:", eraseNow: "Стереть", cancel: "Отмена",
    anyType: "любой тип", previous: "Назад", next: "Дальше", page: "{from}–{to} из {total}", open: "Открыть",
    revoke: "Отозвать", revoked: "отозван", none: "Пока пусто.", noResults: "Ничего не найдено.",
    thresholdLine: "порог {value}", score: "релевантность {value}", why: "почему: {how}", dense: "по смыслу",
    keyword: "по общим словам", both: "по смыслу и по словам", denseScore: "оценка смысла {value}",
    keywordScore: "прибавка от слов +{value}", signedInAdmin: "ключ администратора", signedInScoped: "ключ для {scope}",
    readOnlyBadge: "только чтение", badKey: "Сервис не принял ключ: войдите снова.",
    unavailable: "Недоступно: {dependency} — {message}", saved: "Сохранено.", deleted: "Воспоминание удалено.",
    erased: "Стёрто воспоминаний пользователя {user}: {count}.", confirmDelete: "Удалить это воспоминание?",
    status: "Статус", version: "Версия", backlog: "Очередь индексации", outbox: "Ожидающие записи в индекс", checkOk: "в порядке",
    requests: "HTTP-запросов", memoriesStored: "Воспоминаний", vectorsStored: "Векторов", uptime: "Работает (с)",
    authFailures: "Неудачных входов", createdAt: "Создано", updatedAt: "Изменено", expires: "Истекает",
    by: "кто: {actor}", needsAdmin: "Показатели доступны с ключом администратора.",
    networkError: "Сервис не ответил: {message}", badJson: "Нужен JSON-объект",
    order: "Порядок", newestFirst: "сначала новые", oldestFirst: "сначала старые",
    sessions: "Сессии", sessionLog: "Журнал сообщений сессии", olderMessages: "Более ранние сообщения",
    noMessages: "В журнале нет сообщений.", messageCount: "Сообщений в журнале: {count}",
    quarantined: "Воспоминаний в карантине", jobQueue: "Фоновые задачи",
    jobCounts: "в очереди {queued}, выполняется {running}, с ошибкой {failed}",
  },
};

const LANG_KEY = "mem0.console.lang";
let current = pickLanguage();

function pickLanguage() {
  const saved = localStorage.getItem(LANG_KEY);
  if (saved && saved in WORDS) return saved;
  return (navigator.language || "en").toLowerCase().startsWith("ru") ? "ru" : "en";
}

export function language() {
  return current;
}

export function setLanguage(lang) {
  current = lang in WORDS ? lang : "en";
  localStorage.setItem(LANG_KEY, current);
  translatePage();
}

export function t(word, values = {}) {
  const text = WORDS[current][word] ?? WORDS.en[word] ?? word;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

export function translatePage(root = document) {
  document.documentElement.lang = current;
  document.title = t("title");
  for (const element of root.querySelectorAll("[data-i18n]")) {
    element.textContent = t(element.dataset.i18n);
  }
}

export function formatDate(iso) {
  if (!iso) return "—";
  return new Date(iso).toLocaleString(current === "ru" ? "ru-RU" : "en-GB", { dateStyle: "medium", timeStyle: "short" });
}
