// Opens every page of a site written by `ddd docs` in headless Chromium and checks what a
// reader would see: no console errors, every internal link and anchor resolves, every SVG
// has a size on screen, and the search finds an event by a word of its doc comment.
// Usage: node browser.cjs SITE_DIR SCREENSHOT_DIR SEARCH_WORD EXPECTED_PAGE
// Exits non-zero with every problem listed.
// CommonJS, so that NODE_PATH finds playwright-core where the test installed it.
const { chromium } = require("playwright-core");
const { existsSync, readdirSync, statSync, mkdirSync } = require("node:fs");
const { join, relative, resolve, dirname } = require("node:path");
const { pathToFileURL } = require("node:url");

const [site, shots, word, expected] = process.argv.slice(2);
const problems = [];

function pages(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return pages(path);
    return path.endsWith(".html") ? [path] : [];
  });
}

async function main() {
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox"],
});
const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
let current = "";
page.on("console", (m) => { if (m.type() === "error") problems.push(`${current}: console: ${m.text()}`); });
page.on("pageerror", (e) => problems.push(`${current}: page error: ${e.message}`));
page.on("requestfailed", (r) => problems.push(`${current}: request failed: ${r.url()}`));

const all = pages(site).sort();
const ids = new Map();
const links = [];
for (const file of all) {
  current = relative(site, file);
  await page.goto(pathToFileURL(file).href);
  ids.set(resolve(file), new Set(await page.$$eval("[id]", (els) => els.map((e) => e.id))));
  for (const href of await page.$$eval("a[href], link[href], script[src]", (els) =>
    els.map((e) => e.getAttribute("href") ?? e.getAttribute("src")))) {
    links.push([file, href]);
  }
  const boxes = await page.$$eval("svg", (svgs) => svgs.map((s) => {
    const r = s.getBoundingClientRect();
    const b = s.getBBox();
    return [s.getAttribute("aria-labelledby"), r.width, r.height, b.width, b.height];
  }));
  for (const [name, w, h, bw, bh] of boxes) {
    if (!(w > 0 && h > 0 && bw > 0 && bh > 0)) problems.push(`${current}: svg ${name} renders empty (${w}x${h}, bbox ${bw}x${bh})`);
  }
}
for (const [file, href] of links) {
  if (/^[a-z]+:/i.test(href)) {
    problems.push(`${relative(site, file)}: link leaves the site: ${href}`);
    continue;
  }
  const [path, anchor] = href.split("#");
  const target = path ? resolve(dirname(file), path) : resolve(file);
  if (!existsSync(target)) {
    problems.push(`${relative(site, file)}: broken link ${href}`);
  } else if (anchor && !(ids.get(target)?.has(decodeURIComponent(anchor)))) {
    problems.push(`${relative(site, file)}: no #${anchor} in ${relative(site, target)}`);
  }
}

// Search from the index, then follow the first hit.
current = "index.html (search)";
await page.goto(pathToFileURL(join(site, "index.html")).href);
await page.fill("#search", word);
const hits = await page.$$eval("#results a", (as) => as.map((a) => a.href));
const want = pathToFileURL(resolve(site, expected)).href;
if (!hits.includes(want)) problems.push(`search for "${word}" did not find ${expected}: ${hits.join(", ") || "nothing"}`);

mkdirSync(shots, { recursive: true });
await page.fill("#search", "");
// Wide enough for the whole map: the figure scrolls, and a screenshot shows only what is in view.
const mapWidth = await page.$eval("#context-map svg", (svg) => svg.getBoundingClientRect().width);
await page.setViewportSize({ width: Math.max(1400, Math.ceil(mapWidth) + 320), height: 1000 });
const map = await page.$("#context-map");
await map.screenshot({ path: join(shots, "context-map.png") });
const flow = await page.$("#event-flow");
if (flow) await flow.screenshot({ path: join(shots, "event-flow.png") });
await page.setViewportSize({ width: 1400, height: 1000 });
await page.goto(pathToFileURL(join(site, "contexts", "Ordering.html")).href);
await page.screenshot({ path: join(shots, "context-ordering.png"), fullPage: true });
await page.goto(pathToFileURL(resolve(site, expected)).href);
await page.screenshot({ path: join(shots, "event.png"), fullPage: true });
await browser.close();

console.log(`${all.length} pages, ${links.length} links checked`);
if (problems.length) {
  console.error(problems.join("\n"));
  process.exit(1);
}
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
