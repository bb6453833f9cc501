// The shopper widget's DOM under live updates, in headless Chromium: how long a publish takes
// to reach the page's text, and what a flood of updates costs the page's main thread.
// A benchmark, not a test: it prints figures (it fails only when it cannot measure).
//
//   LIVEQUEUE_PLAYWRIGHT=~/.cache/livequeue/playwright \
//     node bench/widget-dom.mjs http://127.0.0.1:PORT ADMIN_TOKEN [--publishes 60] [--rate 1000] \
//       [--seconds 10] [--transports ws,sse] [--json out.json]
//
// Against a running release server with the release widget, started by hand for example as
//
//   LIVEQUEUE_ADMIN_TOKEN=bench-admin LIVEQUEUE_SECRET=$(head -c 24 /dev/urandom | base64) \
//     target/release/livequeue-server --test-controls --addr 127.0.0.1:PORT --dist dist
//
// (`trunk build --release` makes dist/, `cargo build --release -p livequeue-server` the
// server). The script creates its own experiences (`bench-dom-<time>-<transport>`, stock 1000,
// `admissionRatePerMinute: 0`, so that nothing but its own PATCHes broadcasts), and per push
// transport opens `/?experience=ID&transport=ws|sse&join=auto&share=0&locale=en` in a fresh
// browser context, waits for Live (`.lq-connection[data-status=live]`) and a stock figure
// (`.lq-stock-count`, "1,000 of 1,000 left"), then:
//
// 1. Publish → DOM. `--publishes` times, ~310 ms apart (see PUBLISH_GAP_MS), a
//    `PATCH /api/admin/experiences/ID` `{"stock": N}` (broadcast as `stock_update`) is sent
//    with `fetch` from inside the page (same origin), so that one clock (`performance.now()`)
//    times everything: just before the fetch; when the `stock_update` for N reaches the page
//    ("message": a listener that an init script adds to every `WebSocket` / `EventSource`
//    the page constructs, ahead of the widget's own; active only during this part); when a
//    MutationObserver on `.lq-stock-count` first sees N in its text ("DOM"); the next
//    `requestAnimationFrame` after that ("next frame"); and the fetch's answer (its body
//    read: the PATCH round trip, the server's share). p50 / p99 / max, nearest rank
//    (so with fewer than 100 publishes p99 is the max). The widget applies a batch of messages
//    at the next animation frame (`src/feed/batch.rs`): the DOM changes inside frame N's
//    rAF step and is painted with frame N, so "next frame" (the rAF of frame N + 1) is the
//    first moment the page itself can tell that the change was presented: an upper bound.
//    The project's bar: publish → DOM within one frame (16.7 ms).
// 2. Flood. The node script (not the page: its main thread stays the widget's) sends stock
//    PATCHes at `--rate` per second for `--seconds` over a keep-alive agent with 4 requests in
//    flight at most, paced to the schedule (late slots are sent at once). In the page: every
//    rAF frame's time since the previous one (p50 / p95 / max, frames over 25 ms: at least
//    one 60 Hz refresh missed), long tasks (PerformanceObserver `longtask`, ≥ 50 ms), and
//    how often the stock text changed; through the DevTools protocol (`Performance.
//    getMetrics` before and after) the renderer main thread's TaskDuration, ScriptDuration,
//    LayoutDuration and RecalcStyleDuration as % of the wall time between the two readings.
//    At the end the server's stock (GET) must show in the DOM within 5 s, or the run fails;
//    "catch-up" is the time from the flood's last PATCH sent to the DOM showing that value
//    (epoch clocks of node and page, same machine).
//
// Progress goes to stderr; the table to stdout; with --json a file holding
// `{"figures": [{"key", "label", "value", "unit"}, …], "chromium_version", "date", …}`
// (`cargo xtask bench` reads only `figures`; the keys are stable).

