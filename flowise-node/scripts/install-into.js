#!/usr/bin/env node
// Copies the built components into an installed Flowise, or takes them out again. Flowise has no plugin
// loader: it loads every component found under flowise-components/dist, so the components go where Flowise's
// own ones are, in the same layout (nodes/<category>/<Name>/, credentials/, src/).
//   npm run install-into -- <flowise dir>           (builds first)
//   node scripts/install-into.js <flowise dir>      (copies an existing build)
//   node scripts/install-into.js --uninstall <flowise dir>
// <flowise dir> may be: a folder where `npm install flowise` was run, a global install
// ($(npm root -g)/flowise), the flowise-components package itself, a Flowise source checkout, or
// `auto` to look in the usual places (global npm install, the Docker image's source tree).
//
// What was copied is listed in dist/mem0-components.json. Installing again first removes what that list
// names, so a second install leaves exactly what one does (also when a file was renamed or dropped since);
// --uninstall removes the listed files and the folders the install created, and nothing else. A file of
// Flowise's own is never overwritten.
const { execSync } = require('child_process')
const fs = require('fs')
const path = require('path')

const root = path.join(__dirname, '..')
const build = path.join(root, 'build')
const MANIFEST = 'mem0-components.json'
// What goes into Flowise, relative to build/ and to flowise-components/dist alike.
const PARTS = ['nodes/memory/Mem0Memory', 'nodes/tools/Mem0Search', 'nodes/tools/Mem0Save', 'credentials/Mem0Api.credential.js', 'src/mem0Service']
// Where releases before the list existed put the components (the client then sat in dist/mem0client).
const LEGACY_PARTS = ['nodes/memory/Mem0Memory', 'nodes/tools/Mem0Search', 'nodes/tools/Mem0Save', 'credentials/Mem0Api.credential.js', 'mem0client']

class InstallError extends Error {}

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

/** Every file under `base` that belongs to `parts`, as paths relative to `base` with forward slashes. */
function filesOf(base, parts) {
    const files = []
    const walk = (rel) => {
        const abs = path.join(base, rel)
        if (fs.statSync(abs).isDirectory()) for (const entry of fs.readdirSync(abs).sort()) walk(`${rel}/${entry}`)
        else files.push(rel)
    }
    for (const part of parts) if (fs.existsSync(path.join(base, part))) walk(part)
    return files
}

function builtFiles() {
    for (const part of PARTS) {
        if (!fs.existsSync(path.join(build, part))) throw new InstallError(`build/${part} is missing: run \`npm run build\` first`)
    }
    return filesOf(build, PARTS)
}

/** The files an earlier release installed without a list; recognised by its client folder. */
function legacyInstall(dist) {
    if (!fs.existsSync(path.join(dist, 'mem0client', 'client.js'))) return null
    const files = filesOf(dist, LEGACY_PARTS)
    const folders = new Set()
    for (const rel of files) {
        for (let dir = path.posix.dirname(rel); dir !== '.' && !['nodes/memory', 'nodes/tools', 'nodes', 'credentials'].includes(dir); dir = path.posix.dirname(dir)) {
            folders.add(dir)
        }
    }
    return { files, folders: [...folders].sort() }
}

/** The folders a file needs that do not exist yet in dist, deepest last (so removal goes in reverse). */
function missingFolders(dist, file, known) {
    const created = []
    let dir = path.posix.dirname(file)
    while (dir !== '.' && !fs.existsSync(path.join(dist, dir)) && !known.has(dir)) {
        created.unshift(dir)
        dir = path.posix.dirname(dir)
    }
    return created
}

function readManifest(dist) {
    const file = path.join(dist, MANIFEST)
    if (!fs.existsSync(file)) return null
    const manifest = JSON.parse(fs.readFileSync(file, 'utf8'))
    if (!Array.isArray(manifest.files) || !Array.isArray(manifest.folders) || !manifest.files.every((f) => typeof f === 'string')) {
        throw new InstallError(`${file} is not a list written by this script; remove it by hand`)
    }
    return manifest
}

