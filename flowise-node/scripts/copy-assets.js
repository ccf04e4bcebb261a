// Puts the icon beside every compiled component: Flowise resolves `icon` relative to the component's folder.
const fs = require('fs')
const path = require('path')

const root = path.join(__dirname, '..')
const icon = path.join(root, 'assets', 'mem0.svg')
const nodesDir = path.join(root, 'build', 'nodes')

for (const category of fs.readdirSync(nodesDir)) {
    for (const component of fs.readdirSync(path.join(nodesDir, category))) {
        fs.copyFileSync(icon, path.join(nodesDir, category, component, 'mem0.svg'))
    }
}
