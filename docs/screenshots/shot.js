// Screenshot of a page in Debian's Chromium: node shot.js URL OUT.png WIDTH HEIGHT WAIT_MS
// (NODE_PATH must point at an install of playwright-core).
const { chromium } = require('playwright-core');
(async () => {
  const [url, out, w, h, wait] = process.argv.slice(2);
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox','--disable-gpu','--disable-background-networking','--disable-component-update','--disable-sync','--no-first-run'] });
  const page = await browser.newPage({ viewport: { width: +w, height: +h } });
  page.on('console', m => console.log('console:', m.type(), m.text()));
  page.on('pageerror', e => console.log('pageerror:', e.message));
  await page.goto(url);
  await page.waitForTimeout(+wait);
  await page.screenshot({ path: out, fullPage: false });
  await browser.close();
})();