import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { homedir, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const prefix = process.env.LIVEQUEUE_PLAYWRIGHT ?? join(homedir(), '.cache/livequeue/playwright');
// playwright-core lives outside the repository (npm --prefix); an ES module cannot find it
// through NODE_PATH, so it is required from that prefix.
const { chromium } = createRequire(join(prefix, 'package.json'))('playwright-core');

// See shared/TOOLCHAIN.md: without the background flags headless Chromium keeps trying
// hosts it cannot reach, which would cost CPU during the measurement.
const CHROMIUM_ARGS = [
  '--no-sandbox', '--headless=new', '--disable-gpu', '--disable-dev-shm-usage',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--no-first-run',
];

const USAGE = 'usage: node bench/widget-dom.mjs BASE_URL ADMIN_TOKEN [--publishes 60] [--rate 1000] '
  + '[--seconds 10] [--transports ws,sse] [--json out.json]';
/** One 60 Hz refresh. */
const FRAME_MS = 1000 / 60;
/**
 * Spacing of the publishes of part 1: about 300 ms, but not a whole number of frames. The
 * widget renders at the next animation frame, so publish → DOM is the latency plus the wait
 * for that frame; 300 ms is exactly 18 frames, and every publish then landed at the same
 * phase of the frame clock (runs read all 8 ms or all 19 ms). Adding 0.618 of a frame steps
 * the phase along the golden ratio: the publishes spread evenly over the frame.
 */
const PUBLISH_GAP_MS = 300 + 0.618034 * FRAME_MS;
/** How long one publish may take to show before the run fails. */
const PUBLISH_TIMEOUT_MS = 5_000;
/** PATCHes in flight at most during the flood. */
const IN_FLIGHT = 4;
const START_STOCK = 1000;

class Failure extends Error {}

function parseArgs(argv) {
  const args = { base: null, token: null, publishes: 60, rate: 1000, seconds: 10, transports: ['ws', 'sse'], json: null };
  const positional = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Failure(`${a} needs a value\n${USAGE}`);
      return argv[++i];
    };
    if (a === '--publishes') args.publishes = Number(value());
    else if (a === '--rate') args.rate = Number(value());
    else if (a === '--seconds') args.seconds = Number(value());
    else if (a === '--transports') args.transports = value().split(',');
    else if (a === '--json') args.json = value();
    else if (a.startsWith('--')) throw new Failure(`unknown option ${a}\n${USAGE}`);
    else positional.push(a);
  }
  [args.base, args.token] = positional;
  if (!args.base || !args.token || positional.length > 2) throw new Failure(USAGE);
  args.base = args.base.replace(/\/+$/, '');
  if (!(Number.isInteger(args.publishes) && args.publishes >= 1)) throw new Failure('--publishes must be a positive integer');
  if (!(args.rate > 0)) throw new Failure('--rate must be positive');
  if (!(args.seconds > 0)) throw new Failure('--seconds must be positive');
  for (const t of args.transports) if (t !== 'ws' && t !== 'sse') throw new Failure(`unknown push transport ${t} (ws, sse)`);
  return args;
}

const log = (...parts) => console.error(...parts);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const epochNow = () => performance.timeOrigin + performance.now();

/** Nearest rank: the smallest value with at least q of the samples at or below it. */
function rank(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** The admin API from node, over one keep-alive agent. */
function adminClient(base, token) {
  const url = new URL(base);
  const agent = new http.Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
  if (url.protocol !== 'http:') throw new Failure(`BASE_URL must be http:// (got ${base})`);
  return {
    agent,
    call(method, path, body) {
      const data = body === undefined ? null : JSON.stringify(body);
      return new Promise((resolve, reject) => {
        const request = http.request({
          agent, host: url.hostname, port: url.port || 80, method, path,
          headers: {
            Authorization: `Bearer ${token}`,
            ...(data ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) } : {}),
          },
        }, (response) => {
          const chunks = [];
          response.on('data', (c) => chunks.push(c));
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString();
            let json = null;
            try { json = JSON.parse(text); } catch { /* not JSON: kept as text */ }
            resolve({ status: response.statusCode, json, text });
          });
          response.on('error', reject);
        });
        request.on('error', reject);
        if (data) request.write(data);
        request.end();
      });
    },
  };
}

