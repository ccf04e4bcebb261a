/*
 * The parts of LangChain and zod the components use. At run time these modules are resolved from the Flowise
 * installation the components are copied into, so the package does not depend on them for building.
 */

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
