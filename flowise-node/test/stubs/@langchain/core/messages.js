// Test stand-in for @langchain/core/messages.
class BaseMessage {
    constructor(content) {
        this.content = content
    }
}
class HumanMessage extends BaseMessage {
    _getType() { return 'human' }
}
class AIMessage extends BaseMessage {
    _getType() { return 'ai' }
}
class SystemMessage extends BaseMessage {
    _getType() { return 'system' }
}
function getBufferString(messages) {
    const prefix = { human: 'Human', ai: 'AI', system: 'System' }
    return messages.map((m) => `${prefix[m._getType()]}: ${m.content}`).join('\n')
}
module.exports = { BaseMessage, HumanMessage, AIMessage, SystemMessage, getBufferString }