async function createExperience(api, id) {
  const created = await api.call('POST', '/api/admin/experiences', {
    id, name: `Bench DOM ${id}`, stock: START_STOCK, admissionRatePerMinute: 0, checkoutUrl: `/checkout/${id}`,
  });
  if (created.status !== 201) {
    throw new Failure(`creating experience ${id}: HTTP ${created.status} ${created.text.slice(0, 300)}`
      + (created.status === 401 ? ' (is ADMIN_TOKEN the server\'s LIVEQUEUE_ADMIN_TOKEN?)' : ''));
  }
}

/**
 * Runs in the page before its own scripts: notes when each `stock_update` arrives, by value,
 * while `window.__lqArrivals.on`. The constructors are wrapped in a Proxy (statics,
 * prototype and `instanceof` stay the browser's); the listener is added at construction, so
 * it runs before the widget's `onmessage`.
 */
function hookArrivals() {
  const arrivals = { on: false, at: {} };
  window.__lqArrivals = arrivals;
  const note = (raw, wrapped) => {
    if (!arrivals.on || typeof raw !== 'string') return;
    const now = performance.now();
    try {
      const m = JSON.parse(raw);
      const d = wrapped ? (m.type === 'stock_update' ? m.data : null) : m;
      if (d && typeof d.available === 'number' && !(d.available in arrivals.at)) arrivals.at[d.available] = now;
    } catch { /* not JSON: not a stock update */ }
  };
  const wrap = (name, listen) => {
    const Original = window[name];
    if (!Original) return;
    window[name] = new Proxy(Original, {
      construct(target, args, newTarget) {
        const made = Reflect.construct(target, args, newTarget);
        listen(made);
        return made;
      },
    });
  };
  wrap('WebSocket', (s) => s.addEventListener('message', (e) => note(e.data, true)));
  wrap('EventSource', (s) => s.addEventListener('stock_update', (e) => note(e.data, false)));
}

/** Waits for Live and a stock figure, or fails saying what the page showed instead. */
async function waitLive(page, transport) {
  try {
    await page.waitForFunction(() => {
      const status = document.querySelector('.lq-connection')?.dataset.status;
      const stock = document.querySelector('.lq-stock');
      const count = document.querySelector('.lq-stock-count')?.textContent ?? '';
      return status === 'live' && stock && !stock.hidden && /\d/.test(count);
    }, null, { timeout: 30_000 });
  } catch {
    const seen = await page.evaluate(() => ({
      status: document.querySelector('.lq-connection')?.dataset.status ?? '(no .lq-connection)',
      label: document.querySelector('.lq-connection-label')?.textContent ?? '',
      stock: document.querySelector('.lq-stock-count')?.textContent ?? '(no .lq-stock-count)',
      problem: document.querySelector('.lq-problem')?.textContent?.trim() ?? '',
    })).catch(() => ({}));
    throw new Failure(`${transport}: the widget never showed Live and a stock figure within 30 s `
      + `(status ${JSON.stringify(seen.status)} "${seen.label}", stock "${seen.stock}"${seen.problem ? `, problem "${seen.problem}"` : ''})`);
  }
}

/**
 * Part 1, in the page: `publishes` PATCHes with `fetch`, each timed against the stock text's
 * first change to the new value and the next animation frame after it.
 */
