"""The memories over the Model Context Protocol: the same service, keys and scopes as the HTTP API.

`tools` holds what a model sees and calls, `caller` who is calling and for which user, `server` the protocol
server built on the official `mcp` SDK, `http` its Streamable HTTP endpoint at /mcp and `stdio` the
`mem0-service mcp` command for clients that launch a process."""
