// Test stand-in for zod: records the schema shape, every builder method chains.
function schema(kind, extra = {}) {
    const s = { kind, ...extra, optionalFlag: false }
    s.describe = (text) => Object.assign(s, { description: text })
    s.optional = () => Object.assign(s, { optionalFlag: true })
    return s
}
const z = {
    object: (shape) => schema('object', { shape }),
    string: () => schema('string'),
    enum: (values) => schema('enum', { values })
}
module.exports = { z }
