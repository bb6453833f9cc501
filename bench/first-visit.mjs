// What a shopper's first and repeat visit cost, measured in headless Chromium through the
// DevTools protocol. Run by `cargo xtask bench-load` against the release server; by hand:
//
//   LIVEQUEUE_PLAYWRIGHT=~/.cache/livequeue/playwright \
//     node bench/first-visit.mjs 'http://127.0.0.1:PORT/?experience=demo-drop&join=auto' [--runs 10] \
//       [--profiles loopback,slow4g,fast4g] [--json out.json]
//
// 1. Bytes on the wire. One browser context (one HTTP cache). The first visit loads the page
//    in a fresh tab; the repeat visit opens the same URL in a second tab of the same context,
//    so hashed assets come from the warm cache (`immutable`) and the HTML is revalidated
//    (`no-cache`). Per visit, the `encodedDataLength` of `Network.loadingFinished` is summed
//    over the page and its assets: what Chromium received for them, response headers
//    included, after `Content-Encoding`. API calls (`/api/…`) and the live update stream are
//    the widget talking to the queue, not the cost of the page, and are listed apart.
// 2. Time to first position. Per run a fresh context (cold cache), the network profile set
//    with `Network.emulateNetworkConditions` before navigating, and a script installed before
//    any of the page's own that notes `performance.now()` (milliseconds since navigation
//    start) at the first animation frame in which `.lq-position-value` holds a digit. Median
//    and p90 (nearest rank) over the runs. DevTools throttling delays HTTP requests only: the
//    WebSocket handshake and frames go unthrottled, so a real link adds about one latency.
//
// Progress goes to stderr; the table (and, with --json, every figure) is the result. The JSON
// holds a top-level `figures` array ({key, label, value, unit}), the shape `cargo xtask bench`
// reads from every benchmark; the other fields are the detail behind it.

import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import { homedir, loadavg } from 'node:os';
import { join } from 'node:path';

const prefix = process.env.LIVEQUEUE_PLAYWRIGHT ?? join(homedir(), '.cache/livequeue/playwright');
// playwright-core lives outside the repository, installed by the xtask with npm --prefix;
// an ES module cannot find it through NODE_PATH, so it is required from that prefix.
const { chromium } = createRequire(join(prefix, 'package.json'))('playwright-core');

// Chrome DevTools' presets, from `front_end/core/sdk/NetworkManager.ts` (ChromeDevTools/
// devtools-frontend): latency in ms is the target RTT times an adjustment factor, throughput
// in bytes/s is the nominal rate times 0.9. DevTools renamed "Fast 3G" to "Slow 4G" in
// May 2024 (crbug.com/342406608) without changing its figures:
//   Slow4GConditions: download 1.6 * 1000 * 1000 / 8 * .9, upload 750 * 1000 / 8 * .9,
//                     latency 150 * 3.75
//   Fast4GConditions: download 9 * 1000 * 1000 / 8 * .9, upload 1.5 * 1000 * 1000 / 8 * .9,
//                     latency 60 * 2.75
const PROFILES = {
  loopback: { label: 'loopback, unthrottled', conditions: null },
  slow4g: {
    label: 'Slow 4G (formerly Fast 3G): 562.5 ms, 180 KB/s down',
    conditions: { latency: 150 * 3.75, downloadThroughput: 1.6e6 / 8 * 0.9, uploadThroughput: 750e3 / 8 * 0.9 },
  },
  fast4g: {
    label: 'Fast 4G: 165 ms, 1.0125 MB/s down',
    conditions: { latency: 60 * 2.75, downloadThroughput: 9e6 / 8 * 0.9, uploadThroughput: 1.5e6 / 8 * 0.9 },
  },
};

// Chromium flags for a headless run on a machine that reaches only loopback (see
// shared/TOOLCHAIN.md): without the background ones it keeps trying unreachable hosts,
// which would show up as traffic and CPU during the measurement.
const CHROMIUM_ARGS = [
  '--no-sandbox', '--headless=new', '--disable-gpu', '--disable-dev-shm-usage',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--no-first-run',
];

/** How long one page load may take before the run fails: Slow 4G takes a few seconds. */
const LOAD_TIMEOUT_MS = 60_000;

function parseArgs(argv) {
  const args = { url: null, runs: 10, profiles: ['loopback', 'slow4g', 'fast4g'], json: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--runs') args.runs = Number(argv[++i]);
    else if (a === '--profiles') args.profiles = argv[++i].split(',');
    else if (a === '--json') args.json = argv[++i];
    else if (!args.url) args.url = a;
    else throw new Error(`unexpected argument ${a}`);
  }
  if (!args.url) throw new Error('usage: node bench/first-visit.mjs URL [--runs N] [--profiles a,b] [--json FILE]');
  if (!(args.runs >= 1)) throw new Error('--runs must be a positive number');
  for (const p of args.profiles) if (!PROFILES[p]) throw new Error(`unknown profile ${p} (${Object.keys(PROFILES)})`);
  return args;
}

const log = (...parts) => console.error(...parts);

