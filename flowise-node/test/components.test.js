const { test } = require('node:test')
const assert = require('node:assert/strict')
const { load, startService, memory, flowOptions, nodeData } = require('./helpers')

const { credClass: Mem0Api } = load('credentials/Mem0Api.credential.js')
const { nodeClass: Mem0MemoryNode } = load('nodes/memory/Mem0Memory/Mem0Memory.js')
const { nodeClass: Mem0SearchNode } = load('nodes/tools/Mem0Search/Mem0Search.js')
const { nodeClass: Mem0SaveNode } = load('nodes/tools/Mem0Save/Mem0Save.js')

/**
 * A service holding a session message log, turns stored as memories by earlier versions and long-term memories,
 * recording what it is asked.
 */
function fakeService({ log = [], turns = [], longTerm = [], failCreate = false } = {}) {
    const stored = log.map((m, i) => ({ seq: i + 1, ...m }))
    return startService((req) => {
        if (req.path.endsWith('/messages')) {
            if (req.method === 'GET') return { body: { messages: stored, total: stored.length, has_more: false } }
            if (req.method === 'POST') {
                if (failCreate) return { status: 503, body: { error: 'Service Unavailable', message: 'storage backend is down' } }
                for (const m of req.body.messages) stored.push({ seq: stored.length + 1, ...m })
                return { status: 201, body: { messages: stored.slice(-req.body.messages.length) } }
            }
            if (req.method === 'DELETE') return { body: { success: true, deleted: stored.splice(0).length } }
        }
        if (req.method === 'GET' && req.path.startsWith('/api/memories/user/')) return { body: { memories: turns, total: turns.length, limit: 20, offset: 0 } }
        if (req.method === 'POST' && req.path === '/api/memories/search') return { body: { memories: longTerm, total: longTerm.length } }
        if (req.method === 'POST' && req.path === '/api/memories') {
            if (failCreate) return { status: 503, body: { error: 'Service Unavailable', message: 'storage backend is down' } }
            return { status: 201, body: memory({ ...req.body, id: 'mem_new' }) }
        }
        if (req.method === 'DELETE') return { body: { success: true, deleted: turns.length } }
        return { status: 404, body: { error: 'Not Found', message: 'no route' } }
    })
}

test('the credential asks for a base URL and a secret API key', () => {
    const cred = new Mem0Api()
    assert.equal(cred.name, 'mem0Api')
    assert.equal(cred.label, 'Mem0 API')
    assert.deepEqual(cred.inputs.map((i) => [i.name, i.type]), [['baseUrl', 'string'], ['apiKey', 'password']])
})

test('node descriptions: names, categories, credential and memory base classes', () => {
    const mem = new Mem0MemoryNode()
    assert.equal(mem.name, 'mem0Memory')
    assert.equal(mem.category, 'Memory')
    assert.deepEqual(mem.credential.credentialNames, ['mem0Api'])
    assert.ok(mem.baseClasses.includes('Mem0Memory') && mem.baseClasses.includes('BufferMemory'))
    for (const Tool of [Mem0SearchNode, Mem0SaveNode]) {
        const tool = new Tool()
        assert.equal(tool.category, 'Tools')
        assert.ok(tool.baseClasses.includes('Tool'))
        assert.deepEqual(tool.credential.credentialNames, ['mem0Api'])
    }
})

test('memory: history of the session plus relevant long-term memories as a system message', async (t) => {
    const service = await fakeService({
        log: [
            { role: 'user', content: 'My name is Ann' },
            { role: 'tool', content: 'a tool result is not a turn of the chat' },
            { role: 'assistant', content: 'Hello Ann' }
        ],
        longTerm: [memory({ content: 'Ann is vegetarian', type: 'fact' }), memory({ content: 'My name is Ann', type: 'interaction', session_id: 's1' })]
    })
    t.after(service.close)
    const node = new Mem0MemoryNode()
    const mem = await node.init(
        nodeData('mem0Memory', { userId: 'ann', contextTypes: '["fact","interaction"]', relevanceThreshold: '0.3', contextLimit: 2, historyLimit: 10 }),
        'What should I cook?',
        flowOptions(service.url)
    )

    const messages = await mem.getChatMessages('s1', true)

    assert.deepEqual(
        messages.map((m) => [m._getType(), m.content]),
        [
            ['system', 'Relevant information about the user from previous interactions:\n- Ann is vegetarian'],
            ['human', 'My name is Ann'],
            ['ai', 'Hello Ann']
        ]
    )
    const [read, earlier] = service.requests.filter((r) => r.method === 'GET')
    const search = service.requests.find((r) => r.path === '/api/memories/search')
    assert.equal(read.path, '/api/sessions/s1/messages')
    assert.deepEqual(read.query, { user_id: 'ann', limit: '10' })
    assert.equal(read.headers.authorization, 'Bearer key-123')
    // a window that is not full also looks for turns stored by earlier versions
    assert.equal(earlier.path, '/api/memories/user/ann')
    assert.deepEqual(earlier.query, { session_id: 's1', type: 'interaction', limit: '10', order: 'desc' })
    assert.deepEqual(search.body, { user_id: 'ann', query: 'What should I cook?', limit: 12, relevance_threshold: 0.3, types: ['fact', 'interaction'] })
})

