// The README's screenshots, one per state, from a running demo (`cargo xtask demo`):
//   NODE_PATH=~/.cache/livequeue/playwright/node_modules node docs/screenshots/states.js http://127.0.0.1:8080 docs/screenshots [operator-token]
// With AXE=<path of axe-core's axe.min.js>, each state is also checked for WCAG 2.2 A/AA
// violations. Each state waits for what makes it that state (not a fixed time), at phone width (390 px)
// unless it says otherwise. The sold-out picture uses the operator API (token `demo-operator`
// by default, as `cargo xtask demo` prints): the demo drop's total is lowered to what is
// already gone (nothing left of a known total is sold out), then raised back.
// The shop picture opens the demo shop (`--demo`), at SHOP=<its URL> or, by default, the
// server's port + 1 as `cargo xtask demo` serves it. ONLY=a.png,b.png takes only those.
const { chromium } = require('playwright-core');

const [base, out, operator = 'demo-operator'] = process.argv.slice(2);
const shop = process.env.SHOP || (() => {
  const url = new URL(base);
  url.port = String(Number(url.port || 80) + 1);
  return url.origin;
})();

async function operatorGet() {
  const answer = await fetch(`${base}/api/admin/experiences/demo-drop`, {
    headers: { Authorization: `Bearer ${operator}` },
  });
  if (!answer.ok) throw new Error(`GET demo-drop: ${answer.status}`);
  return answer.json();
}

