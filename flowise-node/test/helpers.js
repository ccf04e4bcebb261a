// Shared test set-up: resolve Flowise's runtime modules to small stand-ins, and a recording HTTP server
// that plays the memory service.
const http = require('node:http')
const path = require('node:path')
const Module = require('node:module')

process.env.NODE_PATH = [path.join(__dirname, 'stubs'), process.env.NODE_PATH].filter(Boolean).join(path.delimiter)
Module._initPaths()

const build = path.join(__dirname, '..', 'build')

// The components import Flowise's own modules as Flowise's components do ('../../../src/utils'); inside Flowise
// that is its real module, here one stand-in serves both.
const flowiseSrcStub = path.join(__dirname, 'stubs', 'flowise-src', 'index.js')
const flowiseSrc = [path.join(build, 'src', 'Interface'), path.join(build, 'src', 'utils')]
const resolveFilename = Module._resolveFilename
Module._resolveFilename = function (request, parent, ...rest) {
    if (request.startsWith('.') && parent?.filename && flowiseSrc.includes(path.resolve(path.dirname(parent.filename), request))) {
        return flowiseSrcStub
    }
    return resolveFilename.call(this, request, parent, ...rest)
}
const load = (relative) => require(path.join(build, relative))

/**
 * Starts a server on 127.0.0.1 that records every request and answers from `respond(req)`,
 * which returns { status, body } (default: 200 {}).
 */
async function startService(respond = () => ({})) {
    const requests = []
    const server = http.createServer((req, res) => {
        let raw = ''
        req.on('data', (chunk) => (raw += chunk))
        req.on('end', () => {
            const url = new URL(req.url, 'http://x')
            const entry = {
                method: req.method,
                path: url.pathname,
                query: Object.fromEntries(url.searchParams),
                headers: req.headers,
                body: raw ? JSON.parse(raw) : undefined
            }
            requests.push(entry)
            const { status = 200, body = {} } = respond(entry) || {}
            res.writeHead(status, { 'Content-Type': 'application/json' })
            res.end(JSON.stringify(body))
        })
    })
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${server.address().port}`
    return { url, requests, close: () => new Promise((resolve) => server.close(resolve)) }
}

function memory(fields) {
    return {
        id: `mem_${Math.random().toString(36).slice(2, 10)}`,
        user_id: 'u1',
        type: 'fact',
        session_id: null,
        agent_id: null,
        metadata: {},
        created_at: '2026-01-01T00:00:00Z',
        updated_at: '2026-01-01T00:00:00Z',
        ...fields
    }
}

/** Options as Flowise passes them to init(), with the credential the stub getCredentialData returns. */
function flowOptions(serviceUrl, extra = {}) {
    return { credentials: { cred1: { baseUrl: serviceUrl, apiKey: 'key-123' } }, chatId: 'chat-1', sessionId: 'chat-1', ...extra }
}

function nodeData(name, inputs = {}, outputs = undefined) {
    return { id: `${name}_0`, label: name, name, type: name, credential: 'cred1', inputs, outputs }
}

module.exports = { load, startService, memory, flowOptions, nodeData }
