// Builds static/vendor/codemirror/codemirror.js (one minified ES module) and, next to it,
// LICENSE: the licence of every npm package that ends up in the bundle, read from
// esbuild's metafile so the list cannot drift from what is bundled.
// Run it with `npm run build` (after `npm ci`).
import { build } from "esbuild";
import { readFileSync, writeFileSync, readdirSync, mkdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "static", "vendor", "codemirror");
mkdirSync(out, { recursive: true });

const result = await build({
  entryPoints: [join(here, "src", "index.js")],
  outfile: join(out, "codemirror.js"),
  bundle: true,
  format: "esm",
  minify: true,
  target: "es2020",
  legalComments: "none",
  metafile: true,
  banner: { js: "/* CodeMirror 6 (MIT), bundled for Workflow from editor/: see LICENSE beside this file. */" },
});

// Only the files that left code in the bundle: a package esbuild shook out entirely needs no licence.
const bundled = Object.values(result.metafile.outputs)[0].inputs;
const packages = new Map();
for (const [input, { bytesInOutput }] of Object.entries(bundled)) {
  const match = bytesInOutput > 0 && input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
  if (match) packages.set(match[1], join(here, "node_modules", match[1]));
}
const sections = [...packages].sort().map(([name, dir]) => {
  const meta = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  const file = readdirSync(dir).find((f) => /^licen[cs]e/i.test(f));
  const text = file ? readFileSync(join(dir, file), "utf8").trim() : `License: ${meta.license}`;
  return `${"=".repeat(72)}\n${name} ${meta.version} (${meta.license})\n${"=".repeat(72)}\n\n${text}\n`;
});
writeFileSync(
  join(out, "LICENSE"),
  "codemirror.js bundles the following npm packages (built by editor/build.mjs).\n\n" + sections.join("\n"),
);
const size = statSync(join(out, "codemirror.js")).size;
console.log(`codemirror.js: ${size.toLocaleString("en")} bytes; ${packages.size} packages, licences in LICENSE`);