async function operatorPatch(body) {
  const answer = await fetch(`${base}/api/admin/experiences/demo-drop`, {
    method: 'PATCH',
    headers: { Authorization: `Bearer ${operator}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!answer.ok) throw new Error(`PATCH demo-drop: ${answer.status}`);
  return answer.json();
}

// In line on the big drop, live, the wait known (in any language: it has a digit).
async function inLine(page) {
  await page.waitForSelector('.lq-connection[data-status="live"]');
  await page.waitForSelector('.lq-position-value');
  await page.waitForFunction(() => /\d/.test(document.querySelector('.lq-wait')?.textContent ?? ''));
}

// [file, query (or an absolute URL), what to do before the shot (page → Promise), viewport
// width, viewport height]
const states = [
  ['join.png', '?experience=demo-drop', async page => {
    await page.waitForSelector('[data-action=join]');
  }],
  ['widget.png', '?experience=demo-drop', async page => {
    await page.click('[data-action=join]');
    await page.waitForSelector('.lq-connection[data-status="live"]');
    await page.waitForSelector('.lq-odds:not([hidden])');
    await page.waitForTimeout(1500);
  }],
  ['wide.png', '?experience=demo-drop', async page => {
    await page.click('[data-action=join]');
    await page.waitForSelector('.lq-connection[data-status="live"]');
    await page.waitForTimeout(1500);
  }, 900],
  ['polling.png', '?experience=demo-drop&join=auto&transport=poll', async page => {
    await page.waitForSelector('.lq-connection[data-status="polling"]');
    await page.waitForTimeout(2500);
  }],
  // On SSE: the page's routes can refuse its requests (a WebSocket would bypass them).
  ['reconnecting.png', '?experience=demo-drop&join=auto&transport=sse', async (page, context) => {
    await page.waitForSelector('.lq-connection[data-status="live"]');
    // Every way to the server fails from now on; going offline and back makes the widget
    // open a new connection, which then keeps failing: Reconnecting… with its backoff.
    await page.route(/\/(ws|api\/sse|api\/queue)\//, route => route.abort());
    await context.setOffline(true);
    await page.waitForSelector('.lq-connection[data-status="offline"]');
    await context.setOffline(false);
    await page.waitForSelector('.lq-connection[data-status="reconnecting"]');
    await page.waitForTimeout(12000);
  }],
  ['sold-out.png', '?experience=demo-drop&join=auto', async page => {
    await page.waitForSelector('.lq-position-value');
    const { stock } = await operatorGet();
    // Units come and go while this runs (turns expire, carts change): lower the total
    // until nothing is left.
    for (let left = stock; left.available > 0;) {
      ({ stock: left } = await operatorPatch({ stock: left.total - left.available }));
    }
    try {
      await page.waitForSelector('main[data-stage="sold_out"]');
      await page.waitForTimeout(800);
      await page.screenshot({ path: `${out}/sold-out.png` });
    } finally {
      await operatorPatch({ stock: stock.total });
    }
    return 'shot';
  }],
  ['admitted.png', '?experience=demo-quick', async page => {
    await page.click('[data-action=join]');
    await page.waitForSelector('.lq-admission-title', { timeout: 120000 });
    await page.click('[data-action=add]');
    await page.waitForSelector('.lq-add:text("Add another")');
    await page.waitForTimeout(500);
  }],
  ['more-time.png', '?experience=demo-quick&join=auto', async page => {
    await page.waitForSelector('.lq-admission-title', { timeout: 120000 });
    await page.waitForSelector('.lq-extend:not([hidden])', { timeout: 120000 });
    await page.waitForTimeout(500);
  }],
  ['debug.png', '?experience=demo-drop&join=auto&debug=1', async page => {
    await page.waitForSelector('.lq-debug');
    await page.waitForTimeout(1500);
  }],
  ['failed.png', '?experience=demo-drop&consumerId=nobody', async page => {
    await page.waitForSelector('.lq-problem');
    await page.waitForTimeout(500);
  }],
  // The demo shop's product page, the widget embedded by embed.js from the queue's origin:
  // the shop's Queue now button joins, the frame then shows a place and follows its height.
  ['shop.png', `${shop}/`, async page => {
    const frame = page.frameLocator('#queue iframe');
    await frame.locator('[data-action=join]').waitFor();
    await page.click('#queue-now');
    await frame.locator('.lq-position-value').waitFor();
    await frame.locator('.lq-connection[data-status="live"]').waitFor();
    await page.waitForFunction(() => /in line|next/.test(document.querySelector('#queue-status').textContent));
    await page.waitForTimeout(1500);
    // Sized to its content: the frame as tall as the widget's document, no inner scrollbar.
    const iframe = await page.$('#queue iframe');
    const { width: frameWidth, height: frameHeight } = await iframe.boundingBox();
    const { docWidth, docHeight } = await (await iframe.contentFrame()).evaluate(() => ({
      docWidth: document.documentElement.scrollWidth,
      docHeight: document.documentElement.scrollHeight,
    }));
    console.log(`shop.png: frame ${frameWidth}×${frameHeight}, widget document ${docWidth}×${docHeight}`);
    if (docHeight > frameHeight + 1 || docWidth > frameWidth + 1) {
      throw new Error(`shop.png: the widget overflows its frame (${docWidth}×${docHeight} in ${frameWidth}×${frameHeight})`);
    }
    if (frameHeight > docHeight + 40) {
      throw new Error(`shop.png: the frame is taller than the widget (${frameHeight} for ${docHeight})`);
    }
    await page.screenshot({ path: `${out}/shop.png`, fullPage: true });
    return 'shot';
  }, 1100, 900],
  // German, with its plural forms: "Etwa 40 Minuten", "4.999 Personen vor Ihnen".
  ['german.png', '?experience=demo-drop&join=auto&locale=de', async page => {
    await inLine(page);
    await page.waitForFunction(() => /Minuten|Stunden/.test(document.querySelector('.lq-wait').textContent));
    await page.waitForSelector('.lq-odds:not([hidden])');
    await page.waitForTimeout(1500);
    // The whole page (the German sentences are longer: the stock goes below 760 px).
    await page.screenshot({ path: `${out}/german.png`, fullPage: true });
    // Every word the shopper can see or hear, to read for leftover English.
    console.log('german.png: all text:', await page.evaluate(() => [
      document.documentElement.lang, document.title, document.body.innerText.replace(/\s+/g, ' '),
      ...[...document.querySelectorAll('[aria-label],[title],[aria-valuetext]')]
        .map(e => [e.getAttribute('aria-label'), e.getAttribute('title'), e.getAttribute('aria-valuetext')].filter(Boolean).join(' / ')),
    ].join(' | ')));
    return 'shot';
  }],
  ['dark.png', '?experience=demo-drop&join=auto&theme=dark', async page => {
    await inLine(page);
    await page.waitForTimeout(1500);
  }],
  // The narrowest width the widget supports: nothing may stick out sideways.
  ['narrow.png', '?experience=demo-drop&join=auto', async page => {
    await inLine(page);
    await page.waitForSelector('.lq-odds:not([hidden])');
    await page.waitForTimeout(1500);
    const wide = await page.evaluate(() => ({
      page: document.documentElement.scrollWidth,
      // Past the right edge, or cut off inside a box of its own (text that does not fit);
      // screen-reader-only text (clipped to nothing on purpose) aside.
      over: [...document.querySelectorAll('body *')]
        .filter(e => getComputedStyle(e).clip === 'auto')
        .filter(e => e.getBoundingClientRect().right > 320.5
          || e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== 'visible')
        .map(e => `${e.tagName.toLowerCase()}.${[...e.classList].join('.')}`),
    }));
    if (wide.page > 320 || wide.over.length) {
      throw new Error(`narrow.png: overflows 320 px: scrollWidth ${wide.page}; ${wide.over.join(', ')}`);
    }
  }, 320],
];

(async () => {
  const only = process.env.ONLY ? process.env.ONLY.split(',') : null;
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  for (const [file, query, prepare, width = 390, height = 760] of states) {
    if (only && !only.includes(file)) continue;
    // A fresh context: no saved place, so each state starts as a new shopper. Axe is
    // injected as a script, which the widget page's CSP would refuse.
    const context = await browser.newContext({
      viewport: { width, height }, deviceScaleFactor: 1, bypassCSP: !!process.env.AXE,
    });
    const page = await context.newPage();
    page.on('pageerror', e => console.log(`${file}: pageerror: ${e.message}`));
    page.on('console', m => { if (m.type() === 'error') console.log(`${file}: console: ${m.text()}`); });
    await page.goto(/^https?:/.test(query) ? query : base + '/' + query);
    const done = await prepare(page, context);
    if (done !== 'shot') await page.screenshot({ path: `${out}/${file}` });
    if (process.env.AXE) {
      // WCAG 2.x A/AA rules of axe-core (npm `axe-core`), on the state as shot.
      // In every frame on its own (the shop's widget is another origin, which axe does not
      // reach from the shop's page).
      for (const frame of page.frames()) {
        await frame.addScriptTag({ path: process.env.AXE });
        const found = await frame.evaluate(async () =>
          (await axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21aa', 'wcag22aa'], iframes: false })).violations
            .map(v => `${v.id} (${v.nodes.length}): ${v.nodes.map(n => n.target.join(' ')).join(', ')}`));
        const where = frame === page.mainFrame() ? '' : ` (frame ${new URL(frame.url()).origin})`;
        console.log(`${file}: axe${where}: ${found.length ? found.join('; ') : 'no violations'}`);
      }
    }
    const text = (await page.innerText('main')).replace(/\s+/g, ' ').slice(0, 200);
    console.log(`${file}: ${text}`);
    await context.close();
  }
  await browser.close();
})();
