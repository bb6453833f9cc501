// The README's screenshots, one per state, from a running demo (`cargo xtask demo`):
//   NODE_PATH=~/.cache/livequeue/playwright/node_modules node docs/screenshots/states.js http://127.0.0.1:8080 docs/screenshots
// Each state waits for what makes it that state (not a fixed time), then shoots at phone width.
const { chromium } = require('playwright-core');

const states = [
  // [file, query, the condition that makes the state, extra wait in ms for animations]
  ['widget.png', '?experience=demo-drop', '.lq-connection[data-status="live"], .lq-position-value', 1500],
  ['debug.png', '?experience=demo-drop&debug=1', '.lq-debug', 1500],
  ['polling.png', '?experience=demo-drop&transport=poll', '.lq-position-value', 2500],
  ['failed.png', '?experience=demo-drop&consumerId=nobody', '.lq-problem', 500],
  ['admitted.png', '?experience=demo-quick', '.lq-admission-title', 1500],
];

(async () => {
  const [base, out] = process.argv.slice(2);
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  for (const [file, query, selector, settle] of states) {
    // A fresh context: no saved place, so each state starts as a new shopper.
    const context = await browser.newContext({ viewport: { width: 390, height: 720 }, deviceScaleFactor: 1 });
    const page = await context.newPage();
    page.on('pageerror', e => console.log(`${file}: pageerror: ${e.message}`));
    await page.goto(base + '/' + query);
    await page.waitForSelector(selector, { timeout: 120000 });
    await page.waitForTimeout(settle);
    await page.screenshot({ path: `${out}/${file}` });
    const text = (await page.innerText('main')).replace(/\s+/g, ' ').slice(0, 160);
    console.log(`${file}: ${text}`);
    await context.close();
  }
  await browser.close();
})();
