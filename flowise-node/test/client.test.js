const { test } = require('node:test')
const assert = require('node:assert/strict')
const { load, startService, memory } = require('./helpers')

const { Mem0Client, Mem0ApiError, normalizeBaseUrl } = load('src/mem0Service/client.js')

test('createMemory posts the memory with the bearer key and without empty fields', async (t) => {
    const service = await startService(() => ({ status: 201, body: memory({ content: 'Likes tea' }) }))
    t.after(service.close)
    const client = new Mem0Client({ baseUrl: service.url, apiKey: 'key-123' })

    const created = await client.createMemory({ user_id: 'u1', content: 'Likes tea', type: 'preference', session_id: '', agent_id: undefined })

    assert.equal(created.content, 'Likes tea')
    const [req] = service.requests
    assert.equal(req.method, 'POST')
    assert.equal(req.path, '/api/memories')
    assert.equal(req.headers.authorization, 'Bearer key-123')
    assert.deepEqual(req.body, { user_id: 'u1', content: 'Likes tea', type: 'preference' })
})

test('search sends the query, threshold, limit and types', async (t) => {
    const service = await startService(() => ({ body: { memories: [], total: 0 } }))
    t.after(service.close)
    const client = new Mem0Client({ baseUrl: service.url + '/api/', apiKey: 'k' })

    await client.search({ user_id: 'u1', query: 'food', relevance_threshold: 0.4, limit: 3, types: ['preference'] })

    assert.equal(service.requests[0].path, '/api/memories/search')
    assert.deepEqual(service.requests[0].body, { user_id: 'u1', query: 'food', relevance_threshold: 0.4, limit: 3, types: ['preference'] })
})

test('listing and clearing a session use the user route with query parameters', async (t) => {
    const service = await startService((req) =>
        req.method === 'GET' ? { body: { memories: [], total: 0, limit: 5, offset: 0 } } : { body: { success: true, deleted: 2 } }
    )
    t.after(service.close)
    const client = new Mem0Client({ baseUrl: service.url, apiKey: 'k' })

    await client.listUserMemories('user/1', { session_id: 's1', type: 'interaction', limit: 5, order: 'desc' })
    const cleared = await client.deleteSessionMemories('user/1', 's1')

    assert.equal(service.requests[0].path, '/api/memories/user/user%2F1')
    assert.deepEqual(service.requests[0].query, { session_id: 's1', type: 'interaction', limit: '5', order: 'desc' })
    assert.equal(service.requests[1].method, 'DELETE')
    assert.deepEqual(service.requests[1].query, { session_id: 's1' })
    assert.equal(cleared.deleted, 2)
    assert.throws(() => client.deleteSessionMemories('user/1', ''), /session id is required/)
})

test('service errors become Mem0ApiError with status, message and field', async (t) => {
    const service = await startService(() => ({
        status: 400,
        body: { error: 'Bad Request', message: 'content must not be empty', field: 'content' }
    }))
    t.after(service.close)
    const client = new Mem0Client({ baseUrl: service.url, apiKey: 'k' })

    await assert.rejects(client.createMemory({ user_id: 'u1', content: 'x' }), (error) => {
        assert.ok(error instanceof Mem0ApiError)
        assert.equal(error.status, 400)
        assert.equal(error.field, 'content')
        assert.match(error.message, /400 to POST \/api\/memories: content must not be empty \(field: content\)/)
        return true
    })
})

test('an unreachable service is reported with its address', async () => {
    const client = new Mem0Client({ baseUrl: 'http://127.0.0.1:9', apiKey: 'k', timeoutMs: 2000 })
    await assert.rejects(client.checkAuth(), (error) => {
        assert.equal(error.status, 0)
        assert.match(error.message, /unreachable at http:\/\/127\.0\.0\.1:9/)
        return true
    })
})

test('base URLs are normalised and a missing key is refused', () => {
    assert.equal(normalizeBaseUrl(' https://mem0.example.com/api/ '), 'https://mem0.example.com')
    assert.equal(normalizeBaseUrl('http://h:8080//'), 'http://h:8080')
    assert.throws(() => new Mem0Client({ baseUrl: 'http://h', apiKey: '' }), /no API Key/)
})
