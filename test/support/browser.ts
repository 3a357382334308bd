import fs from 'node:fs';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

/** Debian's chromium, as scripts/provision.sh installs it: never a browser downloaded from elsewhere. */
export const chromiumPath = '/usr/bin/chromium';

/** A phone's viewport (CSS pixels), as the public mostly uses the pages. */
export const phoneViewport = { width: 390, height: 844 };

/**
 * A headless chromium with a fresh profile: playwright's `launch` gives every browser a new
 * user-data directory of its own (and removes it on close), so nothing carries over between runs.
 */
export interface TestBrowser {
  readonly browser: Browser;
  /** A new context (cookies of its own) at phone size, in `locale`, allowed the given geolocation. */
  phone(options?: { locale?: string; geolocation?: { latitude: number; longitude: number } }): Promise<BrowserContext>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<TestBrowser> {
  if (!fs.existsSync(chromiumPath)) throw new Error(`${chromiumPath} is missing: run scripts/provision.sh (it installs Debian's chromium)`);
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    browser,
    async phone(options = {}) {
      return browser.newContext({
        viewport: phoneViewport,
        deviceScaleFactor: 2,
        isMobile: true,
        hasTouch: true,
        locale: options.locale ?? 'zh-CN',
        ...(options.geolocation ? { geolocation: options.geolocation, permissions: ['geolocation'] } : {}),
      });
    },
    async close() {
      await browser.close();
    },
  };
}

/**
 * Posts a form to `action` from a page of no site of ours, as another site would make a visitor's
 * browser do; answers the response's status. The page is closed once the navigation has committed:
 * a close that races the commit can hang for ever in Chromium (crbug.com/536385539).
 */
export async function postFromAnotherSite(context: BrowserContext, action: string, fields: Record<string, string> = {}): Promise<number> {
  const attribute = (value: string) => value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  const inputs = Object.entries(fields)
    .map(([name, value]) => `<input name="${attribute(name)}" value="${attribute(value)}">`)
    .join('');
  const page = await context.newPage();
  await page.setContent(`<form method="post" action="${attribute(action)}">${inputs}<button>go</button></form>`);
  const [response] = await Promise.all([page.waitForResponse(action), page.waitForURL(action), page.click('button')]);
  await page.close();
  return response.status();
}

/** An accessibility violation as axe-core reports it. */
export interface AxeViolation {
  id: string;
  impact: 'minor' | 'moderate' | 'serious' | 'critical' | null;
  help: string;
  nodes: { target: string[] }[];
}

const axeSource = () => fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** Runs axe-core (WCAG 2 A/AA rules) in the page; answers its serious and critical violations. */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  await page.addScriptTag({ content: axeSource() });
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run: (context: unknown, options: unknown) => Promise<{ violations: unknown[] }> } }).axe;
    const result = await axe.run((globalThis as unknown as { document: unknown }).document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return result.violations;
  });
  return (violations as AxeViolation[]).filter((v) => v.impact === 'serious' || v.impact === 'critical');
}
