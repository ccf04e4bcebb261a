import { FlowiseMemory, ICommonObject, IMessage, INode, INodeData, INodeParams, MemoryMethods, MessageType } from '../../../src/Interface'
import { getBaseClasses } from '../../../src/utils'
import { AIMessage, BaseMessage, getBufferString, HumanMessage, SystemMessage } from '@langchain/core/messages'
import { Mem0Client, MemoryType } from '../../../src/mem0Service/client'
import { clientFromNode, MEM0_CREDENTIAL } from '../../../src/mem0Service/credentials'
import {
    CHAT_SOURCE,
    ChatTurn,
    chatTurnToLogMessage,
    cleanInput,
    formatContext,
    logToChatTurns,
    memoriesToChatTurns,
    parseNumber,
    parseTypes,
    resolveUserId,
    roleOf
} from '../../../src/mem0Service/mapping'
import { MEMORY_TYPE_OPTIONS } from '../../../src/mem0Service/options'

/**
 * User of each session seen in this Flowise process. Flowise clears a chat and reads `{{chat_history}}` with the
 * node's raw inputs, before `{{$flow.userId}}` or overrideConfig are applied; this map lets those calls reach the
 * user the conversation was stored under.
 */
const sessionUsers = new Map<string, string>()
const SESSION_USERS_MAX = 10000

function rememberSessionUser(sessionId: string, userId: string): void {
    if (!sessionId || sessionUsers.get(sessionId) === userId) return
    sessionUsers.delete(sessionId)
    sessionUsers.set(sessionId, userId)
    if (sessionUsers.size > SESSION_USERS_MAX) sessionUsers.delete(sessionUsers.keys().next().value as string)
}

const DEFAULT_CONTEXT_HEADER = 'Relevant information about the user from previous interactions:'
const DEFAULT_CONTEXT_TYPES: MemoryType[] = ['fact', 'preference', 'pattern', 'interaction']

class Mem0Memory_Memory implements INode {
    label: string
    name: string
    version: number
    description: string
    type: string
    icon: string
    category: string
    baseClasses: string[]
    credential: INodeParams
    inputs: INodeParams[]

    constructor() {
        this.label = 'Mem0 Memory'
        this.name = 'mem0Memory'
        this.version = 1.0
        this.type = 'Mem0Memory'
        this.icon = 'mem0.svg'
        this.category = 'Memory'
        this.description =
            'Chat history kept in the session message log of your Mem0 service, plus the user\'s relevant long-term memories as context'
        this.baseClasses = [this.type, ...getBaseClasses(FlowiseMemory)]
        this.credential = { ...MEM0_CREDENTIAL }
        this.inputs = [
            {
                label: 'User ID',
                name: 'userId',
                type: 'string',
                default: '',
                optional: true,
                acceptVariable: true,
                description:
                    'Whose memories to use. Can be set per request with overrideConfig.userId (enable it under Security > Override Config) or a variable such as {{$flow.userId}}. Empty: the chat session id.'
            },
            {
                label: 'Session ID',
                name: 'sessionId',
                type: 'string',
                default: '',
                optional: true,
                additionalParams: true,
                description: 'Empty: the Flowise chat id (or overrideConfig.sessionId) of each conversation'
            },
            {
                label: 'Long-Term Memory Types',
                name: 'contextTypes',
                type: 'multiOptions',
                options: MEMORY_TYPE_OPTIONS,
                default: JSON.stringify(DEFAULT_CONTEXT_TYPES),
                optional: true,
                additionalParams: true,
                description: 'Which kinds of memories are searched for context (chat turns of the current session are never repeated)'
            },
            {
                label: 'Long-Term Memories Limit',
                name: 'contextLimit',
                type: 'number',
                default: 5,
                optional: true,
                additionalParams: true,
                description: 'How many relevant memories are added as context; 0 turns the search off'
            },
            {
                label: 'Relevance Threshold',
                name: 'relevanceThreshold',
                type: 'number',
                step: 0.05,
                optional: true,
                additionalParams: true,
                description: 'Minimum relevance (0-1) of a memory to be used; empty uses the service default (0.7)'
            },
            {
                label: 'Context Header',
                name: 'contextHeader',
                type: 'string',
                rows: 2,
                default: DEFAULT_CONTEXT_HEADER,
                optional: true,
                additionalParams: true,
                description: 'Text placed before the list of memories in the system message the model receives'
            },
            {
                label: 'Context Message Role',
                name: 'contextRole',
                type: 'options',
                options: [
                    { label: 'System', name: 'system', description: 'OpenAI and compatible models' },
                    { label: 'User', name: 'user', description: 'Models that accept a system message only in first place (Anthropic, Gemini)' },
                    { label: 'Assistant', name: 'assistant' }
                ],
                default: 'system',
                optional: true,
                additionalParams: true,
                description: 'Role of the message carrying the long-term memories'
            },
            {
                label: 'History Window',
                name: 'historyLimit',
                type: 'number',
                default: 20,
                optional: true,
                additionalParams: true,
                description: 'How many of the latest chat turns of the session are sent back to the model'
            },
            {
                label: 'Agent ID',
                name: 'agentId',
                type: 'string',
                optional: true,
                additionalParams: true,
                description: 'Stored with each chat turn, to tell apart several assistants of one user'
            },
            {
                label: 'Memory Key',
                name: 'memoryKey',
                type: 'string',
                default: 'chat_history',
                additionalParams: true
            }
        ]
    }