function publishInPage({ id, token, publishes, first, gapMs, timeoutMs }) {
  const el = document.querySelector('.lq-stock-count');
  const shown = () => {
    const m = (el.textContent ?? '').match(/\d[\d,.\u00a0\u202f' ]*/);
    return m ? Number(m[0].replace(/\D/g, '')) : null;
  };
  let waiting = null;
  const observer = new MutationObserver(() => {
    if (waiting && shown() === waiting.value) {
      const dom = performance.now();
      const w = waiting;
      waiting = null;
      requestAnimationFrame(() => w.resolve({ dom, frame: performance.now() }));
    }
  });
  observer.observe(el, { childList: true, characterData: true, subtree: true });
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const arrivals = window.__lqArrivals;
  if (arrivals) arrivals.on = true;
  return (async () => {
    const samples = [];
    try {
      for (let i = 0; i < publishes; i++) {
        const value = first + i;
        const seen = new Promise((resolve) => { waiting = { value, resolve }; });
        const sent = performance.now();
        const answered = fetch(`/api/admin/experiences/${encodeURIComponent(id)}`, {
          method: 'PATCH',
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ stock: value }),
        }).then(async (r) => ({ status: r.status, text: await r.text(), at: performance.now() }));
        let timer;
        const timeout = new Promise((resolve) => { timer = setTimeout(() => resolve(null), timeoutMs); });
        const both = await Promise.race([Promise.all([seen, answered]), timeout]);
        clearTimeout(timer);
        if (!both) {
          return { error: `publish ${i + 1} (stock ${value}) not shown within ${timeoutMs} ms; the text reads "${el.textContent}"` };
        }
        const [{ dom, frame }, answer] = both;
        if (answer.status !== 200) return { error: `PATCH stock ${value}: HTTP ${answer.status} ${answer.text.slice(0, 200)}` };
        const arrived = arrivals?.at[value];
        samples.push({ value, dom: dom - sent, frame: frame - sent, roundTrip: answer.at - sent, message: arrived === undefined ? null : arrived - sent });
        const rest = gapMs - (performance.now() - sent);
        if (rest > 0) await sleep(rest);
      }
      return { samples };
    } finally {
      observer.disconnect();
      if (arrivals) { arrivals.on = false; arrivals.at = {}; }
    }
  })();
}

/** Part 2, in the page: starts recording frames, long tasks and the stock text's changes. */
function startFloodRecording() {
  const el = document.querySelector('.lq-stock-count');
  const shown = () => {
    const m = (el.textContent ?? '').match(/\d[\d,.\u00a0\u202f' ]*/);
    return m ? Number(m[0].replace(/\D/g, '')) : null;
  };
  const state = { frames: [], longTasks: [], changes: 0, last: null, running: true, shown };
  state.longObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) state.longTasks.push(e.duration);
  });
  state.longObserver.observe({ type: 'longtask', buffered: false });
  state.textObserver = new MutationObserver(() => {
    const value = shown();
    if (value !== state.last?.value) {
      state.changes++;
      state.last = { value, at: performance.timeOrigin + performance.now() };
    }
  });
  state.textObserver.observe(el, { childList: true, characterData: true, subtree: true });
  let previous = null;
  const step = (now) => {
    if (!state.running) return;
    if (previous !== null) state.frames.push(now - previous);
    previous = now;
    requestAnimationFrame(step);
  };
  requestAnimationFrame(step);
  window.__lqFlood = state;
}

function stopFloodRecording() {
  const state = window.__lqFlood;
  state.running = false;
  state.longObserver.disconnect();
  state.textObserver.disconnect();
  return { frames: state.frames, longTasks: state.longTasks, changes: state.changes, last: state.last };
}

