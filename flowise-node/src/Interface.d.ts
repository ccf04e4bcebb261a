/*
 * Type declarations of the parts of Flowise's packages/components/src/Interface.ts the components use.
 * The components import them as Flowise's own components do ('../../../src/Interface'); once copied into
 * Flowise, that path is Flowise's real module. Nothing is emitted for this file.
 */

export interface ICommonObject {
    [key: string]: any
}

export type MessageType = 'apiMessage' | 'userMessage'

export interface IMessage {
    message: string
    type: MessageType
    role?: MessageType
    content?: string
}

export interface INodeOptionsValue {
    label: string
    name: string
    description?: string
}

export interface INodeOutputsValue {
    label: string
    name: string
    baseClasses: string[]
    description?: string
    isAnchor?: boolean
}

export interface INodeParams {
    label: string
    name: string
    type: string
    default?: any
    description?: string
    placeholder?: string
    warning?: string
    options?: INodeOptionsValue[]
    credentialNames?: string[]
    optional?: boolean
    additionalParams?: boolean
    acceptVariable?: boolean
    list?: boolean
    rows?: number
    step?: number
}

export interface INodeData {
    id: string
    label: string
    name: string
    type: string
    inputs?: ICommonObject
    outputs?: ICommonObject
    credential?: string
    instance?: any
}

export interface INode {
    label: string
    name: string
    version: number
    type: string
    icon: string
    category: string
    baseClasses: string[]
    description?: string
    credential?: INodeParams
    inputs?: INodeParams[]
    outputs?: INodeOutputsValue[]
    init?(nodeData: INodeData, input: string, options?: ICommonObject): Promise<any>
}

export interface INodeCredential {
    label: string
    name: string
    version: number
    description?: string
    inputs?: INodeParams[]
}

export interface MemoryMethods {
    getChatMessages(overrideSessionId?: string, returnBaseMessages?: boolean, prependMessages?: IMessage[]): Promise<any[]>
    addChatMessages(msgArray: { text: string; type: MessageType }[], overrideSessionId?: string): Promise<void>
    clearChatMessages(overrideSessionId?: string): Promise<void>
}

/** Flowise's memory base: a LangChain BufferMemory whose history lives wherever the subclass keeps it. */
export declare abstract class FlowiseMemory implements MemoryMethods {
    constructor(fields?: { memoryKey?: string; inputKey?: string; outputKey?: string; returnMessages?: boolean; [key: string]: any })
    memoryKey: string
    inputKey?: string
    outputKey?: string
    returnMessages: boolean
    get memoryKeys(): string[]
    clear(): Promise<void>
    abstract getChatMessages(overrideSessionId?: string, returnBaseMessages?: boolean, prependMessages?: IMessage[]): Promise<any[]>
    abstract addChatMessages(msgArray: { text: string; type: MessageType }[], overrideSessionId?: string): Promise<void>
    abstract clearChatMessages(overrideSessionId?: string): Promise<void>
}
