// The Puppeteer peer of extbridge's benchmarks: the same operations done the
// way a Puppeteer user does them today, with puppeteer-core driving Debian's
// Chromium (no browser download).
//
//   - round trip: the extension's service worker holds a tabs.connect port to
//     the page's content script, which echoes; each round trip is one
//     worker.evaluate that posts one message and resolves on its echo.
//   - pipelined: bursts of 1000 such evaluates in flight at once, spread
//     round-robin over 1 or 16 ports; msgs/s per burst.
//   - launch: a bare headless start (no extension) to the first page loaded.
//
// Statistics as in bench/bench.go: round trips are the median over batches
// of 50 of the batch mean; pipelined figures are the median over bursts.
// Prints one JSON object.
//
// node peer.mjs [--chromium /usr/bin/chromium] [--ext DIR] [--launches 5]
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import puppeteer from "puppeteer-core";

const here = path.dirname(fileURLToPath(import.meta.url));
const opt = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};
const chromium = opt("chromium", process.env.EXTBRIDGE_CHROMIUM || "/usr/bin/chromium");
const launches = Number(opt("launches", "5"));
const BATCH = 50, BATCHES = Number(opt("batches", "40")), WARM = 100;
const BURST = 1000, BURSTS = Number(opt("bursts", "10"));

// The flags extbridge gives Chromium that Puppeteer does not already give.
const args = ["--no-sandbox", "--disable-gpu", "--disable-component-update"];

const now = () => performance.now();
const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};

// The page the content script runs in.
const page = fs.readFileSync(path.join(here, "../../extfixtures/pages/index.html"));
const server = http.createServer((req, res) => {
  res.writeHead(200, { "content-type": "text/html" });
  res.end(page);
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const url = `http://127.0.0.1:${server.address().port}/index.html`;

// A copy of the benchmark extension, as a user would have it on disk.
const ext = opt("ext", "") || (() => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "extbridge-peer-ext-"));
  fs.cpSync(path.join(here, "../internal/benchkit/benchext"), dir, { recursive: true });
  return dir;
})();

const out = { puppeteer: JSON.parse(fs.readFileSync(path.join(here, "node_modules/puppeteer-core/package.json"))).version };
try {
  // Launch: bare headless start to the first page loaded.
  const starts = [];
  for (let i = 0; i < launches; i++) {
    const t0 = now();
    const browser = await puppeteer.launch({ executablePath: chromium, headless: true, args });
    const p = await browser.newPage();
    await p.goto(url, { waitUntil: "load" });
    starts.push(now() - t0);
    await browser.close();
  }
  out.launch_ms = median(starts);

  // Ports: the extension loaded the Puppeteer way.
  const browser = await puppeteer.launch({
    executablePath: chromium, headless: true, pipe: true, enableExtensions: [ext], args,
  });
  try {
    const p = await browser.newPage();
    await p.goto(url, { waitUntil: "load" });
    const swTarget = await browser.waitForTarget(
      (t) => t.type() === "service_worker" && t.url().startsWith("chrome-extension://"));
    const worker = await swTarget.worker();
    await worker.evaluate(async (pageURL, nports) => {
      const tab = (await chrome.tabs.query({})).find((t) => t.url === pageURL);
      const waiting = new Map();
      globalThis.__ports = [];
      for (let i = 0; i < nports; i++) {
        const port = chrome.tabs.connect(tab.id, { name: `pptr-${i}`, frameId: 0 });
        port.onMessage.addListener((m) => {
          const r = waiting.get(m);
          waiting.delete(m);
          r(m);
        });
        globalThis.__ports.push(port);
      }
      globalThis.__post = (port, i) => new Promise((resolve) => {
        waiting.set(i, resolve);
        globalThis.__ports[port].postMessage(i);
      });
      await globalThis.__post(0, -1); // the content script answers: ready
    }, url, 16);

    let seq = 0;
    const rt = (port) => worker.evaluate((port, i) => globalThis.__post(port, i), port, seq++);
    for (let i = 0; i < WARM; i++) await rt(0);
    const means = [];
    for (let b = 0; b < BATCHES; b++) {
      const t0 = now();
      for (let i = 0; i < BATCH; i++) await rt(0);
      means.push((now() - t0) / BATCH);
    }
    out.rtt_ms = median(means);

    out.pipe = {};
    for (const n of [1, 16]) {
      const rates = [];
      for (let b = -2; b < BURSTS; b++) {
        const t0 = now();
        const all = [];
        for (let i = 0; i < BURST; i++) all.push(rt(i % n));
        await Promise.all(all);
        if (b >= 0) rates.push(BURST / ((now() - t0) / 1000));
      }
      out.pipe[n] = median(rates);
    }
    out.ua = await browser.version();
  } finally {
    await browser.close();
  }
} catch (e) {
  out.error = String(e && e.stack ? e.stack : e);
} finally {
  server.close();
  if (!opt("ext", "")) fs.rmSync(ext, { recursive: true, force: true });
}
console.log(JSON.stringify(out));
if (out.error) process.exitCode = 1;
