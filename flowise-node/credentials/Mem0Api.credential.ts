import { INodeCredential, INodeParams } from '../src/Interface'


class Mem0Api implements INodeCredential {
    label: string
    name: string
    version: number
    description: string
    inputs: INodeParams[]

    constructor() {
        this.label = 'Mem0 API'
        this.name = 'mem0Api'
        this.version = 1.0
        this.description =
            'Base URL and API key of your self-hosted Mem0 memory service (MEM0_API_KEY in its .env, or a key it issued)'
        this.inputs = [
            {
                label: 'Base URL',
                name: 'baseUrl',
                type: 'string',
                placeholder: 'https://mem0.yourdomain.com',
                description: 'Address of the service without /api, e.g. http://mem0:3456 inside a Docker network'
            },
            {
                label: 'API Key',
                name: 'apiKey',
                type: 'password',
                description: 'Sent as "Authorization: Bearer <key>"'
            }
        ]
    }
}

module.exports = { credClass: Mem0Api }
