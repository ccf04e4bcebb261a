import { ICommonObject, INode, INodeData, INodeOutputsValue, INodeParams } from '../../../src/Interface'
import { handleEscapeCharacters } from '../../../src/utils'
import { DynamicStructuredTool } from '@langchain/core/tools'
import { z } from 'zod/v3'
import { Mem0Client, MemoryType } from '../../../src/mem0Service/client'
import { clientFromNode, MEM0_CREDENTIAL } from '../../../src/mem0Service/credentials'
import { cleanInput, formatMemoriesText, formatToolResult, parseNumber, parseTypes, resolveUserId } from '../../../src/mem0Service/mapping'
import { MEMORY_TYPE_OPTIONS } from '../../../src/mem0Service/options'

const DEFAULT_NAME = 'mem0_search'
const DEFAULT_DESCRIPTION =
    'Search the long-term memory about the current user (facts, preferences, past conversations). ' +
    'Input: a short search query in natural language. Returns the matching memories as JSON.'

interface SearchSettings {
    client: Mem0Client
    userId: string
    limit?: number
    relevanceThreshold?: number
    rewriteQuery?: boolean
    types: MemoryType[]
}

async function searchMemories(settings: SearchSettings, query: string) {
    const result = await settings.client.search({
        user_id: settings.userId,
        query: query || undefined,
        limit: settings.limit,
        relevance_threshold: settings.relevanceThreshold,
        rewrite_query: settings.rewriteQuery,
        types: settings.types
    })
    return result.memories
}

class Mem0Search_Tools implements INode {
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
    outputs: INodeOutputsValue[]

    constructor() {
        this.label = 'Mem0 Search'
        this.name = 'mem0Search'
        this.version = 1.0
        this.type = 'Mem0Search'
        this.icon = 'mem0.svg'
        this.category = 'Tools'
        this.description = 'Lets an agent look up what your Mem0 service remembers about the user, or feeds those memories into a prompt'
        this.baseClasses = [this.type, 'Tool', 'StructuredTool']
        this.credential = { ...MEM0_CREDENTIAL }
        this.inputs = [
            {
                label: 'User ID',
                name: 'userId',
                type: 'string',
                default: '',
                optional: true,
                acceptVariable: true,
                description: 'Whose memories to search; overrideConfig.userId or {{$flow.userId}} work too. Empty: the chat session id.'
            },
            {
                label: 'Memory Types',
                name: 'types',
                type: 'multiOptions',
                options: MEMORY_TYPE_OPTIONS,
                optional: true,
                description: 'Only these kinds of memories; none selected: all kinds'
            },
            {
                label: 'Limit',
                name: 'limit',
                type: 'number',
                default: 5,
                optional: true,
                additionalParams: true
            },
            {
                label: 'Relevance Threshold',
                name: 'relevanceThreshold',
                type: 'number',
                step: 0.05,
                optional: true,
                additionalParams: true,
                description: 'Minimum relevance (0-1); empty uses the service default (0.7)'
            },
            {
                label: 'Rewrite Query',
                name: 'rewriteQuery',
                type: 'boolean',
                optional: true,
                additionalParams: true,
                description:
                    "On: the service's chat model also writes alternatives of the query (its translation, the specific words an " +
                    "answer would use) that are matched too. Off: the service's default (MEM0_QUERY_REWRITE)."
            },
            {
                label: 'Tool Name',
                name: 'toolName',
                type: 'string',
                default: DEFAULT_NAME,
                optional: true,
                additionalParams: true
            },
            {
                label: 'Tool Description',
                name: 'toolDescription',
                type: 'string',
                rows: 3,
                default: DEFAULT_DESCRIPTION,
                optional: true,
                additionalParams: true,
                description: 'Tells the agent when to use the tool'
            },
            {
                label: 'Search Query',
                name: 'query',
                type: 'string',
                optional: true,
                acceptVariable: true,
                additionalParams: true,
                description: 'For the "Memories Text" output: the query to search with. Empty: the user\'s message.'
            },
            {
                label: 'Text When Nothing Found',
                name: 'emptyText',
                type: 'string',
                default: 'Nothing is known about the user yet.',
                optional: true,
                additionalParams: true,
                description: 'For the "Memories Text" output'
            }
        ]
        this.outputs = [
            { label: 'Tool', name: 'tool', baseClasses: [this.type, 'Tool', 'StructuredTool'] },
            {
                label: 'Memories Text',
                name: 'text',
                baseClasses: ['string', 'json'],
                description: 'The memories as lines of text, e.g. for a Prompt Template variable'
            }
        ]
    }

    async init(nodeData: INodeData, input: string, options: ICommonObject): Promise<any> {
        const inputs = nodeData.inputs ?? {}
        const sessionId = cleanInput(options.sessionId) || cleanInput(options.chatId)
        const settings: SearchSettings = {
            client: await clientFromNode(nodeData, options),
            userId: resolveUserId(inputs.userId, sessionId),
            limit: parseNumber(inputs.limit, 'Limit', 1, 100),
            relevanceThreshold: parseNumber(inputs.relevanceThreshold, 'Relevance Threshold', 0, 1),
            // Only "on" is sent: off leaves the choice to the service's default.
            rewriteQuery: inputs.rewriteQuery === true || inputs.rewriteQuery === 'true' ? true : undefined,
            types: parseTypes(inputs.types)
        }

        if (nodeData.outputs?.output === 'text') {
            const query = cleanInput(inputs.query) || (typeof input === 'string' ? input : '')
            const memories = await searchMemories(settings, query)
            const text = formatMemoriesText(memories, cleanInput(inputs.emptyText) || 'Nothing is known about the user yet.')
            // Encoded like Flowise's own text outputs, so it can be placed into a Prompt Template's values (JSON).
            return handleEscapeCharacters(text, false)
        }

        return new DynamicStructuredTool({
            name: cleanInput(inputs.toolName) || DEFAULT_NAME,
            description: cleanInput(inputs.toolDescription) || DEFAULT_DESCRIPTION,
            schema: z.object({
                query: z.string().describe('What to look for, e.g. "favourite food" or "where the user lives"')
            }),
            func: async ({ query }: { query: string }) => formatToolResult(await searchMemories(settings, query))
        })
    }
}

module.exports = { nodeClass: Mem0Search_Tools }
