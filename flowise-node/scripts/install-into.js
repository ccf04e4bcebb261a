#!/usr/bin/env node
// Copies the built components into an installed Flowise (Flowise has no plugin loader: it loads every
// component found under flowise-components/dist). Usage:
//   npm run install-into -- <flowise dir>      (builds first)
//   node scripts/install-into.js <flowise dir> (copies an existing build)
// <flowise dir> may be: a folder where `npm install flowise` was run, a global install
// ($(npm root -g)/flowise), the flowise-components package itself, a Flowise source checkout, or
// `auto` to look in the usual places (global npm install, the Docker image's source tree).
const { execSync } = require('child_process')
const fs = require('fs')
const path = require('path')

const root = path.join(__dirname, '..')
const build = path.join(root, 'build')

function findComponentsDist(dir) {
    const candidates = [
        path.join(dir, 'node_modules', 'flowise-components', 'dist'),
        path.join(dir, 'node_modules', 'flowise', 'node_modules', 'flowise-components', 'dist'),
        path.join(dir, 'packages', 'components', 'dist'),
        path.join(dir, 'components', 'dist'),
        path.join(dir, 'dist')
    ]
    return candidates.find((c) => fs.existsSync(path.join(c, 'nodes')) && fs.existsSync(path.join(c, 'credentials')))
}

function autoDirs() {
    const dirs = [process.cwd(), '/usr/src', '/usr/src/flowise', '/usr/src/packages', '/usr/local/lib/node_modules/flowise']
    try {
        dirs.push(path.join(execSync('npm root -g', { encoding: 'utf8' }).trim(), 'flowise'))
    } catch {
        // npm missing: the fixed places above are all there is
    }
    return dirs
}

function copyTree(from, to, written) {
    fs.mkdirSync(to, { recursive: true })
    for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
        const src = path.join(from, entry.name)
        const dst = path.join(to, entry.name)
        if (entry.isDirectory()) copyTree(src, dst, written)
        else {
            fs.copyFileSync(src, dst)
            written.push(dst)
        }
    }
}

function main() {
    const target = process.argv[2] || process.env.FLOWISE_DIR
    if (!target) {
        console.error('usage: npm run install-into -- <flowise dir>')
        process.exit(2)
    }
    if (!fs.existsSync(path.join(build, 'nodes'))) {
        console.error('no build found: run `npm run build` first (or use `npm run install-into`)')
        process.exit(1)
    }
    // npm runs scripts from the package folder; INIT_CWD is where the user typed the command.
    const dirs = target === 'auto' ? autoDirs() : [path.resolve(process.env.INIT_CWD || process.cwd(), target)]
    const dist = dirs.map(findComponentsDist).find(Boolean)
    if (!dist) {
        console.error(`no flowise-components/dist found under ${dirs.join(', ')}`)
        process.exit(1)
    }
    const written = []
    // Component folders go where Flowise's own ones live; the shared client sits next to them
    // under a name no Flowise module uses.
    copyTree(path.join(build, 'nodes'), path.join(dist, 'nodes'), written)
    copyTree(path.join(build, 'credentials'), path.join(dist, 'credentials'), written)
    copyTree(path.join(build, 'mem0client'), path.join(dist, 'mem0client'), written)
    console.log(`installed ${written.length} files into ${dist}`)
    for (const file of written.filter((f) => f.endsWith('.js') && !f.includes(`${path.sep}mem0client${path.sep}`))) {
        console.log(`  ${path.relative(dist, file)}`)
    }
    console.log('restart Flowise to load them')
}

main()
