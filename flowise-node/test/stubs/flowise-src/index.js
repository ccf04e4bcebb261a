// Test stand-in for the few exports of Flowise's src/Interface and src/utils the components use.
class BufferMemory {
    constructor(fields = {}) {
        this.memoryKey = fields.memoryKey ?? 'history'
        this.inputKey = fields.inputKey
        this.outputKey = fields.outputKey
        this.returnMessages = fields.returnMessages ?? false
        this.clearCalls = 0
    }
    async clear() {
        this.clearCalls += 1
    }
}
class FlowiseMemory extends BufferMemory {}

function getBaseClasses(targetClass) {
    const names = []
    let proto = targetClass
    while (proto && proto.name) {
        names.push(proto.name)
        proto = Object.getPrototypeOf(proto)
    }
    return names
}

// Tests pass credentials as options.credentials: { <id>: { baseUrl, apiKey } }.
async function getCredentialData(id, options) {
    return (options.credentials || {})[id] || {}
}

function getCredentialParam(name, credentialData, nodeData, defaultValue) {
    return (nodeData.inputs || {})[name] ?? credentialData[name] ?? defaultValue ?? undefined
}

// Same encoding as Flowise: special characters become markers that survive inside JSON strings.
function handleEscapeCharacters(input, reverse) {
    const pairs = [['\n', 'FLOWISE_NEWLINE'], ['\t', 'FLOWISE_TAB'], ['"', 'FLOWISE_DOUBLE_QUOTE']]
    if (typeof input !== 'string') return input
    return pairs.reduce((text, [value, escape]) => (reverse ? text.split(escape).join(value) : text.split(value).join(escape)), input)
}

module.exports = { handleEscapeCharacters, FlowiseMemory, getBaseClasses, getCredentialData, getCredentialParam }
