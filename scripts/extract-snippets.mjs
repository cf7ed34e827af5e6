// Extracts every ```ts code block from the docs (docs/**/*.md, README.md, the packages' READMEs) and
// from the doc comments of the packages' sources into .snippets/, one file per
// block, so that `tsc -p tsconfig.snippets.json` type-checks them all.
// A block whose first line is `// not-checked` is skipped (for fragments that
// cannot stand alone); keep those rare.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const out = join(root, ".snippets");
rmSync(out, { recursive: true, force: true });
mkdirSync(out);

function* walk(dir, test) {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    if (name === "node_modules" || name === "dist" || name.startsWith(".")) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* walk(path, test);
    else if (test(path)) yield path;
  }
}

const FENCE = /^(<!-- include: .* -->\n)?```ts\n([\s\S]*?)^```/gm;

/** The ts blocks of a markdown text; blocks included from a file (see doc-includes.mjs) are checked in that file. */
function blocksOfMarkdown(text) {
  return [...text.matchAll(FENCE)].filter((m) => m[1] === undefined).map((m) => m[2]);
}

function blocksOfSource(text) {
  const blocks = [];
  for (const comment of text.matchAll(/\/\*\*([\s\S]*?)\*\//g)) {
    const body = comment[1].split("\n").map((line) => line.replace(/^\s*\* ?/, "")).join("\n");
    blocks.push(...blocksOfMarkdown(body));
  }
  return blocks;
}

const sources = [
  // docs/reference is generated from the doc comments, whose snippets are checked below.
  ...walk(join(root, "docs"), (p) => p.endsWith(".md") && !p.includes("/docs/reference/")),
  join(root, "README.md"),
  ...walk(join(root, "examples"), (p) => p.endsWith(".md")),
  ...walk(join(root, "packages"), (p) => /\/src\/.*\.ts$/.test(p) || /^packages\/[^/]+\/README\.md$/.test(relative(root, p))),
];

let count = 0;
for (const file of sources) {
  const text = readFileSync(file, "utf8");
  const blocks = file.endsWith(".md") ? blocksOfMarkdown(text) : blocksOfSource(text);
  blocks.forEach((block, i) => {
    if (block.startsWith("// not-checked")) return;
    const name = `${relative(root, file).replace(/[^a-zA-Z0-9]+/g, "_")}_${i + 1}.ts`;
    // `export {}` makes every snippet a module, so top-level await works and names do not clash.
    writeFileSync(join(out, name), `// From ${relative(root, file)}, block ${i + 1}\n${block}\nexport {};\n`);
    count++;
  });
}
console.log(`extracted ${count} code snippets into .snippets/`);