/**
 * Runs in the page before its own scripts: the first frame in which the shopper's place
 * shows a number. A MutationObserver catches the DOM change; the next animation frame is
 * when it reaches the screen. Both are kept (`dom`, `frame`), the frame is reported.
 */
function watchFirstPosition() {
  const hasNumber = () => /\d/.test(document.querySelector('.lq-position-value')?.textContent ?? '');
  window.__lqFirstPosition = null;
  const observer = new MutationObserver(() => {
    if (!hasNumber()) return;
    observer.disconnect();
    const dom = performance.now();
    requestAnimationFrame(() => { window.__lqFirstPosition = { dom, frame: performance.now() }; });
  });
  observer.observe(document, { childList: true, subtree: true, characterData: true });
}

/** Records what the Network domain reports for one tab, keyed by request id. */
async function recordNetwork(context, page) {
  const cdp = await context.newCDPSession(page);
  const requests = new Map();
  const entry = (id) => {
    if (!requests.has(id)) requests.set(id, { id, bytes: 0, finished: false });
    return requests.get(id);
  };
  cdp.on('Network.requestWillBeSent', (e) => {
    const r = entry(e.requestId);
    r.url = e.request.url;
    r.method = e.request.method;
    r.type = e.type;
    r.acceptEncoding = e.request.headers['Accept-Encoding'] ?? e.request.headers['accept-encoding'];
  });
  cdp.on('Network.requestWillBeSentExtraInfo', (e) => {
    // The headers actually sent (Accept-Encoding is added by the network stack).
    const h = e.headers;
    entry(e.requestId).acceptEncoding = h['Accept-Encoding'] ?? h['accept-encoding'];
  });
  cdp.on('Network.requestServedFromCache', (e) => { entry(e.requestId).cache = 'memory'; });
  cdp.on('Network.responseReceived', (e) => {
    const r = entry(e.requestId);
    const h = Object.fromEntries(Object.entries(e.response.headers).map(([k, v]) => [k.toLowerCase(), v]));
    r.status = e.response.status;
    r.encoding = h['content-encoding'] ?? 'identity';
    r.cacheControl = h['cache-control'];
    if (e.response.fromDiskCache) r.cache = 'disk';
  });
  cdp.on('Network.responseReceivedExtraInfo', (e) => {
    // The status that came over the wire: a revalidated page is 304 here, while
    // `responseReceived` shows the cached 200 it stands for.
    entry(e.requestId).wireStatus = e.statusCode;
  });
  cdp.on('Network.loadingFinished', (e) => {
    const r = entry(e.requestId);
    r.bytes = e.encodedDataLength;
    r.finished = true;
  });
  cdp.on('Network.webSocketCreated', (e) => { entry(e.requestId).url = e.url; entry(e.requestId).type = 'WebSocket'; });
  await cdp.send('Network.enable');
  return { cdp, requests };
}

/** The page and its assets (same origin, not `/api/`), apart from the widget's API traffic. */
function isPageOrAsset(url, origin) {
  const u = new URL(url);
  return u.origin === origin && !u.pathname.startsWith('/api/') && u.protocol.startsWith('http');
}

async function firstPosition(page) {
  const handle = await page.waitForFunction(() => window.__lqFirstPosition, null, { timeout: LOAD_TIMEOUT_MS });
  return handle.jsonValue();
}

/** One visit in a new tab of `context`: the requests it made, once the place is on screen. */
async function visit(context, url) {
  const page = await context.newPage();
  page.on('pageerror', (e) => log('pageerror:', e.message));
  await page.addInitScript(watchFirstPosition);
  const { requests } = await recordNetwork(context, page);
  await page.goto(url, { waitUntil: 'load', timeout: LOAD_TIMEOUT_MS });
  const shown = await firstPosition(page);
  // Late requests (a favicon, say) still count: let the network settle.
  await page.waitForLoadState('networkidle', { timeout: 5_000 }).catch(() => {});
  await page.waitForTimeout(500);
  await page.close();
  return { shown, requests: [...requests.values()].filter((r) => r.url) };
}

/**
 * Chromium asks for `/favicon.ico` by itself: the page references no icon, and the server
 * answers the request with `index.html` (its fallback). A real browser pays for it too, so it
 * is counted, but apart from the page and the assets the page names.
 */
const FAVICON = '/favicon.ico';

function summarize(requests, origin) {
  const own = requests.filter((r) => isPageOrAsset(r.url, origin));
  const page = own.filter((r) => new URL(r.url).pathname !== FAVICON);
  const favicon = own.filter((r) => new URL(r.url).pathname === FAVICON);
  const api = requests.filter((r) => !isPageOrAsset(r.url, origin));
  const sum = (rs) => rs.reduce((s, r) => s + (r.bytes || 0), 0);
  return {
    bytes: sum(page),
    faviconBytes: sum(favicon),
    apiBytes: sum(api.filter((r) => r.finished)),
    requests: own.map((r) => ({
      path: new URL(r.url).pathname,
      status: r.wireStatus ?? r.status ?? null,
      encoding: r.encoding ?? null,
      acceptEncoding: r.acceptEncoding ?? null,
      cache: r.cache ?? null,
      bytes: r.bytes,
    })),
    api: api.map((r) => ({ url: new URL(r.url).pathname, type: r.type, status: r.wireStatus ?? r.status ?? null, bytes: r.finished ? r.bytes : null })),
  };
}