/** The flood's PATCHes from node, paced to `rate` per second, IN_FLIGHT at most. */
async function flood(api, id, rate, seconds, firstValue) {
  const total = Math.round(rate * seconds);
  const interval = 1000 / rate;
  const latencies = [];
  const failures = [];
  let next = 0;
  let lastSent = 0;
  let lastDone = 0;
  const start = performance.now();
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= total) return;
      const wait = start + i * interval - performance.now();
      if (wait >= 1) await sleep(wait);
      const sent = performance.now();
      lastSent = Math.max(lastSent, sent);
      let answer;
      try {
        answer = await api.call('PATCH', `/api/admin/experiences/${encodeURIComponent(id)}`, { stock: firstValue + i });
      } catch (e) {
        failures.push(String(e.message ?? e));
        continue;
      }
      const done = performance.now();
      lastDone = Math.max(lastDone, done);
      if (answer.status === 200) latencies.push(done - sent);
      else failures.push(`HTTP ${answer.status} ${answer.text.slice(0, 200)}`);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  if (failures.length) throw new Failure(`flood: ${failures.length} of ${total} PATCHes failed, first: ${failures[0]}`);
  return {
    sent: total,
    elapsedMs: lastDone - start,
    lastSentEpoch: performance.timeOrigin + lastSent,
    latencies: latencies.sort((a, b) => a - b),
  };
}

const metric = (metrics, name) => {
  const m = metrics.find((x) => x.name === name);
  if (!m) throw new Failure(`Performance.getMetrics has no ${name}`);
  return m.value;
};

