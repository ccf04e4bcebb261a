// Copies the icons and codex files that tsc does not emit next to the compiled nodes.
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
for (const dir of ['nodes', 'credentials']) {
  const walk = (rel) => {
    for (const entry of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const child = path.join(rel, entry.name);
      if (entry.isDirectory()) walk(child);
      else if (/\.(svg|png|json)$/.test(entry.name)) {
        fs.mkdirSync(path.join(root, 'dist', rel), { recursive: true });
        fs.copyFileSync(path.join(root, child), path.join(root, 'dist', child));
      }
    }
  };
  walk(dir);
}
