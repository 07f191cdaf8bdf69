// Browser tests of the console in headless Chromium, driven by
// playwright-core. scripts/test.sh starts `palisade serve` over a database
// holding an analysed plant capture and passes:
//   PALISADE_URL             the console's URL
//   PALISADE_ADMIN_PASSWORD  the first admin's password (must be changed)
//   PALISADE_OUTPUT          where screenshots go
// Each page is opened and photographed; the inventory is filtered, a device
// is opened from the map, an alert changes status, an uploaded capture's
// devices appear in the inventory, and advisories imported through the UI
// show on the Vulnerabilities, Risk and device pages and in the reports.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { chromium } from 'playwright-core';

const BASE = process.env.PALISADE_URL;
const FIRST_PASSWORD = process.env.PALISADE_ADMIN_PASSWORD;
const OUTPUT = process.env.PALISADE_OUTPUT || 'test-output/browser';
const NEW_PASSWORD = 'browser-test-password';
const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../../crates/vulndb/tests/fixtures');
const ADVISORIES = ['nvd-cve-ics.json', 'nvd-cpe-dictionary.json', 'kev-catalog.json', 'csaf-acuity-test-2099-01.json',
  'csaf-areva-ptc-test-2099-0042.json', 'csaf-rockwell-ra-test-1756.json', 'csaf-siemens-ssa-test-0315.json'];

let browser;
let page;
const pageErrors = [];

async function shot(name) {
  await page.screenshot({ path: join(OUTPUT, `${name}.png`), fullPage: false });
}

async function open(hash, heading) {
  await page.goto(`${BASE}/#/${hash}`);
  await page.locator('h1', { hasText: heading }).first().waitFor();
}

/** A classic pcap with ARP replies from `count` new hosts 192.168.77.10.. (MACs 02:77:...). */
function arpCapture(count) {
  const packets = [];
  for (let i = 0; i < count; i++) {
    const mac = [0x02, 0x77, 0, 0, 0, 0x10 + i];
    const ip = [192, 168, 77, 10 + i];
    const frame = Buffer.alloc(42);
    Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]).copy(frame, 0);
    Buffer.from(mac).copy(frame, 6);
    frame.writeUInt16BE(0x0806, 12);
    frame.writeUInt16BE(1, 14); // Ethernet
    frame.writeUInt16BE(0x0800, 16); // IPv4
    frame[18] = 6;
    frame[19] = 4;
    frame.writeUInt16BE(2, 20); // reply (gratuitous)
    Buffer.from(mac).copy(frame, 22);
    Buffer.from(ip).copy(frame, 28);
    Buffer.from(mac).copy(frame, 32);
    Buffer.from(ip).copy(frame, 38);
    const header = Buffer.alloc(16);
    header.writeUInt32LE(1_736_900_000 + i, 0);
    header.writeUInt32LE(0, 4);
    header.writeUInt32LE(frame.length, 8);
    header.writeUInt32LE(frame.length, 12);
    packets.push(header, frame);
  }
  const global = Buffer.alloc(24);
  global.writeUInt32LE(0xa1b2c3d4, 0);
  global.writeUInt16LE(2, 4);
  global.writeUInt16LE(4, 6);
  global.writeUInt32LE(65535, 16);
  global.writeUInt32LE(1, 20);
  return Buffer.concat([global, ...packets]);
}

before(async () => {
  assert.ok(BASE, 'PALISADE_URL is set by scripts/test.sh');
  mkdirSync(OUTPUT, { recursive: true });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = await browser.newPage({ viewport: { width: 1400, height: 900 }, acceptDownloads: true });
  page.on('pageerror', (e) => pageErrors.push(e.message));
});

after(async () => {
  await browser?.close();
});

test('log in, and the first login asks for a new password', async () => {
  await page.goto(BASE);
  await page.locator('#login-form').waitFor();
  await shot('login');
  await page.fill('#login-username', 'admin');
  await page.fill('#login-password', 'not the password');
  await page.click('#login-submit');
  await page.locator('#login-error', { hasText: 'wrong user name or password' }).waitFor();
  await page.fill('#login-password', FIRST_PASSWORD);
  await page.click('#login-submit');
  await page.locator('#password-form').waitFor();
  await shot('password');
  await page.fill('input[name=current]', FIRST_PASSWORD);
  await page.fill('input[name=new_password]', NEW_PASSWORD);
  await page.fill('input[name=confirm]', NEW_PASSWORD);
  await page.click('#password-form button[type=submit]');
  await page.locator('h1', { hasText: 'Overview' }).waitFor();
  assert.match(await page.locator('#whoami').innerText(), /admin/);
});