    async init(nodeData: INodeData, input: string, options: ICommonObject): Promise<Mem0ChatMemory> {
        const inputs = nodeData.inputs ?? {}
        const client = await clientFromNode(nodeData, options)
        const types = parseTypes(inputs.contextTypes)
        return new Mem0ChatMemory({
            client,
            userId: cleanInput(inputs.userId),
            sessionId: cleanInput(inputs.sessionId) || cleanInput(options.sessionId) || cleanInput(options.chatId),
            agentId: cleanInput(inputs.agentId),
            question: typeof input === 'string' ? input : '',
            contextTypes: inputs.contextTypes === undefined ? DEFAULT_CONTEXT_TYPES : types,
            contextLimit: parseNumber(inputs.contextLimit, 'Long-Term Memories Limit', 0, 100) ?? 5,
            relevanceThreshold: parseNumber(inputs.relevanceThreshold, 'Relevance Threshold', 0, 1),
            contextHeader: cleanInput(inputs.contextHeader) || DEFAULT_CONTEXT_HEADER,
            contextRole: parseRole(inputs.contextRole),
            historyLimit: parseNumber(inputs.historyLimit, 'History Window', 0, 1000) ?? 20,
            memoryKey: cleanInput(inputs.memoryKey) || 'chat_history'
        })
    }
}

type ContextRole = 'system' | 'user' | 'assistant'

function parseRole(value: unknown): ContextRole {
    const role = cleanInput(value)
    return role === 'user' || role === 'assistant' ? role : 'system'
}

interface Mem0ChatMemoryInput {
    client: Mem0Client
    /** Empty: the session id is used as user id. */
    userId: string
    sessionId: string
    agentId?: string
    /** The user's message of the current prediction, used as the long-term memory search query. */
    question?: string
    contextTypes: MemoryType[]
    contextLimit: number
    relevanceThreshold?: number
    contextHeader: string
    contextRole?: ContextRole
    historyLimit: number
    memoryKey?: string
}

class Mem0ChatMemory extends FlowiseMemory implements MemoryMethods {
    client: Mem0Client
    userId: string
    sessionId: string
    agentId?: string
    question: string
    contextTypes: MemoryType[]
    contextLimit: number
    relevanceThreshold?: number
    contextHeader: string
    contextRole: ContextRole
    historyLimit: number

    constructor(fields: Mem0ChatMemoryInput) {
        super({ memoryKey: fields.memoryKey ?? 'chat_history', returnMessages: true })
        this.client = fields.client
        this.userId = fields.userId
        this.sessionId = fields.sessionId
        this.agentId = fields.agentId
        this.question = fields.question ?? ''
        this.contextTypes = fields.contextTypes
        this.contextLimit = fields.contextLimit
        this.relevanceThreshold = fields.relevanceThreshold
        this.contextHeader = fields.contextHeader
        this.contextRole = fields.contextRole ?? 'system'
        this.historyLimit = fields.historyLimit
    }

    userIdFor(sessionId: string): string {
        if (this.userId) {
            rememberSessionUser(sessionId, this.userId)
            return this.userId
        }
        return sessionUsers.get(sessionId) ?? resolveUserId('', sessionId)
    }

    /** The session's latest chat turns, oldest first: its message log, after turns stored by earlier versions. */
    async getChatTurns(sessionId: string): Promise<ChatTurn[]> {
        if (this.historyLimit <= 0) return []
        const userId = this.userIdFor(sessionId)
        const log = await this.client.readMessages(sessionId, userId, this.historyLimit, this.agentId)
        const logged = logToChatTurns(log.messages)
        if (logged.length >= this.historyLimit) return logged
        // Earlier versions stored each turn as an interaction memory of the session.
        const page = await this.client.listUserMemories(userId, {
            session_id: sessionId,
            type: 'interaction',
            limit: this.historyLimit,
            order: 'desc'
        })
        const earlier = memoriesToChatTurns(page.memories.filter((m) => m.metadata && m.metadata.source === CHAT_SOURCE))
        return [...earlier, ...logged].slice(-this.historyLimit)
    }