test('memory: plain history for Flowise (IMessage) without a search', async (t) => {
    const service = await fakeService({
        log: [{ role: 'user', content: 'hi' }],
        // an interaction memory another client wrote is not a chat turn
        turns: [memory({ content: 'not a turn', type: 'interaction', metadata: { role: 'user' } })]
    })
    t.after(service.close)
    const mem = await new Mem0MemoryNode().init(nodeData('mem0Memory', {}), 'q', flowOptions(service.url))

    const messages = await mem.getChatMessages('', false, [{ message: 'earlier', type: 'apiMessage' }])

    assert.deepEqual(messages, [
        { message: 'earlier', type: 'apiMessage' },
        { message: 'hi', type: 'userMessage' }
    ])
    assert.equal(service.requests.length, 2)
    // No user id configured: the chat session id is the user id.
    assert.deepEqual(service.requests[0].query, { user_id: 'chat-1', limit: '20' })
    assert.equal(service.requests[1].path, '/api/memories/user/chat-1')
})

test('memory: addChatMessages appends the turns, in order, to the session log in one request', async (t) => {
    const service = await fakeService()
    t.after(service.close)
    const mem = await new Mem0MemoryNode().init(nodeData('mem0Memory', { userId: 'bob', agentId: 'support' }), 'q', flowOptions(service.url))

    await mem.addChatMessages(
        [
            { text: 'I live in Oslo', type: 'userMessage' },
            { text: 'Noted!', type: 'apiMessage' }
        ],
        's2'
    )

    assert.deepEqual(
        service.requests.map((r) => [r.method, r.path, r.body]),
        [
            [
                'POST',
                '/api/sessions/s2/messages',
                {
                    user_id: 'bob',
                    agent_id: 'support',
                    messages: [
                        { role: 'user', content: 'I live in Oslo', metadata: { source: 'flowise' } },
                        { role: 'assistant', content: 'Noted!', metadata: { source: 'flowise' } }
                    ]
                }
            ]
        ]
    )
})

test('memory: a failed save is an error, not a log line', async (t) => {
    const service = await fakeService({ failCreate: true })
    t.after(service.close)
    const mem = await new Mem0MemoryNode().init(nodeData('mem0Memory', { userId: 'bob' }), 'q', flowOptions(service.url))

    await assert.rejects(
        mem.addChatMessages([{ text: 'hello', type: 'userMessage' }], 's3'),
        /Mem0 Memory could not save the messages of session "s3": Mem0 service answered 503 .*storage backend is down/
    )
})

test('memory: clearing a chat deletes only that session of the user', async (t) => {
    const service = await fakeService()
    t.after(service.close)
    const mem = await new Mem0MemoryNode().init(nodeData('mem0Memory', { userId: 'bob' }), '', flowOptions(service.url))

    await mem.clearChatMessages('s4')

    assert.deepEqual(
        service.requests.map((r) => [r.method, r.path, r.query]),
        [
            ['DELETE', '/api/sessions/s4/messages', { user_id: 'bob' }],
            ['DELETE', '/api/memories/user/bob', { session_id: 's4' }]
        ]
    )
    assert.equal(mem.clearCalls, 1)
})

test('memory: saveContext / loadMemoryVariables go through the service too', async (t) => {
    const service = await fakeService()
    t.after(service.close)
    const mem = await new Mem0MemoryNode().init(nodeData('mem0Memory', { userId: 'bob', contextLimit: 0 }), '', flowOptions(service.url))

    await mem.saveContext({ input: 'hello' }, { text: 'hi there' })
    const vars = await mem.loadMemoryVariables({})

    assert.equal(service.requests[0].path, '/api/sessions/chat-1/messages')
    assert.deepEqual(service.requests[0].body.messages.map((m) => m.content), ['hello', 'hi there'])
    assert.deepEqual(vars.chat_history.map((m) => m.content), ['hello', 'hi there'])
    assert.equal(service.requests.length, 3, 'contextLimit 0 turns the long-term search off')
})

test('memory: a missing credential is reported on the node', async () => {
    const node = new Mem0MemoryNode()
    await assert.rejects(node.init({ ...nodeData('mem0Memory'), label: 'Mem0 Memory', credential: 'nope' }, '', { credentials: {} }), /Mem0 Memory: connect a "Mem0 API" credential/)
})

