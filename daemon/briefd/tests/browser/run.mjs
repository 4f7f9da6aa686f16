// The real-browser check of `briefd serve` (issue 18, bar 1), run by
// daemon/briefd/tests/it/browser.rs once the daemon has written a briefing and `serve` is up.
//
// Usage: node run.mjs '{"base": "http://127.0.0.1:PORT", "out": "DIR", "hostile": "...", "seed": "..."}'
//   base     the server's address
//   out      where the screenshots go
//   hostile  the hostile headline, which must show as text and add nothing to the DOM
//   seed     a word of the seed story's headline (the story the two seed files make)
//
// Headless Chromium (the system's, never a downloaded one) opens the day and the story pages, on
// a desktop and a phone viewport, light and dark, under the server's own CSP. Every check that
// fails is collected; the script prints them and exits 1, or prints a summary and exits 0.
// axe-core is evaluated through the DevTools protocol (Playwright's `evaluate`), which the page's
// CSP does not govern, so the pages are tested with their CSP in force.

import { mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const options = JSON.parse(process.argv[2] ?? '{}');
for (const key of ['base', 'out', 'hostile', 'seed']) {
  if (typeof options[key] !== 'string' || options[key] === '') {
    console.error(`run.mjs: option ${key} is missing`);
    process.exit(2);
  }
}
const base = options.base.replace(/\/$/, '');
mkdirSync(options.out, { recursive: true });

const failures = [];
const notes = [];
function check(ok, message) {
  if (!ok) failures.push(message);
  return ok;
}

const VIEWPORTS = {
  desktop: { width: 1280, height: 900 },
  phone: { width: 390, height: 844 },
};

// The closed network makes Chromium's background services wait on timeouts; these switch them off.
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const profile = mkdtempSync(join(tmpdir(), 'briefd-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ARGS,
  viewport: VIEWPORTS.desktop,
  timeout: 60_000,
});

try {
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(30_000);
  const problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('dialog', async (d) => {
    problems.push(`a dialog opened (${d.type()}: ${d.message()}): script ran`);
    await d.dismiss();
  });
  page.on('request', (r) => {
    if (!r.url().startsWith(base)) problems.push(`request outside the server: ${r.url()}`);
  });

  // --- The day page, desktop, light.
  const response = await page.goto(`${base}/`);
  check(response?.status() === 200, `day page status ${response?.status()}`);
  const csp = response?.headers()['content-security-policy'] ?? '';
  check(csp.startsWith("default-src 'none'"), `day page CSP: ${csp}`);
  await checkStyled(page, 'day');
  const day = await page.evaluate(
    ({ hostile, seed }) => {
      const articles = [...document.querySelectorAll('main article')];
      const seedStories = articles.filter((a) => a.querySelector('h2')?.textContent.includes(seed));
      const hostileHeadlines = articles.filter((a) => a.querySelector('h2')?.textContent.includes(hostile));
      const attrs = [...document.querySelectorAll('*')].flatMap((e) =>
        [...e.attributes].map((a) => a.name).filter((n) => n.startsWith('on') || n === 'style' || n === 'srcdoc'),
      );
      return {
        n_stories: articles.length,
        seed_stories: seedStories.map((a) => ({
          headline: a.querySelector('h2').textContent,
          sources: a.querySelectorAll('ul.sources > li').length,
          sources_heading: [...a.querySelectorAll('h3')].pop()?.textContent,
          href: a.querySelector('h2 a')?.getAttribute('href'),
        })),
        hostile_headlines: hostileHeadlines.map((a) => ({
          text: a.querySelector('h2').textContent,
          href: a.querySelector('h2 a')?.getAttribute('href'),
        })),
        foreign: document.querySelectorAll('script, img, iframe, svg, object, embed, form:not(.search), base, meta[http-equiv]').length,
        search_forms: [...document.querySelectorAll('form.search')].map((f) => `${f.method} ${f.getAttribute('action')}`),
        handler_attrs: attrs,
      };
    },
    { hostile: options.hostile, seed: options.seed },
  );
  notes.push(`day page: ${day.n_stories} stories`);
  check(day.seed_stories.length === 1, `one seed story expected, found ${JSON.stringify(day.seed_stories)}`);
  const seed = day.seed_stories[0];
  if (seed) {
    check(seed.sources === 2 && seed.sources_heading === '2 sources', `the seed story's sources: ${JSON.stringify(seed)}`);
    check(/^story\/[1-9][0-9]*$/.test(seed.href ?? ''), `the seed headline links to its story page: ${seed.href}`);
  }
  check(day.hostile_headlines.length === 1, `the hostile headline shown once as text: ${JSON.stringify(day.hostile_headlines)}`);
  check(day.foreign === 0, `${day.foreign} script/img/iframe/svg/object/embed/form/base/meta-refresh elements on the day page`);
  check(
    day.search_forms.length === 1 && day.search_forms[0] === 'get search',
    `one search form (GET to search) on the served day page: ${JSON.stringify(day.search_forms)}`,
  );
  check(day.handler_attrs.length === 0, `handler or style attributes on the day page: ${day.handler_attrs}`);
  await page.screenshot({ path: join(options.out, 'day-desktop.png'), fullPage: true });
  await axe(page, 'day, desktop, light');

  // --- The seed story's page, reached by its link.
  if (seed?.href) {
    await Promise.all([page.waitForURL(`**/${seed.href}`), page.click(`main article h2 a[href="${seed.href}"]`)]);
    await checkStory(page, seed.headline, 'seed story');
    await page.screenshot({ path: join(options.out, 'story-desktop.png'), fullPage: true });
    await axe(page, 'story, desktop, light');
    // Following a point's link lands on its marked sentence.
    const first = await page.getAttribute('ol.points a[href^="#cite-"]', 'href');
    if (check(first !== null, 'the story page has a point linking to a cited sentence')) {
      await page.click(`ol.points a[href="${first}"]`);
      const target = await page.evaluate(() => document.querySelector(':target')?.tagName ?? null);
      check(target === 'MARK', `following ${first} targets a <mark>, not ${target}`);
    }
  }

  // --- The hostile story's page: the headline is text there too.
  const hostile = day.hostile_headlines[0];
  if (hostile?.href) {
    await page.goto(`${base}/${hostile.href}`);
    const h1 = await page.textContent('h1');
    check(h1 === hostile.text, `hostile story page headline ${JSON.stringify(h1)}`);
    const foreign = await page.evaluate(() => ({
      elements: document.querySelectorAll('script, img, iframe, svg, object, embed, form, base, meta[http-equiv]').length,
      attrs: [...document.querySelectorAll('*')].flatMap((e) =>
        [...e.attributes].map((a) => a.name).filter((n) => n.startsWith('on') || n === 'style' || n === 'srcdoc'),
      ),
    }));
    check(foreign.elements === 0 && foreign.attrs.length === 0, `hostile story page: ${JSON.stringify(foreign)}`);
    await axe(page, 'hostile story, desktop, light');
  }

  // --- Search, through the day page's own form: the seed story is found, links to its page and
  // has its matched words marked; the hostile headline is found and stays text.
  await page.goto(`${base}/`);
  await page.fill('form.search input[name="q"]', options.seed);
  await Promise.all([page.waitForURL('**/search?q=*'), page.click('form.search button[type="submit"]')]);
  const found = await page.evaluate(() => ({
    results: [...document.querySelectorAll('ol.results > li')].map((li) => ({
      href: li.querySelector('h2 a')?.getAttribute('href'),
      marks: [...li.querySelectorAll('mark')].map((m) => m.textContent),
    })),
    value: document.querySelector('form.search input[name="q"]')?.value,
  }));
  notes.push(`search for ${JSON.stringify(options.seed)}: ${found.results.length} result(s)`);
  if (seed?.href) {
    const hit = found.results.find((r) => r.href === seed.href);
    check(hit !== undefined, `searching ${options.seed} finds the seed story (${seed.href}): ${JSON.stringify(found.results)}`);
    check(hit?.marks.some((m) => m.trim() !== '') ?? false, `the seed result marks the matched words: ${JSON.stringify(hit)}`);
  }
  check(found.value === options.seed, `the search box keeps the query: ${JSON.stringify(found.value)}`);
  await checkStyled(page, 'search');
  await page.screenshot({ path: join(options.out, 'search-desktop.png'), fullPage: true });
  await axe(page, 'search, desktop, light');
  const hostileWord = options.hostile.split(/\s+/).pop();
  await page.goto(`${base}/search?q=${encodeURIComponent(options.hostile)}`);
  const hostileSearch = await page.evaluate((hostile) => ({
    headlines: [...document.querySelectorAll('ol.results h2')].map((h) => h.textContent),
    elements: document.querySelectorAll('script, img, iframe, svg, object, embed, base, meta[http-equiv]').length,
    attrs: [...document.querySelectorAll('*')].flatMap((e) =>
      [...e.attributes].map((a) => a.name).filter((n) => n.startsWith('on') || n === 'style' || n === 'srcdoc'),
    ),
    title: document.title,
  }), options.hostile);
  check(
    hostileSearch.headlines.some((h) => h.includes(hostileWord)),
    `searching the hostile headline finds it: ${JSON.stringify(hostileSearch.headlines)}`,
  );
  check(
    hostileSearch.elements === 0 && hostileSearch.attrs.length === 0,
    `hostile search page: ${JSON.stringify(hostileSearch)}`,
  );
  await axe(page, 'hostile search, desktop, light');

  // --- Phone size, light, then dark: no sideways scrolling, and axe again (contrast differs).
  for (const scheme of ['light', 'dark']) {
    await page.setViewportSize(VIEWPORTS.phone);
    await page.emulateMedia({ colorScheme: scheme });
    const suffix = scheme === 'light' ? 'phone' : 'phone-dark';
    await page.goto(`${base}/`);
    await checkFits(page, `day, phone, ${scheme}`);
    await page.screenshot({ path: join(options.out, `day-${suffix}.png`), fullPage: true });
    await axe(page, `day, phone, ${scheme}`);
    if (seed?.href) {
      await page.goto(`${base}/${seed.href}`);
      await checkFits(page, `story, phone, ${scheme}`);
      await page.screenshot({ path: join(options.out, `story-${suffix}.png`), fullPage: true });
      await axe(page, `story, phone, ${scheme}`);
    }
  }
  for (const p of problems) failures.push(p);
} catch (e) {
  failures.push(`the run stopped: ${e.stack ?? e}`);
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}

for (const n of notes) console.log(n);
if (failures.length > 0) {
  console.error(`${failures.length} check(s) failed:`);
  for (const f of failures) console.error(`- ${f}`);
  process.exit(1);
}
console.log('browser checks passed');

/** The hashed style sheet applied (the CSP let it through): the body is the sheet's 46rem column. */
async function checkStyled(page, what) {
  const width = await page.evaluate(() => getComputedStyle(document.body).maxWidth);
  check(width === '736px', `${what}: the page's style did not apply (body max-width ${width})`);
}

/** Nothing wider than the viewport. */
async function checkFits(page, what) {
  const { scroll, inner } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    inner: window.innerWidth,
  }));
  check(scroll <= inner, `${what}: the page is ${scroll}px wide in a ${inner}px viewport`);
}

