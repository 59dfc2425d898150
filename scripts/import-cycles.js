#!/usr/bin/env node
// Fails when the TypeScript sources import each other in a circle. Type-only imports count:
// a circle of types is still two modules that cannot be read, moved or tested apart.
// Uses the TypeScript compiler's own import scanner (no extra dependency): every static
// import, `import type`, `export … from` and dynamic `import()` with a relative path.
const fs = require('node:fs');
const path = require('node:path');
const ts = require('typescript');

const root = path.resolve(__dirname, '..');
const folders = process.argv.slice(2).length
  ? process.argv.slice(2)
  : ['api', 'src', 'activities', 'workflows', 'bench'];

function sources(dir) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sources(full));
    else if (/\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(full);
  }
  return out;
}

function resolve(from, spec) {
  if (!spec.startsWith('.')) return null;
  const base = path.resolve(path.dirname(from), spec);
  for (const candidate of [base, `${base}.ts`, `${base}.tsx`, path.join(base, 'index.ts')]) {
    if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return candidate;
  }
  return null;
}

const files = folders.flatMap((f) => (fs.existsSync(path.join(root, f)) ? sources(path.join(root, f)) : []));
const edges = new Map();
for (const file of files) {
  const info = ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, true);
  edges.set(
    file,
    info.importedFiles.map((i) => resolve(file, i.fileName)).filter((t) => t && t !== file),
  );
}

// Tarjan's strongly connected components: every component of more than one file is a circle.
let index = 0;
const stack = [];
const state = new Map();
const circles = [];
function visit(v) {
  state.set(v, { index, low: index, onStack: true });
  index++;
  stack.push(v);
  for (const w of edges.get(v) ?? []) {
    if (!edges.has(w)) continue;
    if (!state.has(w)) {
      visit(w);
      state.get(v).low = Math.min(state.get(v).low, state.get(w).low);
    } else if (state.get(w).onStack) {
      state.get(v).low = Math.min(state.get(v).low, state.get(w).index);
    }
  }
  if (state.get(v).low === state.get(v).index) {
    const component = [];
    let w;
    do {
      w = stack.pop();
      state.get(w).onStack = false;
      component.push(w);
    } while (w !== v);
    if (component.length > 1) circles.push(component);
  }
}
for (const file of edges.keys()) if (!state.has(file)) visit(file);

if (circles.length === 0) {
  console.log(`import-cycles: no circle among ${files.length} files (${folders.join(', ')})`);
  process.exit(0);
}
for (const circle of circles) {
  console.error(`import-cycles: a circle of ${circle.length} files:`);
  for (const f of circle.sort()) console.error(`  ${path.relative(root, f)}`);
}
process.exit(1);
