// Test stand-in for @langchain/core/tools: keeps the fields and calls func on invoke.
class DynamicStructuredTool {
    constructor(fields) {
        Object.assign(this, fields)
    }
    async invoke(input) {
        return this.func(input)
    }
}
module.exports = { DynamicStructuredTool }