async function bytesOnTheWire(browser, url) {
  const origin = new URL(url).origin;
  const context = await browser.newContext();
  try {
    log('bytes: first visit');
    const first = summarize((await visit(context, url)).requests, origin);
    log('bytes: repeat visit (same context, warm cache)');
    const repeat = summarize((await visit(context, url)).requests, origin);
    return { first, repeat };
  } finally {
    await context.close();
  }
}

async function timeToFirstPosition(browser, url, profile, runs) {
  const times = [];
  for (let run = 1; run <= runs; run++) {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      page.on('pageerror', (e) => log('pageerror:', e.message));
      await page.addInitScript(watchFirstPosition);
      const { cdp } = await recordNetwork(context, page);
      const { conditions } = PROFILES[profile];
      if (conditions) await cdp.send('Network.emulateNetworkConditions', { offline: false, ...conditions });
      await page.goto(url, { waitUntil: 'commit', timeout: LOAD_TIMEOUT_MS });
      const shown = await firstPosition(page);
      times.push(shown);
      log(`${profile} run ${run}/${runs}: ${shown.frame.toFixed(0)} ms`);
    } finally {
      await context.close();
    }
  }
  const frames = times.map((t) => t.frame).sort((a, b) => a - b);
  const rank = (q) => frames[Math.max(0, Math.ceil(q * frames.length) - 1)];
  return { profile, label: PROFILES[profile].label, runs, median: median(frames), p90: rank(0.9), min: frames[0], max: frames.at(-1), times };
}

function median(sorted) {
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const kb = (bytes) => `${(bytes / 1000).toFixed(1)} kB`;

function printTable(result) {
  const { first, repeat } = result.bytes;
  const out = [];
  out.push('');
  out.push('Bytes on the wire (page + assets, Network.loadingFinished.encodedDataLength):');
  for (const [name, v] of [['first visit', first], ['repeat visit', repeat]]) {
    out.push(`  ${name.padEnd(13)} ${String(v.bytes).padStart(8)} B  (${kb(v.bytes)});  apart: ${FAVICON} ${v.faviconBytes} B, API responses ${v.apiBytes} B`);
    for (const r of v.requests) {
      const how = r.cache ? `${r.cache} cache` : r.status === 304 ? '304 revalidated' : `${r.status} ${r.encoding}`;
      out.push(`    ${String(r.bytes).padStart(8)} B  ${how.padEnd(15)} ${r.path}`);
    }
  }
  const ae = first.requests.find((r) => r.acceptEncoding)?.acceptEncoding;
  out.push(`  Accept-Encoding sent by Chromium: ${ae ?? '(not reported)'}`);
  out.push('');
  out.push(`Time to first position (navigation start → number on screen), cold cache, ${result.runs} runs:`);
  out.push(`  ${'network'.padEnd(54)} ${'median'.padStart(8)} ${'p90'.padStart(8)} ${'min'.padStart(8)} ${'max'.padStart(8)}`);
  for (const t of result.times) {
    const ms = (x) => `${x.toFixed(0)} ms`.padStart(8);
    out.push(`  ${t.label.padEnd(54)} ${ms(t.median)} ${ms(t.p90)} ${ms(t.min)} ${ms(t.max)}`);
  }
  out.push(`  load average at start: ${result.loadavg.map((l) => l.toFixed(2)).join(' ')}`);
  console.log(out.join('\n'));
}

/** The headline figures in the shape `cargo xtask bench` reads. */
function figures(result) {
  const out = [
    { key: 'first_visit_bytes', label: 'bytes on the wire, first visit (page + assets)', value: result.bytes.first.bytes, unit: 'B' },
    { key: 'repeat_visit_bytes', label: 'bytes on the wire, repeat visit (page + assets)', value: result.bytes.repeat.bytes, unit: 'B' },
  ];
  for (const t of result.times) {
    const name = `${t.profile}, cold cache, ${t.runs} loads`;
    out.push({ key: `first_position_${t.profile}_median_ms`, label: `first position on screen, ${name}: median`, value: +t.median.toFixed(1), unit: 'ms' });
    out.push({ key: `first_position_${t.profile}_p90_ms`, label: `first position on screen, ${name}: p90`, value: +t.p90.toFixed(1), unit: 'ms' });
  }
  return out;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  try {
    const result = {
      url: args.url,
      date: new Date().toISOString(),
      chromium: browser.version(),
      loadavg: loadavg(),
      runs: args.runs,
      bytes: await bytesOnTheWire(browser, args.url),
      times: [],
    };
    for (const profile of args.profiles) {
      result.times.push(await timeToFirstPosition(browser, args.url, profile, args.runs));
    }
    printTable(result);
    result.figures = figures(result);
    if (args.json) writeFileSync(args.json, `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.error(`first-visit: ${e.stack ?? e}`);
  process.exit(1);
});
