// Copies the icons next to the compiled components, as Flowise's own build does: a component's `icon`
// is a file name in its own folder.
const fs = require('fs')
const path = require('path')

const root = path.join(__dirname, '..')

function copyIcons(rel) {
    for (const entry of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
        const child = path.join(rel, entry.name)
        if (entry.isDirectory()) copyIcons(child)
        else if (/\.(svg|png|jpg)$/.test(entry.name)) {
            fs.mkdirSync(path.join(root, 'build', rel), { recursive: true })
            fs.copyFileSync(path.join(root, child), path.join(root, 'build', child))
        }
    }
}

copyIcons('nodes')
