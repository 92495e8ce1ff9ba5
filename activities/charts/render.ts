// Server-side chart rendering: Vega-Lite → Vega → SVG (no DOM, no canvas), then SVG → PNG with resvg.
// Output is byte-identical on every machine: the only font is one bundled in an npm package (no system
// fonts), text is measured with that font's own metrics, and time scales are UTC.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { renderAsync } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, version as vegaLiteVersion, type TopLevelSpec } from 'vega-lite';
import { CHART_DATA_NAME, CHART_FONT } from './chart-spec.ts';

const require = createRequire(import.meta.url);

function packageVersion(name: string): string {
  return (JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version: string }).version;
}

const FONT_FILES = {
  regular: require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf'),
  bold: require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf'),
};

/** Names every input to the pixels; part of a chart's id, so an upgrade renders charts anew. */
export const RENDERER_VERSION = [
  // Bump when this file changes how pixels are made (options, measuring): ids must then change too.
  'turnflow-charts@1',
  `vega@${vega.version}`,
  `vega-lite@${vegaLiteVersion}`,
  `resvg@${packageVersion('@resvg/resvg-js')}`,
  `dejavu-fonts-ttf@${packageVersion('dejavu-fonts-ttf')}`,
].join(' ');

/** Horizontal advances of a TrueType font (cmap + hmtx), enough to measure a line of text. */
interface FontMetrics {
  unitsPerEm: number;
  advance(codePoint: number): number;
}

function loadMetrics(file: string): FontMetrics {
  const buf = readFileSync(file);
  const tables = new Map<string, number>();
  for (let i = 0, n = buf.readUInt16BE(4); i < n; i++) {
    const rec = 12 + i * 16;
    tables.set(buf.toString('latin1', rec, rec + 4), buf.readUInt32BE(rec + 8));
  }
  const table = (tag: string) => {
    const at = tables.get(tag);
    if (at === undefined) throw new Error(`font ${file} has no ${tag} table`);
    return at;
  };
  const unitsPerEm = buf.readUInt16BE(table('head') + 18);
  const numberOfHMetrics = buf.readUInt16BE(table('hhea') + 34);
  const hmtx = table('hmtx');
  const advanceOf = (glyph: number) => buf.readUInt16BE(hmtx + 4 * Math.min(glyph, numberOfHMetrics - 1));

  // Glyph lookup from the Windows Unicode cmap: format 12 (full Unicode) when present, else format 4 (BMP).
  const cmap = table('cmap');
  let format4 = -1;
  let format12 = -1;
  for (let i = 0, n = buf.readUInt16BE(cmap + 2); i < n; i++) {
    const rec = cmap + 4 + i * 8;
    const [platform, encoding, sub] = [buf.readUInt16BE(rec), buf.readUInt16BE(rec + 2), cmap + buf.readUInt32BE(rec + 4)];
    if (platform === 3 && encoding === 10 && buf.readUInt16BE(sub) === 12) format12 = sub;
    if ((platform === 3 && encoding === 1) || platform === 0) if (buf.readUInt16BE(sub) === 4 && format4 < 0) format4 = sub;
  }
  const glyphOf = (cp: number): number => {
    if (format12 >= 0) {
      for (let i = 0, n = buf.readUInt32BE(format12 + 12); i < n; i++) {
        const g = format12 + 16 + i * 12;
        const start = buf.readUInt32BE(g);
        if (cp >= start && cp <= buf.readUInt32BE(g + 4)) return buf.readUInt32BE(g + 8) + cp - start;
      }
      return 0;
    }
    if (format4 < 0 || cp > 0xffff) return 0;
    const segX2 = buf.readUInt16BE(format4 + 6);
    const ends = format4 + 14;
    for (let s = 0; s < segX2; s += 2) {
      if (cp > buf.readUInt16BE(ends + s)) continue;
      const start = buf.readUInt16BE(ends + segX2 + 2 + s);
      if (cp < start) return 0;
      const delta = buf.readUInt16BE(ends + 2 * segX2 + 2 + s);
      const rangeAt = ends + 3 * segX2 + 2 + s;
      const range = buf.readUInt16BE(rangeAt);
      if (range === 0) return (cp + delta) & 0xffff;
      const g = buf.readUInt16BE(rangeAt + range + 2 * (cp - start));
      return g === 0 ? 0 : (g + delta) & 0xffff;
    }
    return 0;
  };
  const cache = new Map<number, number>();
  return {
    unitsPerEm,
    advance(cp) {
      let w = cache.get(cp);
      if (w === undefined) cache.set(cp, (w = advanceOf(glyphOf(cp))));
      return w;
    },
  };
}

