// The README's pictures of the operator console, from a running demo (`cargo xtask demo`):
//   NODE_PATH=~/.cache/livequeue/playwright/node_modules node docs/screenshots/console.js http://127.0.0.1:8080 docs/screenshots [operator-token]
// console-sign-in.png: a wrong token refused. console.png: the demo drop, live.
// console-million.png: a line of 1,000,000 (made with the console's own "Add synthetic
// shoppers" on a new experience) at its last row. console-dark.png: the same, dark.
// Each waits for what makes it that picture, not a fixed time. With AXE=<path of axe-core's
// axe.min.js>, each picture is also checked for WCAG 2.2 A/AA violations (printed).
const { chromium } = require('playwright-core');

const [base, out, operator = 'demo-operator'] = process.argv.slice(2);

async function api(method, path, body) {
  const answer = await fetch(base + path, {
    method,
    headers: { Authorization: `Bearer ${operator}`, 'Content-Type': 'application/json' },
    body: body && JSON.stringify(body),
  });
  return { status: answer.status, body: await answer.json().catch(() => null) };
}

// Takes the picture `file`, and with AXE set runs axe-core's WCAG rules on the page as shot.
async function shoot(page, file, options = {}) {
  await page.screenshot({ path: `${out}/${file}`, ...options });
  if (!process.env.AXE) return;
  await page.addScriptTag({ path: process.env.AXE });
  const found = await page.evaluate(async () =>
    (await axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21aa', 'wcag22aa'] })).violations
      .map((v) => `${v.id} (${v.nodes.length}): ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`));
  console.log(`${file}: axe: ${found.length ? found.join('; ') : 'no violations'}`);
}

async function signIn(page, token) {
  await page.goto(`${base}/operator/`);
  await page.fill('#lq-token', token);
  await page.press('#lq-token', 'Enter');
}

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--headless=new', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 1100 }, bypassCSP: !!process.env.AXE });
  const page = await context.newPage();

  await signIn(page, 'wrong-token');
  await page.waitForFunction(() => /refused/.test(document.querySelector('#lq-token-error')?.textContent ?? ''));
  await shoot(page, 'console-sign-in.png');

  await signIn(page, operator);
  await page.waitForSelector('.link.live');
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll('.list .row')].filter((r) => r.style.display !== 'none');
    return rows.length > 0 && rows.every((r) => !r.classList.contains('pending'));
  });
  // A few seconds of figures for the sparkline and the observed rate.
  await page.waitForTimeout(3000);
  await page.fill('#lq-admit', '25');
  await page.click('form:has(#lq-admit) button');
  await page.waitForFunction(() => /Admitted/.test(document.querySelector('.notice').textContent));
  await shoot(page, 'console.png', { fullPage: true });

  if ((await api('GET', '/api/admin/experiences/million')).status === 404) {
    await page.fill('#lq-new-id', 'million');
    await page.fill('#lq-new-name', 'A million in line');
    await page.fill('#lq-new-stock', '1000');
    await page.fill('#lq-new-rate', '0');
    await page.click('form.create button');
    await page.waitForFunction(() => document.querySelector('#lq-experience').value === 'million');
    await page.waitForSelector('.link.live');
    await page.fill('#lq-synthetic', '1,000,000');
    await page.click('form:has(#lq-synthetic) button');
    await page.waitForFunction(() => /synthetic shoppers joined/.test(document.querySelector('.notice').textContent));
  } else {
    await page.selectOption('#lq-experience', 'million');
  }
  await page.waitForFunction(() => document.querySelector('.list')?.getAttribute('aria-rowcount') === '1000000');
  await page.focus('.list');
  await page.keyboard.press('End');
  const lastRowLoaded = () => [...document.querySelectorAll('.list .row')]
    .some((r) => r.querySelector('.place').textContent === '#1,000,000' && !r.classList.contains('pending'));
  await page.waitForFunction(lastRowLoaded);
  await shoot(page, 'console-million.png', { fullPage: true });

  await page.emulateMedia({ colorScheme: 'dark' });
  await page.waitForTimeout(300);
  await shoot(page, 'console-dark.png', { fullPage: true });

  await browser.close();
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
