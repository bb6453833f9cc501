// Frame times while the operator console's list is scrolled from the first to the last of
// 1,000,000 rows in 5 s, in headless Chromium. A benchmark, not a test: it prints figures.
//
//   node bench/console-scroll.mjs http://127.0.0.1:PORT OPERATOR_TOKEN [--seconds 5] [--json out.json]
//
// The server must run with `--demo` or `--test-controls` (`cargo xtask demo` does): the
// script creates the experience `bench-million` (admitting nobody) and adds 1,000,000
// synthetic shoppers unless it already has them, signs in, and picks it. Then, in the page,
// one `requestAnimationFrame` loop sets the list's `scrollTop` along a straight line from 0
// to the bottom over the given seconds (a scrollbar dragged at an even speed), and records:
// - each frame's time since the last one (rAF timestamps): p50, p95, max, and the frames
//   that took over 25 ms (one refresh of 60 Hz missed at least: 16.7 ms is one, 33.3 two);
// - long tasks (PerformanceObserver `longtask`, ≥ 50 ms): count and longest;
// - the row elements in the DOM at each frame (most), and the page's element count;
// - the pages of rows asked for, and those cancelled because they were scrolled past first
//   (the list's `data-pages-asked` / `data-pages-cancelled`).
// At the end it waits for the last row's data and checks that `#1,000,000` is in view.
// The JSON (`--json`) also holds a `figures` array ({key, label, value, unit}), the shape
// `cargo xtask bench` reads from every benchmark.

import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import { homedir, loadavg } from 'node:os';
import { join } from 'node:path';

const prefix = process.env.LIVEQUEUE_PLAYWRIGHT ?? join(homedir(), '.cache/livequeue/playwright');
const { chromium } = createRequire(join(prefix, 'package.json'))('playwright-core');

const args = process.argv.slice(2);
const [base, token] = args;
if (!base || !token) {
  console.error('usage: node bench/console-scroll.mjs BASE_URL OPERATOR_TOKEN [--seconds 5] [--json out.json]');
  process.exit(2);
}
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const seconds = Number(option('--seconds', '5'));
const jsonOut = option('--json', null);
const ID = 'bench-million';
const ROWS = 1_000_000;

async function api(method, path, body) {
  const answer = await fetch(base + path, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body && JSON.stringify(body),
  });
  return { status: answer.status, body: await answer.json().catch(() => null) };
}

async function millionLine() {
  let found = await api('GET', `/api/admin/experiences/${ID}`);
  if (found.status === 404) {
    const created = await api('POST', '/api/admin/experiences', {
      id: ID, name: 'Bench million', stock: 100, admissionRatePerMinute: 0,
      checkoutUrl: `/checkout/${ID}`,
    });
    if (created.status !== 201) throw new Error(`create: ${created.status} ${JSON.stringify(created.body)}`);
    found = await api('GET', `/api/admin/experiences/${ID}`);
  }
  const missing = ROWS - found.body.waiting;
  if (missing > 0) {
    const added = await api('POST', `/api/admin/experiences/${ID}/synthetic`, { count: missing });
    if (added.status !== 200) throw new Error(`synthetic: ${added.status} ${JSON.stringify(added.body)}`);
  }
}

const nearest = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];

await millionLine();
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--headless=new', '--disable-gpu', '--disable-dev-shm-usage',
    '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
await page.goto(`${base}/operator/`);
await page.fill('#lq-token', token);
await page.press('#lq-token', 'Enter');
await page.waitForSelector('.link.live');
await page.selectOption('#lq-experience', ID);
await page.waitForFunction((rows) => document.querySelector('.list')?.getAttribute('aria-rowcount') === String(rows), ROWS);
await page.waitForFunction(() => !document.querySelector('.list .row:not([style*="display: none"]).pending'));

const result = await page.evaluate(async (seconds) => {
  const list = document.querySelector('.list');
  const longTasks = [];
  const observer = new PerformanceObserver((entries) => {
    for (const e of entries.getEntries()) longTasks.push(e.duration);
  });
  observer.observe({ type: 'longtask', buffered: false });
  const frames = [];
  let mostRows = 0;
  let mostElements = 0;
  await new Promise((done) => {
    let start = null;
    let last = null;
    const step = (now) => {
      if (start === null) start = now;
      if (last !== null) frames.push(now - last);
      last = now;
      const t = Math.min(1, (now - start) / (seconds * 1000));
      list.scrollTop = t * (list.scrollHeight - list.clientHeight);
      mostRows = Math.max(mostRows, list.querySelectorAll('.row').length);
      mostElements = Math.max(mostElements, document.getElementsByTagName('*').length);
      if (t < 1) requestAnimationFrame(step); else done();
    };
    requestAnimationFrame(step);
  });
  await new Promise((r) => setTimeout(r, 200));
  observer.disconnect();
  return { frames, longTasks, mostRows, mostElements,
           asked: Number(list.dataset.pagesAsked), cancelled: Number(list.dataset.pagesCancelled) };
}, seconds);

await page.waitForFunction(() => [...document.querySelectorAll('.list .row')]
  .some((r) => r.querySelector('.place').textContent === '#1,000,000' && !r.classList.contains('pending')),
  null, { timeout: 60_000 });
await browser.close();

const sorted = [...result.frames].sort((a, b) => a - b);
const figures = {
  rows: ROWS,
  seconds,
  frames: sorted.length,
  p50_ms: +nearest(sorted, 0.5).toFixed(1),
  p95_ms: +nearest(sorted, 0.95).toFixed(1),
  max_ms: +sorted[sorted.length - 1].toFixed(1),
  missed_a_refresh: sorted.filter((f) => f > 25).length,
  long_tasks: result.longTasks.length,
  longest_task_ms: result.longTasks.length ? Math.max(...result.longTasks) : 0,
  pages_asked: result.asked,
  pages_cancelled: result.cancelled,
  row_elements_most: result.mostRows,
  page_elements_most: result.mostElements,
  last_row_reached: true,
  load_average: loadavg()[0].toFixed(2),
};
const scrolled = `scrolling ${ROWS.toLocaleString('en')} rows in ${seconds} s`;
figures.figures = [
  ['scroll_frame_p50_ms', `frame time, ${scrolled}: p50`, figures.p50_ms, 'ms'],
  ['scroll_frame_p95_ms', `frame time, ${scrolled}: p95`, figures.p95_ms, 'ms'],
  ['scroll_frame_max_ms', `frame time, ${scrolled}: max`, figures.max_ms, 'ms'],
  ['scroll_frames_over_25_ms', 'frames over 25 ms (a refresh missed)', figures.missed_a_refresh, 'frames'],
  ['scroll_long_tasks', 'long tasks (≥ 50 ms)', figures.long_tasks, 'tasks'],
  ['scroll_longest_task_ms', 'longest task', figures.longest_task_ms, 'ms'],
  ['scroll_row_elements_most', 'row elements in the DOM, most at once', figures.row_elements_most, 'elements'],
  ['scroll_page_elements_most', "elements on the page, most at once", figures.page_elements_most, 'elements'],
  ['scroll_pages_asked', 'pages of rows asked for', figures.pages_asked, 'pages'],
  ['scroll_pages_cancelled', 'pages cancelled as scrolled past', figures.pages_cancelled, 'pages'],
].map(([key, label, value, unit]) => ({ key, label, value, unit }));
console.log(JSON.stringify(figures, null, 2));
if (jsonOut) writeFileSync(jsonOut, JSON.stringify(figures, null, 2));
