/**
 * Renders the app's install icons (web app manifest, iOS home screen) from public/favicon.svg into
 * committed PNGs in public/: run once when the logo changes — `npx tsx scripts/make-icons.ts`.
 *
 * Rendered by the system Chromium through playwright-core (scripts/chromium.ts), which the project
 * already uses for its e2e tests and browser benchmarks, so no image library (sharp, resvg) is
 * needed for a job done once.
 *
 * - `pwa-192.png`, `pwa-512.png` (purpose `any`): the favicon as it is, rounded corners on a
 *   transparent background.
 * - `pwa-maskable-512.png` (purpose `maskable`): full-bleed background, the mark shrunk so it lies
 *   inside the 80 % safe circle that launchers may crop to (https://w3c.github.io/manifest/#icon-masks).
 * - `apple-touch-icon.png` (180 × 180): opaque and full-bleed, since iOS paints transparency black
 *   and rounds the corners itself.
 * @module
 */
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from './chromium.ts';

const PUBLIC = join(resolve(dirname(fileURLToPath(import.meta.url)), '..'), 'public');

/** The favicon's mark (everything but its rounded background) and background colour. */
function splitFavicon(svg: string): { fill: string; mark: string } {
  const bg = /<rect width="32" height="32" rx="\d+" fill="(#[0-9a-fA-F]{3,6})"\/>/.exec(svg);
  const mark = /<g[\s\S]*<\/g>/.exec(svg);
  if (!bg || !mark) throw new Error('make-icons: public/favicon.svg no longer has the expected <rect> background and <g> mark');
  return { fill: bg[1], mark: mark[0] };
}

/** A full-bleed square icon: the mark scaled by `scale` about the centre. */
function fullBleed(fill: string, mark: string, scale: number): string {
  const t = 16 * (1 - scale);
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" fill="${fill}"/><g transform="translate(${t} ${t}) scale(${scale})">${mark}</g></svg>`;
}

const favicon = await readFile(join(PUBLIC, 'favicon.svg'), 'utf8');
const { fill, mark } = splitFavicon(favicon);
const icons: { file: string; size: number; svg: string }[] = [
  { file: 'pwa-192.png', size: 192, svg: favicon },
  { file: 'pwa-512.png', size: 512, svg: favicon },
  // The mark reaches 11.7 of 16 units from the centre; × 0.8 keeps it at 29 % of the size, well
  // inside the 40 % safe radius.
  { file: 'pwa-maskable-512.png', size: 512, svg: fullBleed(fill, mark, 0.8) },
  { file: 'apple-touch-icon.png', size: 180, svg: fullBleed(fill, mark, 0.9) },
];

const browser = await launchChromium();
try {
  for (const icon of icons) {
    const page = await browser.newPage({ viewport: { width: icon.size, height: icon.size }, deviceScaleFactor: 1 });
    const sized = icon.svg.replace('<svg ', `<svg width="${icon.size}" height="${icon.size}" `);
    await page.setContent(`<!doctype html><html><body style="margin:0;background:transparent">${sized}</body></html>`);
    const png = await page.screenshot({ omitBackground: true, clip: { x: 0, y: 0, width: icon.size, height: icon.size } });
    await writeFile(join(PUBLIC, icon.file), png);
    await page.close();
    console.log(`public/${icon.file}: ${icon.size}×${icon.size}, ${png.length} bytes`);
  }
} finally {
  await browser.close();
}