test('every page opens', async () => {
  const pages = [
    ['overview', 'Overview'], ['devices', 'Inventory'], ['alerts', 'Alerts'], ['map', 'Network map'], ['events', 'Events'],
    ['upload', 'Upload capture'], ['users', 'Users'], ['settings', 'Settings'], ['vulnerabilities', 'Vulnerabilities'], ['risk', 'Risk'], ['baseline', 'Baseline'],
  ];
  for (const [hash, heading] of pages) {
    await open(hash, heading);
    await page.waitForLoadState('networkidle');
    await shot(hash);
    assert.equal(await page.locator('.card.error').count(), 0, `${hash} shows an error`);
  }
  await open('overview', 'Overview');
  assert.ok(Number(await page.locator('.stat .value').first().innerText()) > 10, 'the overview counts the devices');
  assert.ok(await page.locator('.chart svg rect').count() > 0, 'the charts are drawn');
  assert.deepEqual(pageErrors, []);
});

test('the inventory filters, sorts and searches', async () => {
  await open('devices', 'Inventory');
  const rows = page.locator('.table-wrap tbody tr');
  const before = await rows.count();
  await page.selectOption('#filter-type', 'plc');
  await page.waitForFunction(() => [...document.querySelectorAll('.table-wrap tbody tr')].every((r) => r.innerText.includes('plc')));
  const plcs = await rows.count();
  assert.ok(plcs > 0 && plcs < before, `filtering by type keeps ${plcs} of ${before}`);
  assert.match(page.url(), /type=plc/);
  assert.match(await page.locator('#device-count').innerText(), new RegExp(`${plcs} of ${plcs} devices`));
  await shot('devices-plc');
  await page.selectOption('#filter-type', '');
  await page.fill('#device-search', 'scada');
  await page.waitForFunction(() => document.querySelectorAll('.table-wrap tbody tr').length === 1);
  assert.match(await rows.first().innerText(), /SCADA01/);
  await page.fill('#device-search', '');
  await page.waitForFunction((n) => document.querySelectorAll('.table-wrap tbody tr').length === n, before);
  await page.locator('th', { hasText: 'IP' }).click();
  await page.locator('th.sorted', { hasText: 'IP' }).waitFor();
  const href = await page.locator('#export-csv').getAttribute('href');
  assert.match(href, /inventory\/export/);
});

test('a device opens from the map', async () => {
  await open('map', 'Network map');
  await page.locator('canvas[data-ready=true]').waitFor();
  const map = await (await page.request.get(`${BASE}/api/v1/map`)).json();
  const target = map.nodes.find((n) => n.name === 'SCADA01') || map.nodes[0];
  await page.waitForTimeout(300);
  const at = await page.locator('canvas').evaluate((canvas, id) => canvas.nodePosition(id), target.id);
  assert.ok(at, 'the device is drawn');
  await page.mouse.move(at.x, at.y);
  await page.locator('.map-tip').waitFor();
  await shot('map-hover');
  await page.mouse.click(at.x, at.y);
  await page.waitForURL(new RegExp(`#/devices/${target.id}$`));
  await page.locator('h2', { hasText: 'Facts and their sources' }).waitFor();
  await shot('device');
});

test('an alert changes status', async () => {
  await open('alerts', 'Alerts');
  await page.selectOption('#alert-status', '');
  const first = page.locator('.table-wrap tbody tr').first();
  await first.waitFor();
  await first.locator('td').nth(2).click();
  await page.locator('h2', { hasText: 'Why it fired' }).waitFor();
  await shot('alert');
  await page.click('button[data-status=acknowledged]');
  await page.locator('#alert-status', { hasText: 'acknowledged' }).waitFor();
  await page.click('button[data-status=closed]');
  await page.locator('#alert-status', { hasText: 'closed' }).waitFor();
  const id = page.url().match(/alerts\/(\d+)/)[1];
  const stored = await (await page.request.get(`${BASE}/api/v1/alerts/${id}`)).json();
  assert.equal(stored.alert.status, 'closed');
});