/** Removes what an install listed: its files and the folders it created, once they are empty. */
function removeInstalled(dist, manifest) {
    let removed = 0
    for (const rel of manifest.files) {
        const abs = path.join(dist, rel)
        if (!fs.existsSync(abs)) continue
        fs.rmSync(abs)
        removed += 1
    }
    // deepest first, so a folder's subfolders are gone before it is checked
    for (const rel of [...manifest.folders].sort((a, b) => b.length - a.length)) {
        const abs = path.join(dist, rel)
        if (fs.existsSync(abs) && fs.readdirSync(abs).length === 0) fs.rmdirSync(abs)
    }
    return removed
}

/** What this script (or an earlier release of it) put into dist. */
function installedParts(dist) {
    const listed = readManifest(dist)
    const legacy = legacyInstall(dist)
    if (!listed && !legacy) return null
    return {
        files: [...(listed?.files ?? []), ...(legacy?.files ?? [])],
        folders: [...new Set([...(listed?.folders ?? []), ...(legacy?.folders ?? [])])]
    }
}

function install(dist) {
    const files = builtFiles()
    const previous = installedParts(dist)
    const ours = new Set(previous?.files ?? [])
    const clashes = files.filter((rel) => fs.existsSync(path.join(dist, rel)) && !ours.has(rel))
    if (clashes.length) {
        throw new InstallError(`these files already exist in ${dist} and were not installed by this script:\n  ${clashes.join('\n  ')}`)
    }
    // Folders created by the previous install count as created by this one once it is undone.
    const folders = new Set(previous?.folders ?? [])
    if (previous) {
        removeInstalled(dist, previous)
        fs.rmSync(path.join(dist, MANIFEST), { force: true })
    }
    const created = []
    const written = []
    for (const rel of files) {
        for (const folder of missingFolders(dist, rel, new Set(created))) {
            created.push(folder)
            folders.add(folder)
        }
        fs.mkdirSync(path.dirname(path.join(dist, rel)), { recursive: true })
        fs.copyFileSync(path.join(build, rel), path.join(dist, rel))
        written.push(rel)
    }
    const version = require(path.join(root, 'package.json')).version
    const manifest = { package: 'flowise-mem0-components', version, files: written, folders: [...folders].sort() }
    fs.writeFileSync(path.join(dist, MANIFEST), JSON.stringify(manifest, null, 2) + '\n')
    console.log(`${previous ? 'reinstalled' : 'installed'} ${written.length} files into ${dist}`)
    for (const rel of written.filter((f) => f.endsWith('.js') && !f.startsWith('src/'))) console.log(`  ${rel}`)
    console.log('restart Flowise to load them')
}

function uninstall(dist) {
    const installed = installedParts(dist)
    if (!installed) {
        console.log(`nothing to remove: the components are not installed in ${dist}`)
        return
    }
    const removed = removeInstalled(dist, installed)
    fs.rmSync(path.join(dist, MANIFEST), { force: true })
    console.log(`removed ${removed} files from ${dist}`)
    console.log('restart Flowise to unload them')
}

function main() {
    const args = process.argv.slice(2)
    const removing = args[0] === '--uninstall'
    const target = (removing ? args[1] : args[0]) || process.env.FLOWISE_DIR
    if (!target) {
        console.error('usage: npm run install-into -- <flowise dir>\n       npm run uninstall-from -- <flowise dir>')
        process.exit(2)
    }
    // npm runs scripts from the package folder; INIT_CWD is where the user typed the command.
    const dirs = target === 'auto' ? autoDirs() : [path.resolve(process.env.INIT_CWD || process.cwd(), target)]
    const dist = dirs.map(findComponentsDist).find(Boolean)
    if (!dist) {
        console.error(`no flowise-components/dist found under ${dirs.join(', ')}`)
        process.exit(1)
    }
    try {
        if (removing) uninstall(dist)
        else install(dist)
    } catch (error) {
        if (!(error instanceof InstallError)) throw error
        console.error(error.message)
        process.exit(1)
    }
}

main()
