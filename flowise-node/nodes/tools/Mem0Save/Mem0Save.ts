import { ICommonObject, INode, INodeData, INodeParams } from '../../../src/Interface'
import { DynamicStructuredTool } from '@langchain/core/tools'
import { z } from 'zod/v3'
import { MEMORY_TYPES, MemoryType } from '../../../src/mem0Service/client'
import { clientFromNode, MEM0_CREDENTIAL } from '../../../src/mem0Service/credentials'
import { cleanInput, resolveUserId } from '../../../src/mem0Service/mapping'
import { MEMORY_TYPE_OPTIONS } from '../../../src/mem0Service/options'

const DEFAULT_NAME = 'mem0_save'
const DEFAULT_DESCRIPTION =
    'Store something worth remembering about the current user for future conversations ' +
    '(a fact, a preference, a recurring pattern). Input: one short self-contained sentence.'

class Mem0Save_Tools implements INode {
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
        this.label = 'Mem0 Save'
        this.name = 'mem0Save'
        this.version = 1.0
        this.type = 'Mem0Save'
        this.icon = 'mem0.svg'
        this.category = 'Tools'
        this.description = 'Lets an agent store a new memory about the user in your Mem0 service'
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
                description: 'Whose memory it is; overrideConfig.userId or {{$flow.userId}} work too. Empty: the chat session id.'
            },
            {
                label: 'Default Type',
                name: 'defaultType',
                type: 'options',
                options: MEMORY_TYPE_OPTIONS,
                default: 'fact',
                description: 'Used when the agent does not choose a type'
            },
            {
                label: 'Agent ID',
                name: 'agentId',
                type: 'string',
                optional: true,
                additionalParams: true
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
            }
        ]
    }

    async init(nodeData: INodeData, _input: string, options: ICommonObject): Promise<any> {
        const inputs = nodeData.inputs ?? {}
        const sessionId = cleanInput(options.sessionId) || cleanInput(options.chatId)
        const client = await clientFromNode(nodeData, options)
        const userId = resolveUserId(inputs.userId, sessionId)
        const agentId = cleanInput(inputs.agentId) || undefined
        const chosen = cleanInput(inputs.defaultType) as MemoryType
        const defaultType: MemoryType = MEMORY_TYPES.includes(chosen) ? chosen : 'fact'

        return new DynamicStructuredTool({
            name: cleanInput(inputs.toolName) || DEFAULT_NAME,
            description: cleanInput(inputs.toolDescription) || DEFAULT_DESCRIPTION,
            schema: z.object({
                content: z.string().describe('The memory, e.g. "The user is vegetarian"'),
                type: z
                    .enum(['fact', 'preference', 'pattern', 'interaction', 'metadata'])
                    .optional()
                    .describe('Kind of memory; preference for likes and wishes, fact otherwise')
            }),
            func: async ({ content, type }: { content: string; type?: MemoryType }) => {
                // Failures are thrown, not returned as text, so a lost memory never looks like a saved one.
                const memory = await client.createMemory({
                    user_id: userId,
                    content,
                    type: type ?? defaultType,
                    agent_id: agentId,
                    metadata: { source: 'flowise-agent', session_id: sessionId || undefined }
                })
                return `Saved ${memory.type} memory ${memory.id}: ${memory.content}`
            }
        })
    }
}

module.exports = { nodeClass: Mem0Save_Tools }
