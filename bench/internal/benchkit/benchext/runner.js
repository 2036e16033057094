// The in-browser half of the benchmarks. On a page whose URL has
// #xbbench=<JSON config>, it times, from this content script:
//
//   - the extension's own port: runtime.connect to the background, which
//     echoes (sequential round trips, and pipelined bursts on 1 and on N ports);
//   - the wire alone: a WebSocket to a Go echo server on 127.0.0.1 (the same
//     two measurements).
//
// and sends the figures as one JSON message to cfg.report (a WebSocket).
// Sequential round trips are timed in batches (performance.now() is coarse
// outside cross-origin isolation): the figure is the median over batches of
// the mean round trip within a batch. Pipelined figures are the median over
// bursts of burst/elapsed, a burst being `burst` messages posted at once and
// every echo awaited. The Go benchmarks and the Puppeteer peer compute the
// same statistics.
(() => {
  const m = /[#&]xbbench=([^&]*)/.exec(location.hash);
  if (!m || globalThis.top !== globalThis.self) return;
  const api = globalThis.browser ?? globalThis.chrome;
  const cfg = JSON.parse(decodeURIComponent(m[1]));
  const now = () => performance.now();

  const median = (a) => {
    const s = [...a].sort((x, y) => x - y);
    const n = s.length;
    return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  };

  // A channel is something that echoes: a port or a WebSocket. Replies go to
  // ch.handler.
  function portChannel(name) {
    const port = api.runtime.connect({ name });
    const ch = { handler: null, post: (v) => port.postMessage(v), close: () => port.disconnect() };
    port.onMessage.addListener((v) => ch.handler(v));
    return Promise.resolve(ch);
  }
  function wsChannel(url) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      const ch = { handler: null, post: (v) => ws.send(JSON.stringify(v)), close: () => ws.close() };
      ws.onmessage = (ev) => ch.handler(JSON.parse(ev.data));
      ws.onopen = () => resolve(ch);
      ws.onerror = () => reject(new Error(`the WebSocket to ${url} failed`));
    });
  }

  // roundTrips returns the median over batches of the mean round trip (ms).
  async function roundTrips(ch, { warm, batches, batch }) {
    let seq = 0;
    const one = () => new Promise((resolve) => { ch.handler = resolve; ch.post(seq++); });
    for (let i = 0; i < warm; i++) await one();
    const means = [];
    for (let b = 0; b < batches; b++) {
      const t0 = now();
      for (let i = 0; i < batch; i++) await one();
      means.push((now() - t0) / batch);
    }
    return median(means);
  }

  // pipelined returns the median over bursts of messages per second, each
  // burst spread round-robin over chs.
  async function pipelined(chs, { bursts, burst, warm }) {
    const rates = [];
    for (let b = -warm; b < bursts; b++) {
      let left = burst;
      const t0 = now();
      await new Promise((resolve) => {
        for (const ch of chs) ch.handler = () => { if (--left === 0) resolve(); };
        for (let i = 0; i < burst; i++) chs[i % chs.length].post(i);
      });
      if (b >= 0) rates.push(burst / ((now() - t0) / 1000));
    }
    return median(rates);
  }

  async function measure(open) {
    const out = {};
    const one = await open(0);
    out.rtt_ms = await roundTrips(one, cfg.rtt);
    out.pipe = {};
    for (const n of cfg.ports) {
      const chs = [one];
      while (chs.length < n) chs.push(await open(chs.length));
      out.pipe[n] = await pipelined(chs, cfg.pipe);
      for (const ch of chs.slice(1)) ch.close();
    }
    one.close();
    return out;
  }

  async function main() {
    const res = { id: cfg.id, ua: navigator.userAgent };
    try {
      res.port = await measure((i) => portChannel(`bench-${i}`));
      if (cfg.wire) res.wire = await measure(() => wsChannel(cfg.wire));
    } catch (e) {
      res.error = String(e && e.message ? e.message : e);
    }
    const ws = new WebSocket(cfg.report);
    ws.onopen = () => { ws.send(JSON.stringify(res)); };
  }
  main();
})();