async function measureTransport(browser, api, args, transport, runTag) {
  const id = `bench-dom-${runTag}-${transport}`;
  await createExperience(api, id);
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  try {
    const page = await context.newPage();
    page.on('pageerror', (e) => log(`${transport} pageerror: ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error') log(`${transport} console.error: ${m.text()}`); });
    const url = `${args.base}/?experience=${id}&transport=${transport}&join=auto&share=0&locale=en`;
    log(`${transport}: opening ${url}`);
    await page.addInitScript(hookArrivals);
    await page.goto(url, { waitUntil: 'load', timeout: 30_000 });
    await waitLive(page, transport);
    await page.waitForTimeout(500);

    log(`${transport}: ${args.publishes} publishes, ${PUBLISH_GAP_MS.toFixed(1)} ms apart`);
    const published = await page.evaluate(publishInPage, {
      id, token: args.token, publishes: args.publishes, first: START_STOCK + 1, gapMs: PUBLISH_GAP_MS, timeoutMs: PUBLISH_TIMEOUT_MS,
    });
    if (published.error) throw new Failure(`${transport}: ${published.error}`);
    const samples = published.samples;

    log(`${transport}: flood, ${args.rate}/s for ${args.seconds} s`);
    const cdp = await context.newCDPSession(page);
    await cdp.send('Performance.enable', { timeDomain: 'timeTicks' });
    await page.evaluate(startFloodRecording);
    await page.waitForTimeout(200);
    const before = (await cdp.send('Performance.getMetrics')).metrics;
    const sent = await flood(api, id, args.rate, args.seconds, 100_000);
    const final = await api.call('GET', `/api/admin/experiences/${encodeURIComponent(id)}`);
    const finalValue = final.json?.stock?.available;
    if (final.status !== 200 || typeof finalValue !== 'number') {
      throw new Failure(`${transport}: reading the final stock: HTTP ${final.status} ${final.text.slice(0, 200)}`);
    }
    try {
      await page.waitForFunction((v) => window.__lqFlood.shown() === v, finalValue, { timeout: 5_000 });
    } catch {
      const text = await page.evaluate(() => document.querySelector('.lq-stock-count')?.textContent);
      throw new Failure(`${transport}: after the flood the DOM does not show the server's stock ${finalValue} within 5 s (it reads "${text}"): the widget fell behind`);
    }
    const after = (await cdp.send('Performance.getMetrics')).metrics;
    const recorded = await page.evaluate(stopFloodRecording);
    await cdp.detach();
    if (recorded.frames.length < 10) throw new Failure(`${transport}: only ${recorded.frames.length} animation frames recorded during the flood`);

    const wall = metric(after, 'Timestamp') - metric(before, 'Timestamp');
    const pct = (name) => (100 * (metric(after, name) - metric(before, name))) / wall;
    return {
      transport, id, samples,
      flood: {
        ...sent,
        finalValue,
        catchUpMs: recorded.last.at - sent.lastSentEpoch,
        frames: recorded.frames.sort((a, b) => a - b),
        longTasks: recorded.longTasks,
        changes: recorded.changes,
        wallS: wall,
        busy: { task: pct('TaskDuration'), script: pct('ScriptDuration'), layout: pct('LayoutDuration'), style: pct('RecalcStyleDuration') },
      },
    };
  } finally {
    await context.close();
  }
}

function figuresOf(result) {
  const t = result.transport;
  const out = [];
  const add = (key, label, value, unit) => out.push({ key: `${t}_${key}`, label: `${t}: ${label}`, value: +value.toFixed(unit === 'count' ? 0 : 2), unit });
  const sorted = (pick) => result.samples.map(pick).sort((a, b) => a - b);
  const dom = sorted((s) => s.dom);
  const frame = sorted((s) => s.frame);
  const trip = sorted((s) => s.roundTrip);
  add('publishes', 'publishes measured', dom.length, 'count');
  add('publish_to_dom_p50_ms', 'publish → DOM, p50', rank(dom, 0.5), 'ms');
  add('publish_to_dom_p99_ms', 'publish → DOM, p99', rank(dom, 0.99), 'ms');
  add('publish_to_dom_max_ms', 'publish → DOM, max', dom.at(-1), 'ms');
  add('publish_to_dom_within_frame_pct', `publishes in the DOM within one frame (${FRAME_MS.toFixed(1)} ms)`, (100 * dom.filter((d) => d <= FRAME_MS).length) / dom.length, '%');
  add('publish_to_paint_p50_ms', 'publish → next frame after the DOM change, p50', rank(frame, 0.5), 'ms');
  add('publish_to_paint_p99_ms', 'publish → next frame after the DOM change, p99', rank(frame, 0.99), 'ms');
  add('publish_to_paint_max_ms', 'publish → next frame after the DOM change, max', frame.at(-1), 'ms');
  const heard = result.samples.filter((s) => s.message !== null);
  if (heard.length === result.samples.length) {
    const message = sorted((s) => s.message);
    const wait = sorted((s) => s.dom - s.message);
    add('publish_to_message_p50_ms', 'publish → stock_update message event, p50', rank(message, 0.5), 'ms');
    add('publish_to_message_p99_ms', 'publish → stock_update message event, p99', rank(message, 0.99), 'ms');
    add('message_to_dom_p50_ms', 'message event → DOM (wait for the frame + render), p50', rank(wait, 0.5), 'ms');
    add('message_to_dom_p99_ms', 'message event → DOM (wait for the frame + render), p99', rank(wait, 0.99), 'ms');
  } else {
    log(`${t}: the message hook saw ${heard.length} of ${result.samples.length} stock updates: publish → message figures left out`);
  }
  add('patch_round_trip_ms', 'PATCH fetch round trip (page), p50', rank(trip, 0.5), 'ms');
  add('patch_round_trip_p99_ms', 'PATCH fetch round trip (page), p99', rank(trip, 0.99), 'ms');
  const f = result.flood;
  add('flood_updates_per_s', 'flood: PATCHes per second achieved', f.sent / (f.elapsedMs / 1000), 'per_s');
  add('flood_patch_p50_ms', 'flood: PATCH round trip (node), p50', rank(f.latencies, 0.5), 'ms');
  add('flood_patch_p99_ms', 'flood: PATCH round trip (node), p99', rank(f.latencies, 0.99), 'ms');
  add('flood_dom_updates_per_s', 'flood: stock text changes per second', f.changes / f.wallS, 'per_s');
  add('flood_frame_p50_ms', 'flood: frame time, p50', rank(f.frames, 0.5), 'ms');
  add('flood_frame_p95_ms', 'flood: frame time, p95', rank(f.frames, 0.95), 'ms');
  add('flood_frame_max_ms', 'flood: frame time, max', f.frames.at(-1), 'ms');
  add('flood_frames_over_25ms', 'flood: frames over 25 ms', f.frames.filter((x) => x > 25).length, 'count');
  add('flood_long_tasks', 'flood: long tasks (≥ 50 ms)', f.longTasks.length, 'count');
  add('flood_longest_task_ms', 'flood: longest long task (0: none)', f.longTasks.length ? Math.max(...f.longTasks) : 0, 'ms');
  add('flood_main_thread_busy_pct', 'flood: main thread busy (TaskDuration / wall)', f.busy.task, '%');
  add('flood_script_pct', 'flood: ScriptDuration / wall', f.busy.script, '%');
  add('flood_layout_pct', 'flood: LayoutDuration / wall', f.busy.layout, '%');
  add('flood_recalc_style_pct', 'flood: RecalcStyleDuration / wall', f.busy.style, '%');
  add('flood_catch_up_ms', 'flood: last PATCH sent → DOM shows the final stock', f.catchUpMs, 'ms');
  return out;
}

function printTable(figures, meta) {
  const width = Math.max(...figures.map((f) => f.label.length));
  const lines = [''];
  lines.push(`widget DOM under live updates: ${meta.chromium_version}, ${meta.date}, load average at start ${meta.load_average.join(' ')}, at end ${meta.load_average_end.join(' ')}`);
  lines.push(`  ${meta.settings.publishes} publishes ${PUBLISH_GAP_MS.toFixed(1)} ms apart; flood ${meta.settings.rate}/s for ${meta.settings.seconds} s, ${IN_FLIGHT} in flight; percentiles nearest rank`);
  let transport = null;
  for (const f of figures) {
    const t = f.key.split('_')[0];
    if (t !== transport) { lines.push(''); transport = t; }
    const unit = f.unit === 'count' ? '' : f.unit === 'per_s' ? ' /s' : ` ${f.unit}`;
    lines.push(`  ${f.label.padEnd(width)}  ${String(f.value).padStart(9)}${unit}`);
  }
  lines.push('');
  lines.push(`  bar: publish → DOM ≤ one frame (${FRAME_MS.toFixed(1)} ms). "next frame" is the rAF after the DOM change: the change`);
  lines.push('  is made in a frame\'s rAF step and painted with that frame, so this is an upper bound on paint.');
  console.log(lines.join('\n'));
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const api = adminClient(args.base, args.token);
  const health = await api.call('GET', '/healthz').catch((e) => { throw new Failure(`server at ${args.base} does not answer: ${e.message}`); });
  if (health.status !== 200) throw new Failure(`${args.base}/healthz answered HTTP ${health.status}`);
  const meta = { date: new Date().toISOString(), load_average: loadavg().map((l) => +l.toFixed(2)) };
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
  const figures = [];
  try {
    meta.chromium_version = browser.version();
    const runTag = `${Date.now().toString(36)}-${process.pid}`;
    for (const transport of args.transports) {
      figures.push(...figuresOf(await measureTransport(browser, api, args, transport, runTag)));
    }
  } finally {
    await browser.close();
    api.agent.destroy();
  }
  meta.load_average_end = loadavg().map((l) => +l.toFixed(2));
  meta.settings = { base_url: args.base, publishes: args.publishes, publish_gap_ms: +PUBLISH_GAP_MS.toFixed(2), rate: args.rate, seconds: args.seconds, in_flight: IN_FLIGHT, transports: args.transports };
  printTable(figures, meta);
  if (args.json) {
    writeFileSync(args.json, `${JSON.stringify({ figures, chromium_version: meta.chromium_version, date: meta.date, load_average: meta.load_average, load_average_end: meta.load_average_end, settings: meta.settings }, null, 2)}\n`);
  }
}

main().catch((e) => {
  console.error(`widget-dom: ${e instanceof Failure ? e.message : e.stack ?? e}`);
  process.exit(1);
});