test('an uploaded capture is analysed and its devices appear', async () => {
  const file = join(tmpdir(), `palisade-browser-${process.pid}.pcap`);
  writeFileSync(file, arpCapture(3));
  await open('upload', 'Upload capture');
  await page.setInputFiles('#capture-file', file);
  await page.locator('#upload-status', { hasText: 'Done' }).waitFor({ timeout: 60_000 });
  await page.locator('#jobs .job[data-state=done]').first().waitFor();
  assert.match(await page.locator('#jobs').innerText(), /palisade-browser-\d+\.pcap/);
  await shot('upload-done');
  const jobs = await (await page.request.get(`${BASE}/api/v1/captures`)).json();
  const job = jobs.items.find((j) => /palisade-browser-\d+\.pcap/.test(j.name));
  assert.equal(job.state, 'done');
  assert.equal(job.outcome.new_devices, 3, 'the job result counts the new devices');
  assert.match(await page.locator('#upload-status').innerText(), /3 new.*alerts raised or updated/);
  if (job.outcome.alerts > 0) {
    // Detection ran on the upload: after the demo's learning period, new hosts are alerts.
    await open('alerts?status=open&search=192.168.77', 'Alerts');
    await page.locator('.table-wrap tbody tr').first().waitFor();
    await shot('upload-alerts');
  }
  await open('devices?search=192.168.77', 'Inventory');
  await page.waitForFunction(() => document.querySelectorAll('.table-wrap tbody tr').length === 3);
  const text = await page.locator('.table-wrap tbody').innerText();
  for (const ip of ['192.168.77.10', '192.168.77.11', '192.168.77.12']) assert.ok(text.includes(ip), `${ip} is in the inventory`);
  await shot('devices-uploaded');
  assert.deepEqual(pageErrors, []);
});

