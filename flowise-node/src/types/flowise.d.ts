/*
 * The parts of Flowise's runtime modules the components use. At run time these modules are resolved from the
 * Flowise installation the components are copied into, so the package does not depend on them for building.
 */

declare module 'flowise-components' {
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
    export abstract class FlowiseMemory implements MemoryMethods {
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

    export function getBaseClasses(targetClass: any): string[]
    /** reverse=false: encodes newlines, quotes... so the text can sit inside another node's JSON input. */
    export function handleEscapeCharacters(input: any, reverse: boolean): any
    export function getCredentialData(selectedCredentialId: string, options: ICommonObject): Promise<ICommonObject>
    export function getCredentialParam(paramName: string, credentialData: ICommonObject, nodeData: INodeData, defaultValue?: any): any
}

declare module '@langchain/core/messages' {
    export class BaseMessage {
        content: any
        _getType(): string
    }
    export class HumanMessage extends BaseMessage {
        constructor(content: string)
    }
    export class AIMessage extends BaseMessage {
        constructor(content: string)
    }
    export class SystemMessage extends BaseMessage {
        constructor(content: string)
    }
    export function getBufferString(messages: BaseMessage[], humanPrefix?: string, aiPrefix?: string): string
}

declare module '@langchain/core/tools' {
    export class DynamicStructuredTool {
        constructor(fields: { name: string; description: string; schema: any; func: (input: any, runManager?: any, config?: any) => Promise<string> })
        name: string
        description: string
        invoke(input: any, config?: any): Promise<any>
    }
}

declare module 'zod/v3' {
    export const z: any
}
