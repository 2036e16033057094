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
//   - control: the control calls of a test, as BenchmarkControl does them,
//     one of each per round (--control rounds after 2 warm-up rounds),
//     medians: newPage+goto (newtab), worker.evaluate (evalbg), the page's
//     extensionRealms() then evaluate in the extension's content-script
//     world (evalcs) and a second evaluate there (evalcs_again),
//     page.close (close), a typical test (typical: newPage+goto,
//     worker.evaluate, extensionRealms+evaluate, a port opened in the
//     content script with one round trip to the echoing background, close),
//     worker.close until the target is gone (stop), and a wake: CDP
//     ServiceWorker.startWorker, waitForTarget, worker(), evaluate (wake).
//
// Statistics as in bench/bench.go: round trips are the median over batches
// of 50 of the batch mean; pipelined figures are the median over bursts.
// Prints one JSON object.
//
// node peer.mjs [--chromium /usr/bin/chromium] [--ext DIR] [--launches 5] [--control 15] [--only control]
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
const CONTROL = Number(opt("control", "15")), CONTROL_WARM = 2;
const only = opt("only", ""); // "control": the control calls alone

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


const isWorker = (t) => t.type() === "service_worker" && t.url().startsWith("chrome-extension://");
const launchExt = () => puppeteer.launch({
  executablePath: chromium, headless: true, pipe: true, enableExtensions: [ext], args,
});

// The extension's content-script world in a page's main frame: Chromium
// creates it when the content script is injected (document_idle, which can
// come after the load event), so wait for it.
async function csRealm(p) {
  for (;;) {
    const rs = p.extensionRealms();
    if (rs.length > 0) return rs[0];
    await new Promise((r) => setTimeout(r, 1));
  }
}

// The control calls of a test, one of each per round, as BenchmarkControl.
async function control(browser) {
  const swTarget = await browser.waitForTarget(isWorker);
  let worker = await swTarget.worker();
  const swURL = swTarget.url();
  const scope = swURL.slice(0, swURL.indexOf("/", "chrome-extension://".length) + 1);
  const keep = await browser.newPage(); // a page for the CDP session that wakes the worker
  const cdp = await keep.createCDPSession();
  await cdp.send("ServiceWorker.enable");
  const m = {};
  const timed = async (name, f) => {
    const t0 = now();
    const v = await f();
    (m[name] ??= []).push(now() - t0);
    return v;
  };
  const newTab = async () => {
    const p = await browser.newPage();
    await p.goto(url, { waitUntil: "load" });
    return p;
  };
  const typical = async () => {
    const p = await newTab();
    await worker.evaluate(() => 20 + 22);
    const r = await csRealm(p);
    await r.evaluate(() => document.title);
    // Connect from the content script to the echoing background, one round trip.
    await r.evaluate(() => new Promise((resolve) => {
      const port = chrome.runtime.connect({ name: "typical" });
      port.onMessage.addListener((msg) => { port.disconnect(); resolve(msg); });
      port.postMessage(1);
    }));
    await p.close();
  };
  for (let i = -CONTROL_WARM; i < CONTROL; i++) {
    if (i === 0) for (const k of Object.keys(m)) delete m[k];
    const p = await timed("newtab_ms", newTab);
    await timed("evalbg_ms", () => worker.evaluate(() => 20 + 22));
    const r = await timed("evalcs_ms", async () => {
      const r = await csRealm(p);
      await r.evaluate(() => document.title);
      return r;
    });
    await timed("evalcs_again_ms", () => r.evaluate(() => location.href));
    await timed("close_ms", () => p.close());
    await timed("typical_ms", typical);
    await timed("stop_ms", async () => {
      const gone = new Promise((resolve) => {
        const on = (t) => { if (t === swTarget || isWorker(t)) { browser.off("targetdestroyed", on); resolve(); } };
        browser.on("targetdestroyed", on);
      });
      await worker.close();
      await gone;
    });
    await timed("wake_ms", async () => {
      const up = browser.waitForTarget(isWorker);
      await cdp.send("ServiceWorker.startWorker", { scopeURL: scope });
      worker = await (await up).worker();
      await worker.evaluate(() => 20 + 22);
    });
  }
  await keep.close();
  const res = {};
  for (const [k, v] of Object.entries(m)) res[k] = median(v);
  return res;
}

const out = { puppeteer: JSON.parse(fs.readFileSync(path.join(here, "node_modules/puppeteer-core/package.json"))).version };
try {
  if (only !== "control") {
    // Launch: bare headless start to the first page loaded; and with the
    // extension, to its worker up and the first page loaded.
    const starts = [], extStarts = [];
    for (let i = 0; i < launches; i++) {
      let t0 = now();
      let browser = await puppeteer.launch({ executablePath: chromium, headless: true, args });
      let p = await browser.newPage();
      await p.goto(url, { waitUntil: "load" });
      starts.push(now() - t0);
      await browser.close();
      t0 = now();
      browser = await launchExt();
      await browser.waitForTarget(isWorker);
      p = await browser.newPage();
      await p.goto(url, { waitUntil: "load" });
      extStarts.push(now() - t0);
      await browser.close();
    }
    out.launch_ms = median(starts);
    out.launch_ext_ms = median(extStarts);
  }

  // Ports and control calls: the extension loaded the Puppeteer way.
  const browser = await launchExt();
  try {
    if (CONTROL > 0) out.control = await control(browser);
    if (only !== "control") {
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