test('advisories imported through the UI show as vulnerabilities, risk and reports', async () => {
  await open('vulnerabilities', 'Vulnerabilities');
  // A file of no known format is refused, and nothing is imported.
  await page.setInputFiles('#vulndb-files', [{ name: 'notes.json', mimeType: 'application/json', buffer: Buffer.from('{"hello": 1}') }]);
  await page.click('#vulndb-import');
  await page.locator('#import-message.error', { hasText: 'nothing was imported' }).waitFor();
  assert.match(await page.locator('#import-result').innerText(), /not an NVD CVE/);
  // A feed that breaks in the middle passes the check, then the background import refuses it.
  const feed = readFileSync(join(FIXTURES, 'nvd-cve-ics.json'));
  await page.setInputFiles('#vulndb-files', [{ name: 'broken.json', mimeType: 'application/json', buffer: feed.subarray(0, feed.length / 2) }]);
  await page.click('#vulndb-import');
  await page.locator('#import-message.error', { hasText: 'refused while importing' }).waitFor();
  assert.match(await page.locator('#import-result').innerText(), /broken\.json/);
  // The import runs in the background: its progress bar shows, then each file's result.
  await page.evaluate(() => {
    window.importProgressSeen = false;
    const added = (records) => records.some((r) => [...r.addedNodes].some((n) => n.id === 'import-progress'));
    new MutationObserver((records) => { if (added(records)) window.importProgressSeen = true; })
      .observe(document.querySelector('#import-result'), { childList: true, subtree: true });
  });
  await page.setInputFiles('#vulndb-files', ADVISORIES.map((f) => join(FIXTURES, f)));
  await page.click('#vulndb-import');
  await page.locator('#import-message', { hasText: `Imported ${ADVISORIES.length} file(s)` }).waitFor();
  assert.ok(await page.evaluate(() => window.importProgressSeen), 'the progress bar was shown');
  const results = await page.locator('#import-result').innerText();
  for (const f of ADVISORIES) assert.ok(results.includes(f), `${f} is listed with its result`);
  await page.locator('#vuln-table tbody tr', { hasText: 'CVE-2099-1001' }).first().waitFor();
  await shot('vulndb-import');
  const kevRow = page.locator('#vuln-table tbody tr', { hasText: 'CVE-2099-1001' }).first();
  assert.match(await kevRow.innerText(), /KEV/);
  assert.match(await kevRow.innerText(), /10\.20\.20\.110/);
  await page.check('#vuln-kev');
  await page.waitForFunction(() => /kev=true/.test(location.hash));
  await page.waitForFunction(() => [...document.querySelectorAll('#vuln-table tbody tr')].every((r) => r.innerText.includes('KEV')));
  const evidence = page.locator('#vuln-table details.evidence').first();
  await evidence.locator('summary').click();
  assert.match(await evidence.innerText(), /from .*\(/);
  await shot('vulnerabilities');

  await open('risk', 'Risk');
  await page.locator('#risk-score').waitFor();
  assert.ok(Number(await page.locator('#risk-score').innerText()) > 0, 'the site has a risk score');
  assert.ok(await page.locator('#score-chart svg rect').count() > 0, 'the score chart is drawn');
  assert.match(await page.locator('#site-recs').innerText(), /CVE-2099-1001|known exploited/i);
  assert.equal(await page.locator('.score-part').count() >= 3, true, 'the site score shows its parts');
  await shot('risk');

  const [report] = await Promise.all([page.context().waitForEvent('page'), page.click('#open-risk-report')]);
  await report.waitForLoadState('load');
  assert.match(await report.locator('h1').first().innerText(), /risk/i);
  assert.match(await report.content(), /CVE-2099-1001/);
  await report.screenshot({ path: join(OUTPUT, 'risk-report.png'), fullPage: false });
  await report.close();
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-vulns-report')]);
  assert.match(download.suggestedFilename(), /^palisade-vulnerability-report-\d{4}-\d{2}-\d{2}\.html$/);

  const found = await (await page.request.get(`${BASE}/api/v1/devices?search=10.20.20.110`)).json();
  const plc = found.items.find((d) => d.ips.includes('10.20.20.110'));
  await open(`devices/${plc.id}`, plc.hostnames[0] || '10.20.20.110');
  await page.locator('#device-vulns tbody tr', { hasText: 'CVE-2099-1001' }).waitFor();
  assert.ok(Number(await page.locator('#risk-score').innerText()) > 0, 'the device has a risk score');
  assert.match(await page.locator('.card', { hasText: 'Recommendations' }).first().innerText(), /known exploited|CVE-2099-1001/i);
  await shot('device-vulns');
  assert.deepEqual(pageErrors, []);
});

test('the baseline page shows what is new since learning', async () => {
  await open('baseline', 'Baseline');
  await page.locator('.stat .label', { hasText: 'Learned facts' }).waitFor();
  assert.ok(Number(await page.locator('.stat .value').first().innerText()) > 0, 'the demo plant learned its baseline');
  await page.locator('h2', { hasText: 'New devices' }).waitFor();
  await shot('baseline-diff');
  assert.deepEqual(pageErrors, []);
});

test('a site gets a remote sensor, shown with its sync state', async () => {
  await open('settings', 'Settings');
  await page.fill('input[placeholder="New site name"]', 'pump station');
  await page.click('text=Add site');
  await page.locator('td', { hasText: 'pump station' }).first().waitFor();
  await page.selectOption('#sensor-form select[name=site]', { label: 'pump station' });
  await page.fill('#sensor-form input[name=name]', 'station-gw');
  await page.click('#sensor-form button[type=submit]');
  await page.locator('#sensor-token', { hasText: 'pls_' }).waitFor();
  await open('settings', 'Settings');
  await page.locator('#sensors td', { hasText: 'station-gw' }).waitFor();
  assert.match(await page.locator('#sensors').innerText(), /station-gw\s+pump station\s+remote\s+never synced/);
  await shot('sites-sensors');
  // The site selector filters the inventory: the new site has no device yet.
  await open('devices', 'Inventory');
  await page.selectOption('#site-select', { label: 'pump station (0 devices)' });
  await page.locator('.empty', { hasText: 'No device matches' }).waitFor();
  await page.selectOption('#site-select', '');
  assert.deepEqual(pageErrors, []);
});

test('the overview follows the chosen site', async () => {
  await open('overview', 'Overview');
  const shown = () => page.evaluate(() => document.querySelector('.stat .value')?.innerText);
  const all = Number(await shown());
  assert.ok(all > 10, 'every site together');
  await page.selectOption('#site-select', { label: 'pump station (0 devices)' });
  await page.waitForFunction(() => document.querySelector('.stat .value')?.innerText === '0');
  await page.locator('.empty', { hasText: 'No devices yet' }).first().waitFor();
  await shot('overview-site');
  await page.selectOption('#site-select', '1');
  await page.waitForFunction(() => Number(document.querySelector('.stat .value')?.innerText) > 10);
  assert.ok(Number(await shown()) <= all, 'the default site is part of every site');
  await page.selectOption('#site-select', '');
  await page.waitForFunction((n) => document.querySelector('.stat .value')?.innerText === String(n), all);
  assert.deepEqual(pageErrors, []);
});
