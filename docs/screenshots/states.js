// The README's screenshots, one per state, from a running demo (`cargo xtask demo`):
//   NODE_PATH=~/.cache/livequeue/playwright/node_modules node docs/screenshots/states.js http://127.0.0.1:8080 docs/screenshots [operator-token]
// With AXE=<path of axe-core's axe.min.js>, each state is also checked for WCAG 2.2 A/AA
// violations. Each state waits for what makes it that state (not a fixed time), at phone width (390 px)
// unless it says otherwise. The sold-out picture uses the operator API (token `demo-operator`
// by default, as `cargo xtask demo` prints): the demo drop's total is lowered to what is
// already gone (nothing left of a known total is sold out), then raised back.
const { chromium } = require('playwright-core');

const [base, out, operator = 'demo-operator'] = process.argv.slice(2);

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

// [file, query, what to do before the shot (page → Promise), viewport width]
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
];

(async () => {
  const only = process.env.ONLY ? process.env.ONLY.split(',') : null;
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  for (const [file, query, prepare, width = 390] of states) {
    if (only && !only.includes(file)) continue;
    // A fresh context: no saved place, so each state starts as a new shopper.
    const context = await browser.newContext({ viewport: { width, height: 760 }, deviceScaleFactor: 1 });
    const page = await context.newPage();
    page.on('pageerror', e => console.log(`${file}: pageerror: ${e.message}`));
    await page.goto(base + '/' + query);
    const done = await prepare(page, context);
    if (done !== 'shot') await page.screenshot({ path: `${out}/${file}` });
    if (process.env.AXE) {
      // WCAG 2.x A/AA rules of axe-core (npm `axe-core`), on the state as shot.
      await page.addScriptTag({ path: process.env.AXE });
      const found = await page.evaluate(async () =>
        (await axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21aa', 'wcag22aa'] })).violations
          .map(v => `${v.id} (${v.nodes.length}): ${v.nodes.map(n => n.target.join(' ')).join(', ')}`));
      console.log(`${file}: axe: ${found.length ? found.join('; ') : 'no violations'}`);
    }
    const text = (await page.innerText('main')).replace(/\s+/g, ' ').slice(0, 200);
    console.log(`${file}: ${text}`);
    await context.close();
  }
  await browser.close();
})();
