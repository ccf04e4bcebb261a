/** Reads the "Mem0 API" credential of a node inside Flowise and builds the service client from it. */

import { ICommonObject, INodeData, INodeParams } from '../Interface'
import { getCredentialData, getCredentialParam } from '../utils'

import { Mem0Client } from './client'

/** The credential input every Mem0 component declares. */
export const MEM0_CREDENTIAL: INodeParams = {
    label: 'Connect Credential',
    name: 'credential',
    type: 'credential',
    credentialNames: ['mem0Api']
}

export async function clientFromNode(nodeData: INodeData, options: ICommonObject): Promise<Mem0Client> {
    const credentialData = await getCredentialData(nodeData.credential ?? '', options)
    const baseUrl = getCredentialParam('baseUrl', credentialData, nodeData)
    const apiKey = getCredentialParam('apiKey', credentialData, nodeData)
    if (!baseUrl || !apiKey) {
        throw new Error(`${nodeData.label || 'Mem0'}: connect a "Mem0 API" credential with a Base URL and an API Key`)
    }
    return new Mem0Client({ baseUrl, apiKey })
}
