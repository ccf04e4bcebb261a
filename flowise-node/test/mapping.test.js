const { test } = require('node:test')
const assert = require('node:assert/strict')
const { load, memory } = require('./helpers')

const m = load('src/mem0Service/mapping.js')

test('a chat turn becomes an interaction memory of the session', () => {
    const input = m.chatTurnToMemory({ role: 'user', text: 'Hi' }, { userId: 'u1', sessionId: 's1' }, 7)
    assert.deepEqual(input, {
        user_id: 'u1',
        session_id: 's1',
        agent_id: undefined,
        content: 'Hi',
        type: 'interaction',
        metadata: { role: 'user', source: 'flowise', sequence: 7 }
    })
})

test('session memories come back as turns in the order they were said', () => {
    const same = '2026-01-01T10:00:00Z'
    const turns = m.memoriesToChatTurns([
        memory({ content: 'answer 2', metadata: { role: 'assistant', sequence: 4 }, created_at: same }),
        memory({ content: 'question 1', metadata: { role: 'user', sequence: 1 }, created_at: '2026-01-01T09:00:00Z' }),
        memory({ content: 'question 2', metadata: { role: 'user', sequence: 3 }, created_at: same }),
        memory({ content: 'answer 1', metadata: { role: 'assistant', sequence: 2 }, created_at: '2026-01-01T09:00:01Z' })
    ])
    assert.deepEqual(
        turns.map((t) => `${t.role}:${t.text}`),
        ['user:question 1', 'assistant:answer 1', 'user:question 2', 'assistant:answer 2']
    )
})

test('context lists long-term memories but not the current session turns', () => {
    const text = m.formatContext(
        [
            memory({ content: 'Lives in Lisbon' }),
            memory({ content: 'said in this chat', type: 'interaction', session_id: 's1' }),
            memory({ content: 'said last week', type: 'interaction', session_id: 's0' })
        ],
        'Known about the user:',
        's1'
    )
    assert.equal(text, 'Known about the user:\n- Lives in Lisbon\n- said last week')
    assert.equal(m.formatContext([], 'Header', 's1'), '')
})

test('unresolved variables count as empty and the user id falls back to the session', () => {
    assert.equal(m.cleanInput('{{$flow.userId}}'), '')
    assert.equal(m.cleanInput('  alice '), 'alice')
    assert.equal(m.resolveUserId('{{$flow.userId}}', 'chat-9'), 'chat-9')
    assert.equal(m.resolveUserId('alice', 'chat-9'), 'alice')
    assert.throws(() => m.resolveUserId('', ''), /no user id/)
})

test('multiOptions values are parsed from JSON, lists and arrays; unknown types are dropped', () => {
    assert.deepEqual(m.parseTypes('["fact","preference"]'), ['fact', 'preference'])
    assert.deepEqual(m.parseTypes('fact, pattern,bogus'), ['fact', 'pattern'])
    assert.deepEqual(m.parseTypes(['interaction', 'interaction']), ['interaction'])
    assert.deepEqual(m.parseTypes(''), [])
})

test('numbers outside their range are refused with the input name', () => {
    assert.equal(m.parseNumber('0.4', 'Relevance Threshold', 0, 1), 0.4)
    assert.equal(m.parseNumber('', 'Relevance Threshold', 0, 1), undefined)
    assert.throws(() => m.parseNumber('1.5', 'Relevance Threshold', 0, 1), /"Relevance Threshold" must be a number between 0 and 1/)
})

test('tool and prompt texts', () => {
    assert.equal(m.formatToolResult([]), 'No matching memories found.')
    const parsed = JSON.parse(m.formatToolResult([memory({ content: 'Likes jazz', type: 'preference', relevance_score: 0.9 })]))
    assert.deepEqual(parsed, [{ content: 'Likes jazz', type: 'preference', relevance_score: 0.9, created_at: '2026-01-01T00:00:00Z' }])
    assert.equal(m.formatMemoriesText([memory({ content: 'a' }), memory({ content: 'b' })], 'none'), '- a\n- b')
    assert.equal(m.formatMemoriesText([], 'none'), 'none')
})