/** The story page of `headline`: its sources, its cited sentences marked, its points linking to them. */
async function checkStory(page, headline, what) {
  await checkStyled(page, what);
  const story = await page.evaluate(() => {
    const marks = [...document.querySelectorAll('section.text mark')];
    const links = [...document.querySelectorAll('ol.points a[href^="#"]')].map((a) => a.getAttribute('href'));
    return {
      h1: document.querySelector('h1')?.textContent,
      sources: document.querySelectorAll('ul.sources > li').length,
      cited_sections: document.querySelectorAll('section.text').length,
      marks: marks.map((m) => m.textContent),
      mark_background: marks[0] ? getComputedStyle(marks[0]).backgroundColor : null,
      links,
      dangling: links.filter((h) => document.getElementById(h.slice(1))?.tagName !== 'MARK'),
      points: document.querySelectorAll('ol.points > li').length,
    };
  });
  notes.push(
    `${what} page: ${story.sources} sources, ${story.points} points, ${story.cited_sections} cited sources, ${story.marks.length} marks`,
  );
  check(story.h1 === headline, `${what}: h1 ${JSON.stringify(story.h1)}, expected ${JSON.stringify(headline)}`);
  check(story.sources === 2, `${what}: ${story.sources} sources listed, expected 2`);
  check(story.points > 0, `${what}: no key points`);
  check(story.marks.length > 0 && story.marks.every((m) => m.trim().length > 0), `${what}: marks ${JSON.stringify(story.marks)}`);
  check(
    story.mark_background !== null && story.mark_background !== 'rgba(0, 0, 0, 0)',
    `${what}: the marks are not highlighted (${story.mark_background})`,
  );
  check(story.links.length > 0 && story.dangling.length === 0, `${what}: point links ${story.links}, dangling ${story.dangling}`);
}

/** axe-core over the page; any serious or critical violation fails the run. */
async function axe(page, what) {
  if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) {
    await page.evaluate(AXE_SOURCE);
  }
  const results = await page.evaluate(() =>
    window.axe.run(document, { resultTypes: ['violations'] }).then((r) =>
      r.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        targets: v.nodes.slice(0, 5).map((n) => n.target.join(' ')),
      })),
    ),
  );
  const grave = results.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const minor = results.filter((v) => !grave.includes(v));
  notes.push(
    `axe (${what}): ${grave.length} serious/critical, ${minor.length} other` +
      (minor.length ? ` (${minor.map((v) => `${v.id}: ${v.impact}`).join(', ')})` : ''),
  );
  for (const v of grave) {
    failures.push(`axe (${what}): ${v.impact} ${v.id}: ${v.help} at ${v.targets.join('; ')}`);
  }
}
