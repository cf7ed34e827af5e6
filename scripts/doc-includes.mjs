// Keeps code in the guides identical to real, tested files. In README.md and docs/**/*.md, a
// fenced code block right after a line
//     <!-- include: examples/some-file.ts -->            (the whole file)
//     <!-- include: examples/some-file.ts#name -->       (a region)
// must equal that file, or the lines between `// #region name` and
// `// #endregion` in it (indentation of the region removed).
// `node scripts/doc-includes.mjs` checks; `--write` updates the docs.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const write = process.argv.includes("--write");

function* markdownFiles(dir) {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (name !== "reference") yield* markdownFiles(path);
    } else if (name.endsWith(".md")) yield path;
  }
}

function region(file, name) {
  const text = readFileSync(join(root, file), "utf8");
  if (name === undefined) return text.replace(/\n$/, "");
  const lines = text.split("\n");
  const start = lines.findIndex((line) => line.trim() === `// #region ${name}`);
  if (start < 0) throw new Error(`${file} has no "// #region ${name}"`);
  const end = lines.findIndex((line, i) => i > start && line.trim() === "// #endregion");
  if (end < 0) throw new Error(`${file}: region ${name} has no "// #endregion"`);
  const body = lines.slice(start + 1, end);
  const indent = Math.min(...body.filter((l) => l.trim()).map((l) => l.length - l.trimStart().length));
  return body.map((l) => l.slice(indent)).join("\n");
}

// (An empty block is matched too, so that it is filled in rather than skipped.)
const INCLUDE = /<!-- include: ([^#\s]+)(?:#(\S+))? -->\n```(\w*)\n(?:```|([\s\S]*?)\n```)/g;
let stale = 0;
for (const file of [join(root, "README.md"), ...markdownFiles(join(root, "docs"))]) {
  const text = readFileSync(file, "utf8");
  const updated = text.replace(INCLUDE, (whole, path, name, lang, body = "") => {
    const wanted = region(path, name);
    if (wanted === body) return whole;
    stale++;
    console.error(`${relative(root, file)}: the block included from ${path}${name ? `#${name}` : ""} differs from the file`);
    return `<!-- include: ${path}${name ? `#${name}` : ""} -->\n\`\`\`${lang}\n${wanted}\n\`\`\``;
  });
  if (write && updated !== text) writeFileSync(file, updated);
}
if (stale > 0 && !write) {
  console.error("run `node scripts/doc-includes.mjs --write` to update the docs from the files");
  process.exit(1);
}
console.log(write ? "doc includes updated" : "doc includes match their files");
