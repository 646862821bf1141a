import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";

// Debian's Chromium driven by playwright-core (browser downloads are not possible here), and pages that
// remember what went wrong in them: script errors and Content-Security-Policy refusals.

export const CHROMIUM = process.env.SWITCHYARD_CHROMIUM ?? "/usr/bin/chromium";

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
}

export interface WatchedPage {
  readonly page: Page;
  readonly context: BrowserContext;
  /** Uncaught script errors and CSP violations seen so far. */
  readonly problems: string[];
}

export const DESKTOP = { width: 1280, height: 900 } as const;
export const PHONE = { width: 375, height: 812 } as const;

export async function openPage(
  browser: Browser,
  viewport: { width: number; height: number } = DESKTOP,
): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(`script error: ${error.message}`));
  page.on("console", (message) => {
    if (/Content Security Policy/i.test(message.text())) problems.push(`CSP: ${message.text()}`);
  });
  // Deleting asks for confirmation; the test confirms.
  page.on("dialog", (dialog) => void dialog.accept());
  return { page, context, problems };
}
