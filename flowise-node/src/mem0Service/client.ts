/** HTTP client for the Mem0 memory service API, shared by the credential-based components. */

export type MemoryType = 'fact' | 'preference' | 'interaction' | 'metadata' | 'pattern'

export const MEMORY_TYPES: MemoryType[] = ['fact', 'preference', 'interaction', 'metadata', 'pattern']

export interface Memory {
    id: string
    user_id: string
    content: string
    type: MemoryType
    session_id: string | null
    agent_id: string | null
    metadata: Record<string, unknown> | null
    created_at: string
    updated_at: string
    relevance_score?: number
}

export interface CreateMemoryInput {
    user_id: string
    content: string
    type?: MemoryType
    session_id?: string
    agent_id?: string
    metadata?: Record<string, unknown>
}

export interface SearchInput {
    user_id: string
    query?: string
    relevance_threshold?: number
    limit?: number
    types?: MemoryType[]
    session_id?: string
    agent_id?: string
    rewrite_query?: boolean
}

export interface SearchResult {
    memories: Memory[]
    total: number
}

export interface ListInput {
    type?: MemoryType
    session_id?: string
    agent_id?: string
    limit?: number
    offset?: number
    order?: 'asc' | 'desc'
}

export interface ListResult {
    memories: Memory[]
    total: number
    limit: number
    offset: number
}

/** One message of a session's log; `seq` is its place in the log, given by the service. */
export interface LoggedMessage {
    seq: number
    role: string
    content: string
    name?: string | null
    metadata?: Record<string, unknown>
}

export interface MessageLog {
    messages: LoggedMessage[]
    total: number
    has_more: boolean
}

export interface NewLogMessage {
    role: string
    content: string
    metadata?: Record<string, unknown>
}

export interface ClientOptions {
    baseUrl: string
    apiKey: string
    /** Milliseconds before a request is abandoned. */
    timeoutMs?: number
    /** Replaceable for tests; defaults to the global fetch of Node 18+. */
    fetch?: typeof fetch
}

/** A request the service rejected or that never reached it; the message is meant for the person running the flow. */
export class Mem0ApiError extends Error {
    readonly status: number
    readonly field?: string

    constructor(message: string, status: number, field?: string) {
        super(message)
        this.name = 'Mem0ApiError'
        this.status = status
        this.field = field
    }
}

export class Mem0Client {
    readonly baseUrl: string
    private readonly apiKey: string
    private readonly timeoutMs: number
    private readonly fetchImpl: typeof fetch

    constructor(options: ClientOptions) {
        if (!options.baseUrl) throw new Error('Mem0 API credential has no Base URL')
        if (!options.apiKey) throw new Error('Mem0 API credential has no API Key')
        this.baseUrl = normalizeBaseUrl(options.baseUrl)
        this.apiKey = options.apiKey
        this.timeoutMs = options.timeoutMs ?? 15000
        this.fetchImpl = options.fetch ?? fetch
    }

    createMemory(input: CreateMemoryInput): Promise<Memory> {
        return this.request<Memory>('POST', '/api/memories', dropEmpty(input))
    }

    search(input: SearchInput): Promise<SearchResult> {
        return this.request<SearchResult>('POST', '/api/memories/search', dropEmpty(input))
    }

    listUserMemories(userId: string, input: ListInput = {}): Promise<ListResult> {
        return this.request<ListResult>('GET', `/api/memories/user/${encodeURIComponent(userId)}`, undefined, input)
    }

    /** Deletes one session's memories of a user; the session is required so a chat reset never wipes a whole user. */
    deleteSessionMemories(userId: string, sessionId: string): Promise<{ success: boolean; deleted: number }> {
        if (!sessionId) throw new Error('A session id is required to clear a chat')
        return this.request('DELETE', `/api/memories/user/${encodeURIComponent(userId)}`, undefined, { session_id: sessionId })
    }

    /** Appends to a session's message log; the service numbers the messages in the order it receives them. */
    appendMessages(sessionId: string, userId: string, messages: NewLogMessage[], agentId?: string): Promise<unknown> {
        return this.request('POST', logPath(sessionId), dropEmpty({ user_id: userId, agent_id: agentId, messages }))
    }

    /** The last `limit` messages of a session's log, oldest first. */
    readMessages(sessionId: string, userId: string, limit: number, agentId?: string): Promise<MessageLog> {
        return this.request<MessageLog>('GET', logPath(sessionId), undefined, dropEmpty({ user_id: userId, agent_id: agentId, limit }))
    }

    clearMessages(sessionId: string, userId: string, agentId?: string): Promise<{ success: boolean; deleted: number }> {
        if (!sessionId) throw new Error('A session id is required to clear a chat')
        return this.request('DELETE', logPath(sessionId), undefined, dropEmpty({ user_id: userId, agent_id: agentId }))
    }

    checkAuth(): Promise<{ authenticated: boolean }> {
        return this.request('GET', '/api/auth/check')
    }

    async request<T>(method: string, path: string, body?: object, query?: object): Promise<T> {
        const url = this.baseUrl + path + queryString(query)
        const headers: Record<string, string> = { Authorization: `Bearer ${this.apiKey}`, Accept: 'application/json' }
        if (body !== undefined) headers['Content-Type'] = 'application/json'
        let response: Response
        try {
            response = await this.fetchImpl(url, {
                method,
                headers,
                body: body === undefined ? undefined : JSON.stringify(body),
                signal: AbortSignal.timeout(this.timeoutMs)
            })
        } catch (error) {
            // fetch reports the network error (ECONNREFUSED, ...) as the cause of a generic "fetch failed"
            const cause = error instanceof Error ? (error as { cause?: unknown }).cause : undefined
            const reason = cause instanceof Error ? cause.message : error instanceof Error ? error.message : String(error)
            throw new Mem0ApiError(`Mem0 service unreachable at ${this.baseUrl} (${method} ${path}): ${reason}`, 0)
        }
        const text = await response.text()
        let data: any = undefined
        if (text) {
            try {
                data = JSON.parse(text)
            } catch {
                data = undefined
            }
        }
        if (!response.ok) {
            const detail = data?.message || data?.error || text.slice(0, 200) || response.statusText
            const field = typeof data?.field === 'string' ? data.field : undefined
            throw new Mem0ApiError(
                `Mem0 service answered ${response.status} to ${method} ${path}: ${detail}${field ? ` (field: ${field})` : ''}`,
                response.status,
                field
            )
        }
        return data as T
    }
}

function logPath(sessionId: string): string {
    return `/api/sessions/${encodeURIComponent(sessionId)}/messages`
}

export function normalizeBaseUrl(raw: string): string {
    let url = raw.trim().replace(/\/+$/, '')
    // Users often paste the API root; the client adds /api itself.
    if (url.endsWith('/api')) url = url.slice(0, -4)
    return url
}

function queryString(query?: object): string {
    if (!query) return ''
    const params = new URLSearchParams()
    for (const [key, value] of Object.entries(query)) {
        if (value === undefined || value === null || value === '') continue
        params.append(key, String(value))
    }
    const text = params.toString()
    return text ? `?${text}` : ''
}

/** Removes undefined/empty-string fields so the service applies its own defaults. */
export function dropEmpty<T extends object>(input: T): Partial<T> {
    const out: Record<string, unknown> = {}
    for (const [key, value] of Object.entries(input)) {
        if (value === undefined || value === null || value === '') continue
        if (Array.isArray(value) && value.length === 0) continue
        out[key] = value
    }
    return out as Partial<T>
}
