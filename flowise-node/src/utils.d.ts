/*
 * Type declarations of the parts of Flowise's packages/components/src/utils.ts the components use (see Interface.d.ts).
 */
import type { ICommonObject, INodeData } from './Interface'

export declare function getBaseClasses(targetClass: any): string[]
/** reverse=false: encodes newlines, quotes... so the text can sit inside another node's JSON input. */
export declare function handleEscapeCharacters(input: any, reverse: boolean): any
export declare function getCredentialData(selectedCredentialId: string, options: ICommonObject): Promise<ICommonObject>
export declare function getCredentialParam(paramName: string, credentialData: ICommonObject, nodeData: INodeData, defaultValue?: any): any
