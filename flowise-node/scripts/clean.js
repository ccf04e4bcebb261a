// Removes the previous build so renamed or deleted sources never linger in build/.
const fs = require('fs')
const path = require('path')

fs.rmSync(path.join(__dirname, '..', 'build'), { recursive: true, force: true })
