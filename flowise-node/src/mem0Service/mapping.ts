/** Pure mapping between Flowise chat messages, component inputs and Mem0 service records (no Flowise imports). */

import type { CreateMemoryInput, LoggedMessage, Memory, MemoryType, NewLogMessage } from './client'
import { MEMORY_TYPES } from './client'

export type ChatRole = 'user' | 'assistant'
export type FlowiseMessageType = 'userMessage' | 'apiMessage'

export interface ChatTurn {
    role: ChatRole
    text: string
}

export interface Scope {
    userId: string
    sessionId: string
    agentId?: string
}

/** Marker stored in metadata so the memory component recognises the chat turns it wrote. */
export const CHAT_SOURCE = 'flowise'

export function roleOf(type: FlowiseMessageType | string): ChatRole {
    return type === 'userMessage' || type === 'human' || type === 'user' ? 'user' : 'assistant'
}

/** One chat turn becomes one `interaction` memory of the session. */
export function chatTurnToMemory(turn: ChatTurn, scope: Scope, sequence: number): CreateMemoryInput {
    return {
        user_id: scope.userId,
        session_id: scope.sessionId,
        agent_id: scope.agentId || undefined,
        content: turn.text,
        type: 'interaction',
        metadata: { role: turn.role, source: CHAT_SOURCE, sequence }
    }
}

/** One chat turn as a message of the session's log. */
export function chatTurnToLogMessage(turn: ChatTurn): NewLogMessage {
    return { role: turn.role, content: turn.text, metadata: { source: CHAT_SOURCE } }
}

/** The log's messages (oldest first) as chat turns; tool results and other roles are not turns of the chat. */
export function logToChatTurns(messages: LoggedMessage[]): ChatTurn[] {
    return messages
        .filter((m) => m.role === 'user' || m.role === 'assistant')
        .map((m) => ({ role: m.role as ChatRole, text: m.content }))
}

/** Session memories written by earlier versions (any order) back to chat turns, oldest first. */
export function memoriesToChatTurns(memories: Memory[]): ChatTurn[] {
    // The sequence written with each turn orders turns saved within the same clock tick.
    const sorted = [...memories].sort((a, b) => {
        const sa = sequenceOf(a)
        const sb = sequenceOf(b)
        if (sa && sb && sa !== sb) return sa - sb
        return a.created_at.localeCompare(b.created_at)
    })
    return sorted.map((memory) => ({
        role: memory.metadata && memory.metadata.role === 'assistant' ? 'assistant' : 'user',
        text: memory.content
    }))
}

function sequenceOf(memory: Memory): number {
    const value = memory.metadata ? Number(memory.metadata.sequence) : NaN
    return Number.isFinite(value) ? value : 0
}

/**
 * Long-term memories as one context block for the model. Chat turns of the current session are left out:
 * they already reach the model as chat history.
 */
export function formatContext(memories: Memory[], header: string, currentSessionId?: string): string {
    const lines = memories
        .filter((memory) => !(memory.type === 'interaction' && currentSessionId && memory.session_id === currentSessionId))
        .map((memory) => `- ${memory.content}`)
    if (lines.length === 0) return ''
    return `${header.trim()}\n${lines.join('\n')}`
}

/**
 * A node input that still contains `{{...}}` was not resolved by Flowise (for example `{{$flow.userId}}`
 * without that key in overrideConfig) and counts as empty.
 */
export function cleanInput(value: unknown): string {
    if (value === undefined || value === null) return ''
    const text = String(value).trim()
    if (text.includes('{{') && text.includes('}}')) return ''
    return text
}

/** The user id: the node input (possibly set through overrideConfig), else the chat session, so nothing is shared by accident. */
export function resolveUserId(input: unknown, sessionId: string): string {
    const userId = cleanInput(input)
    if (userId) return userId
    if (sessionId) return sessionId
    throw new Error('Mem0: no user id. Set "User ID" on the node or pass overrideConfig.userId')
}

/** Flowise stores multiOptions values as a JSON string of an array (or a comma list when typed by hand). */
export function parseTypes(value: unknown): MemoryType[] {
    let items: unknown[] = []
    if (Array.isArray(value)) items = value
    else if (typeof value === 'string' && value.trim()) {
        const text = value.trim()
        if (text.startsWith('[')) {
            try {
                items = JSON.parse(text)
            } catch {
                items = []
            }
        } else items = text.split(',')
    }
    const types = items.map((item) => String(item).trim()).filter((item): item is MemoryType => MEMORY_TYPES.includes(item as MemoryType))
    return [...new Set(types)]
}

/** A number input; empty means "let the service decide". Throws on values the service would reject anyway. */
export function parseNumber(value: unknown, name: string, min: number, max: number): number | undefined {
    if (value === undefined || value === null || value === '') return undefined
    const number = typeof value === 'number' ? value : Number(String(value).trim())
    if (!Number.isFinite(number) || number < min || number > max) {
        throw new Error(`Mem0: "${name}" must be a number between ${min} and ${max}, got ${JSON.stringify(value)}`)
    }
    return number
}

/** What the search tool hands back to an agent: compact JSON the model can read and quote. */
export function formatToolResult(memories: Memory[]): string {
    if (memories.length === 0) return 'No matching memories found.'
    return JSON.stringify(
        memories.map((memory) => ({
            content: memory.content,
            type: memory.type,
            relevance_score: memory.relevance_score,
            created_at: memory.created_at
        }))
    )
}

/** Memories as prompt text, one per line, or a fallback sentence when there are none. */
export function formatMemoriesText(memories: Memory[], emptyText: string): string {
    if (memories.length === 0) return emptyText
    return memories.map((memory) => `- ${memory.content}`).join('\n')
}