const metrics = { regular: loadMetrics(FONT_FILES.regular), bold: loadMetrics(FONT_FILES.bold) };

interface TextItem {
  fontSize?: number | string;
  fontWeight?: number | string;
}

function textWidth(item: TextItem, text: unknown): number {
  const size = item.fontSize != null ? Number(item.fontSize) || 0 : 11;
  const s = text == null ? '' : String(text).trim();
  if (size <= 0 || !s) return 0;
  const w = item.fontWeight;
  const font = w === 'bold' || w === 'bolder' || Number(w) >= 600 ? metrics.bold : metrics.regular;
  let units = 0;
  for (const ch of s) units += font.advance(ch.codePointAt(0)!);
  return (units / font.unitsPerEm) * size;
}

// Without a canvas Vega guesses 0.8 em per character; measuring with the font that resvg draws with
// gives truthful layout (axis room, label truncation, overlap removal). Vega calls a replaced width
// function for truncation too; it ignores `limit` here (as vl-convert does), so a truncated label only
// reserves its untruncated room in the layout bounds.
// (Not in Vega's typings: it is the documented hook that vl-convert uses too.)
(vega as unknown as { textMetrics: { width: (item: TextItem, text: unknown) => number } }).textMetrics.width = textWidth;

const RESVG_OPTIONS = {
  fitTo: { mode: 'zoom' as const, value: 2 },
  background: 'white',
  font: { fontFiles: [FONT_FILES.regular, FONT_FILES.bold], loadSystemFonts: false, defaultFontFamily: CHART_FONT, sansSerifFamily: CHART_FONT },
  shapeRendering: 2 as const,
  textRendering: 1 as const,
};

// Vega numbers clip paths and gradients from process-wide counters; renders take turns and reset them
// first, so the same chart gets the same ids (and bytes) however many charts were drawn before it.
let vegaTurn: Promise<unknown> = Promise.resolve();

async function toSvg(vg: vega.Spec, rows: Record<string, unknown>[]): Promise<string> {
  // No loader access: every spec is built here and carries no URLs, but a view must never fetch.
  const loader = vega.loader();
  loader.load = () => Promise.reject(new Error('charts load no external data'));
  const view = new vega.View(vega.parse(vg), { renderer: 'none', loader, logLevel: vega.Error });
  try {
    // Copies: Vega tags data objects with ids, and the caller's rows stay untouched.
    view.data(CHART_DATA_NAME, rows.map((r) => ({ ...r })));
    vega.resetSVGDefIds();
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Renders a Vega-Lite spec (data named `table`) with the rows injected: an SVG and a 2x PNG on white. */
export async function renderChart(spec: object, rows: Record<string, unknown>[]): Promise<{ svg: string; png: Buffer }> {
  const vg = compile(spec as TopLevelSpec).spec;
  const turn = vegaTurn.then(() => toSvg(vg, rows));
  vegaTurn = turn.catch(() => undefined);
  const svg = await turn;
  // resvg draws on libuv's thread pool: the event loop stays free while the PNG is made.
  const png = (await renderAsync(svg, RESVG_OPTIONS)).asPng();
  return { svg, png };
}