test('search tool: the agent query goes to the service and memories come back as JSON', async (t) => {
    const service = await fakeService({ longTerm: [memory({ content: 'Prefers trains', type: 'preference', relevance_score: 0.8 })] })
    t.after(service.close)
    const tool = await new Mem0SearchNode().init(
        nodeData('mem0Search', { userId: 'carol', types: '["preference"]', limit: '3', toolName: 'recall' }),
        'ignored',
        flowOptions(service.url)
    )

    assert.equal(tool.name, 'recall')
    assert.deepEqual(Object.keys(tool.schema.shape), ['query'])
    const out = await tool.invoke({ query: 'travel' })

    assert.deepEqual(JSON.parse(out).map((m) => m.content), ['Prefers trains'])
    assert.deepEqual(service.requests[0].body, { user_id: 'carol', query: 'travel', limit: 3, types: ['preference'] })
})

test('search tool: Rewrite Query on asks the service for rewrites; off leaves it to the service', async (t) => {
    const service = await fakeService({ longTerm: [memory({ content: 'Anna has a cat named Barsik' })] })
    t.after(service.close)
    const node = new Mem0SearchNode()
    const on = await node.init(nodeData('mem0Search', { userId: 'anna', rewriteQuery: true }), '', flowOptions(service.url))
    const off = await node.init(nodeData('mem0Search', { userId: 'anna', rewriteQuery: false }), '', flowOptions(service.url))

    await on.invoke({ query: 'домашние животные' })
    await off.invoke({ query: 'домашние животные' })

    assert.deepEqual(service.requests.map((r) => r.body), [
        { user_id: 'anna', query: 'домашние животные', rewrite_query: true },
        { user_id: 'anna', query: 'домашние животные' }
    ])
})

test('search node as text output: the user message is the query, lines of memories come back', async (t) => {
    const found = await fakeService({ longTerm: [memory({ content: 'Likes watercolour' }), memory({ content: 'Favourite colour: teal' })] })
    const empty = await fakeService()
    t.after(found.close)
    t.after(empty.close)
    const node = new Mem0SearchNode()
    const data = nodeData('mem0Search', { userId: 'dan', types: '["preference"]', emptyText: 'Neutral style' }, { output: 'text' })

    assert.equal(await node.init(data, 'a lighthouse at dusk', flowOptions(found.url)), '- Likes watercolourFLOWISE_NEWLINE- Favourite colour: teal')
    assert.deepEqual(found.requests[0].body, { user_id: 'dan', query: 'a lighthouse at dusk', types: ['preference'] })
    assert.equal(await node.init(data, 'a cat', flowOptions(empty.url)), 'Neutral style')
})

test('save tool: stores the memory with the chosen or default type; failures are thrown', async (t) => {
    const service = await fakeService()
    t.after(service.close)
    const tool = await new Mem0SaveNode().init(nodeData('mem0Save', { userId: 'erin', defaultType: 'preference' }), '', flowOptions(service.url))

    const first = await tool.invoke({ content: 'Likes green tea' })
    await tool.invoke({ content: 'Works as a nurse', type: 'fact' })

    assert.match(first, /^Saved preference memory mem_new: Likes green tea$/)
    assert.deepEqual(service.requests.map((r) => [r.body.user_id, r.body.type, r.body.content]), [
        ['erin', 'preference', 'Likes green tea'],
        ['erin', 'fact', 'Works as a nurse']
    ])

    const broken = await fakeService({ failCreate: true })
    t.after(broken.close)
    const failing = await new Mem0SaveNode().init(nodeData('mem0Save', { userId: 'erin' }), '', flowOptions(broken.url))
    await assert.rejects(failing.invoke({ content: 'x' }), /503/)
})

test('memory: a chat cleared without the user id (as Flowise does) reaches the user the session belongs to', async (t) => {
    const service = await fakeService()
    t.after(service.close)
    const node = new Mem0MemoryNode()
    const during = await node.init(nodeData('mem0Memory', { userId: 'frank' }), 'hi', flowOptions(service.url))
    await during.addChatMessages([{ text: 'hi', type: 'userMessage' }], 'session-77')

    const later = await node.init(nodeData('mem0Memory', { userId: '{{$flow.userId}}' }), '', flowOptions(service.url))
    await later.clearChatMessages('session-77')
    await later.clearChatMessages('session-never-seen')

    const deletes = service.requests.filter((r) => r.method === 'DELETE').map((r) => [r.path, r.query])
    assert.deepEqual(deletes, [
        ['/api/sessions/session-77/messages', { user_id: 'frank' }],
        ['/api/memories/user/frank', { session_id: 'session-77' }],
        ['/api/sessions/session-never-seen/messages', { user_id: 'session-never-seen' }],
        ['/api/memories/user/session-never-seen', { session_id: 'session-never-seen' }]
    ])
})

test('memory: the long-term context can be sent as a user message for models that want one system message', async (t) => {
    const service = await fakeService({ longTerm: [memory({ content: 'Ann is vegetarian' })] })
    t.after(service.close)
    const mem = await new Mem0MemoryNode().init(nodeData('mem0Memory', { userId: 'ann', contextRole: 'user' }), 'q', flowOptions(service.url))

    const messages = await mem.getChatMessages('s1', true)

    assert.deepEqual(messages.map((m) => m._getType()), ['human'])
    assert.match(messages[0].content, /- Ann is vegetarian/)
})
