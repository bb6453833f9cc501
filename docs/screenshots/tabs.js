// Tabs sharing one connection, tried as a shopper would, against a running demo
// (`cargo xtask demo`):
//   NODE_PATH=~/.cache/livequeue/playwright/node_modules node docs/screenshots/tabs.js http://127.0.0.1:8080 docs/screenshots
// Opens the demo's quick drop with the debug panel (`?debug=1`) in 8 tabs of one browser
// (the first joins, the others find the saved place), waits until one leads and 7 follow it,
// prints each tab's `tabs` row and status and the server's open connections (`/metrics`),
// takes `tabs-leader.png` and `tabs-follower.png` (390 px wide, the whole page), then closes
// the tabs one by one, the leader first each time, printing what the others show.
const { chromium } = require('playwright-core');

const [base, out] = process.argv.slice(2);
const url = `${base}/?experience=demo-quick&join=auto&debug=1`;
const TABS = Number(process.env.TABS || 8);

// The server's open shopper connections, all transports.
async function connections() {
  const text = await (await fetch(`${base}/metrics`)).text();
  return text
    .split('\n')
    .filter(line => line.startsWith('livequeue_connections{'))
    .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
}

// What a tab shows: its debug row `tabs`, its status, the place.
async function look(page) {
  return page.evaluate(() => {
    const dts = [...document.querySelectorAll('.lq-debug dt')].map(d => d.textContent);
    const dds = [...document.querySelectorAll('.lq-debug dd')].map(d => d.textContent);
    const tabs = dds[dts.indexOf('tabs')] ?? '';
    return {
      tabs,
      role: tabs.split(' · ')[0],
      status: document.querySelector('.lq-connection')?.dataset.status ?? '',
      place: document.querySelector('.lq-position-value')?.textContent ?? '',
    };
  });
}

// Waits until every page is Live and exactly one leads, the others following it.
async function settled(pages) {
  for (let i = 0; i < 200; i++) {
    const looks = await Promise.all(pages.map(look));
    const leaders = looks.filter(l => l.role === 'leader');
    const leader = leaders[0]?.tabs.split(' · leader ')[1];
    if (leaders.length === 1 && looks.every(l => l.status === 'live' && l.tabs.endsWith(` · leader ${leader}`))) {
      return looks;
    }
    await new Promise(r => setTimeout(r, 100));
  }
  throw new Error('the tabs did not settle on one leader');
}

(async () => {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking'],
  });
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const pages = [];
  for (let i = 0; i < TABS; i++) {
    const page = await context.newPage();
    await page.goto(url);
    await page.waitForSelector('.lq-connection[data-status="live"]');
    pages.push(page);
  }
  let looks = await settled(pages);
  looks.forEach((l, i) => console.log(`tab ${i + 1}: ${l.tabs} (${l.status})`));
  console.log(`server: ${await connections()} connection(s) for ${pages.length} tabs`);

  if (out) {
    const leader = pages[looks.findIndex(l => l.role === 'leader')];
    const follower = pages[looks.findIndex(l => l.role === 'follower')];
    for (const [page, file] of [[leader, 'tabs-leader.png'], [follower, 'tabs-follower.png']]) {
      await page.bringToFront();
      await page.waitForTimeout(1200); // the place eases to its value
      await page.screenshot({ path: `${out}/${file}`, fullPage: true });
      console.log(`wrote ${out}/${file}`);
    }
  }

  while (pages.length > 1) {
    const index = looks.findIndex(l => l.role === 'leader');
    await pages[index].close();
    pages.splice(index, 1);
    looks = await settled(pages);
    const roles = looks.map(l => `${l.role}/${l.status}`).join(' ');
    console.log(`closed the leader: ${pages.length} tab(s) left: ${roles}; server: ${await connections()} connection(s)`);
  }
  await browser.close();
})().catch(e => {
  console.error(e);
  process.exit(1);
});