    /** The user's long-term memories relevant to the current question, as one block of text ('' when none). */
    async getContext(sessionId: string): Promise<string> {
        if (this.contextLimit <= 0) return ''
        const result = await this.client.search({
            user_id: this.userIdFor(sessionId),
            query: this.question || undefined,
            // Room for this session's own turns, which are dropped below (the service allows up to 100).
            limit: Math.min(this.contextLimit + this.historyLimit, 100),
            relevance_threshold: this.relevanceThreshold,
            types: this.contextTypes
        })
        const ownTurns = (m: { type: string; session_id: string | null }) => m.type === 'interaction' && m.session_id === sessionId
        const memories = result.memories.filter((m) => !ownTurns(m)).slice(0, this.contextLimit)
        return formatContext(memories, this.contextHeader, sessionId)
    }

    async getChatMessages(
        overrideSessionId = '',
        returnBaseMessages = false,
        prependMessages?: IMessage[]
    ): Promise<IMessage[] | BaseMessage[]> {
        const sessionId = overrideSessionId || this.sessionId
        if (!sessionId && !this.userId) return []
        // History and long-term search are independent requests: run them side by side.
        const [turns, context] = await Promise.all([
            this.getChatTurns(sessionId),
            returnBaseMessages ? this.getContext(sessionId) : Promise.resolve('')
        ])
        const prepended: ChatTurn[] = (prependMessages ?? []).map((m) => ({ role: roleOf(m.type ?? m.role), text: m.message ?? m.content ?? '' }))
        const history = [...prepended, ...turns]
        if (!returnBaseMessages) {
            return history.map((t) => ({ message: t.text, type: (t.role === 'user' ? 'userMessage' : 'apiMessage') as MessageType }))
        }
        const messages: BaseMessage[] = []
        if (context) {
            const ContextMessage = { system: SystemMessage, user: HumanMessage, assistant: AIMessage }[this.contextRole]
            messages.push(new ContextMessage(context))
        }
        for (const turn of history) messages.push(turn.role === 'user' ? new HumanMessage(turn.text) : new AIMessage(turn.text))
        return messages
    }

    async addChatMessages(msgArray: { text: string; type: MessageType }[], overrideSessionId = ''): Promise<void> {
        const sessionId = overrideSessionId || this.sessionId
        const turns: ChatTurn[] = msgArray
            .filter((msg) => msg && typeof msg.text === 'string' && msg.text.trim())
            .map((msg) => ({ role: roleOf(msg.type), text: msg.text }))
        if (!turns.length) return
        // A lost turn would silently corrupt the conversation, so the prediction fails instead.
        try {
            await this.client.appendMessages(sessionId, this.userIdFor(sessionId), turns.map(chatTurnToLogMessage), this.agentId)
        } catch (error) {
            const reason = error instanceof Error ? error.message : String(error)
            throw new Error(`Mem0 Memory could not save the messages of session "${sessionId}": ${reason}`)
        }
    }

    async clearChatMessages(overrideSessionId = ''): Promise<void> {
        const sessionId = overrideSessionId || this.sessionId
        const userId = this.userIdFor(sessionId)
        await this.client.clearMessages(sessionId, userId, this.agentId)
        await this.client.deleteSessionMemories(userId, sessionId)
        await this.clear()
    }

    /** LangChain memory API, for chains that read memory variables instead of calling getChatMessages. */
    async loadMemoryVariables(_values: ICommonObject): Promise<ICommonObject> {
        const messages = (await this.getChatMessages(this.sessionId, true)) as BaseMessage[]
        return { [this.memoryKey]: this.returnMessages ? messages : getBufferString(messages) }
    }

    async saveContext(inputValues: ICommonObject, outputValues: ICommonObject): Promise<void> {
        const input = inputValues[this.inputKey ?? 'input'] ?? Object.values(inputValues)[0]
        const output = outputValues[this.outputKey ?? 'output'] ?? outputValues.text ?? outputValues.response ?? Object.values(outputValues)[0]
        await this.addChatMessages(
            [
                { text: String(input ?? ''), type: 'userMessage' },
                { text: String(output ?? ''), type: 'apiMessage' }
            ],
            this.sessionId
        )
    }
}

module.exports = { nodeClass: Mem0Memory_Memory, Mem0ChatMemory }
