// Initial JS the browser loads for the first screen (every script index.html references), gzipped.
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";

const html = readFileSync(new URL("../dist/index.html", import.meta.url), "utf8");
const scripts = [...html.matchAll(/<script[^>]+src="\/([^"]+)"/g), ...html.matchAll(/<link[^>]+rel="modulepreload"[^>]+href="\/([^"]+)"/g)].map((m) => m[1]);
let total = 0;
for (const path of scripts) {
  const bytes = gzipSync(readFileSync(new URL(`../dist/${path}`, import.meta.url)), { level: 9 }).length;
  total += bytes;
  console.log(`${path}\t${bytes} B gzipped`);
}
console.log(`initial JS\t${total} B gzipped (budget 153600)`);
if (total > 150 * 1024) process.exit(1);
