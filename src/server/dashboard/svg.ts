/** Drawings made on the server as inline SVG (they read without JavaScript). */
import { html, type Html } from './html.js';
import { durationText, timeText } from './time-text.js';

const f1 = (n: number) => n.toFixed(1);
const compact = html;
/** The time of day with its zone's abbreviation: `21:18:04 UTC`. */
const clock = (t: number, zone: string) => timeText(t, zone).slice(11);

/** A sparkline of durations, oldest first; failed runs are dots in the failure colour. */
export function sparkline(points: readonly { ms: number; ok: boolean }[], label: string): Html {
  const w = 120;
  const h = 24;
  if (points.length === 0) return html`<span class="muted">no runs</span>`;
  const max = Math.max(...points.map((p) => p.ms), 1);
  const step = points.length > 1 ? w / (points.length - 1) : 0;
  const xy = points.map((p, i) => [i * step, h - 2 - (p.ms / max) * (h - 4)] as const);
  const line = xy.map(([x, y]) => `${f1(x)},${f1(y)}`).join(' ');
  const fails = xy.filter((_, i) => !points[i]!.ok);
  return html`<svg
    class="spark"
    width="${w}"
    height="${h}"
    viewBox="0 0 ${w} ${h}"
    role="img"
    aria-label="${label}"
  >
    <polyline points="${line}" class="spark-line" />
    ${fails.map(([x, y]) => html`<circle cx="${f1(x)}" cy="${f1(y)}" r="2" class="spark-fail" />`)}
  </svg>`;
}

export interface Bar {
  readonly task: string;
  readonly runId: number;
  readonly from: number;
  to: number;
  status: string;
}

/** Runs as bars on one row per task between `from` and `to`: what overlapped what. */
export function timelineSvg(
  tasks: readonly string[],
  bars: readonly Bar[],
  from: number,
  to: number,
  zone: string,
): Html {
  const labelW = 180;
  const w = 1100;
  const rowH = 22;
  const top = 24;
  const h = top + tasks.length * rowH + 4;
  const span = Math.max(1, to - from);
  const x = (t: number) => labelW + ((Math.min(Math.max(t, from), to) - from) / span) * (w - labelW - 10);
  const ticks = Array.from({ length: 7 }, (_, i) => from + (span * i) / 6);
  const row = new Map(tasks.map((t, i) => [t, i]));
  const merged = mergeBars(bars, x);
  const dense = merged.length > DENSE_BARS;
  return html`<svg
    class="timeline"
    viewBox="0 0 ${w} ${h}"
    width="100%"
    role="img"
    aria-label="Runs per task from ${timeText(from, zone)} to ${timeText(to, zone)}"
  >
    ${ticks.map((t, i) => html`<line x1="${f1(x(t))}" x2="${f1(x(t))}" y1="${top - 6}" y2="${h}" class="grid" /><text x="${f1(x(t))}" y="12" class="tick" text-anchor="${i === 0 ? 'start' : i === ticks.length - 1 ? 'end' : 'middle'}">${timeText(t, zone).slice(5, 16)}</text>`)}
    ${tasks.map((t, i) => html`<a href="/tasks/${encodeURIComponent(t)}#history"><text x="4" y="${top + i * rowH + 15}" class="label">${t.length > 24 ? `${t.slice(0, 23)}…` : t}</text></a>`)}
    ${merged.map((b) => {
      const i = row.get(b.task);
      if (i === undefined) return '';
      const x1 = f1(x(b.from));
      const bw = f1(Math.max(2, x(b.to) - x(b.from)));
      const y = top + i * rowH + 3;
      // Compact markup (a day of a busy host is thousands of bars): `compact` is not formatted as HTML.
      // Thousands of bars: plain rectangles (each row's label links to the task's history).
      if (dense)
        return compact`<rect x="${x1}" y="${y}" width="${bw}" height="16" class="bar s-${b.status}"/>`;
      if (b.count > 1)
        return compact`<a href="/tasks/${encodeURIComponent(b.task)}#history"><rect x="${x1}" y="${y}" width="${bw}" height="16" class="bar s-${b.status}"><title>${b.task}: ${b.count} runs ${clock(b.from, zone)}–${clock(b.to, zone)}, worst ${b.status}</title></rect></a>`;
      return compact`<a href="/runs/${b.runId}"><rect x="${x1}" y="${y}" width="${bw}" height="16" class="bar s-${b.status}"><title>${b.task} #${b.runId} ${b.status} ${clock(b.from, zone)}, ${durationText(b.to - b.from)}</title></rect></a>`;
    })}
  </svg>`;
}

/** Past this many bars the timeline draws them without a link and a tooltip each (page weight). */
export const DENSE_BARS = 2_000;

const WORST = ['failed', 'timeout', 'interrupted', 'warning', 'skipped', 'cancelled', 'running', 'success'];

/**
 * Bars of one task that would touch on the drawing become one (a task that runs every minute
 * draws 1,440 bars a day, less than a pixel apart): its count, span and worst status.
 */
function mergeBars(bars: readonly Bar[], x: (t: number) => number): (Bar & { count: number })[] {
  const out: (Bar & { count: number })[] = [];
  const last = new Map<string, Bar & { count: number }>();
  for (const b of [...bars].sort((a, c) => a.from - c.from)) {
    const prev = last.get(b.task);
    if (prev && x(b.from) <= Math.max(x(prev.to), x(prev.from) + 2) + 1) {
      prev.to = Math.max(prev.to, b.to);
      prev.count++;
      const rank = (s: string) => (WORST.includes(s) ? WORST.indexOf(s) : WORST.length);
      if (rank(b.status) < rank(prev.status)) prev.status = b.status;
      continue;
    }
    const m = { ...b, count: 1 };
    out.push(m);
    last.set(b.task, m);
  }
  return out;
}

/**
 * The depends_on graph in layers (a task sits one layer right of its deepest dependency), each
 * node coloured by its last status and linked to its page.
 */
export function dependencySvg(
  nodes: readonly { id: string; dependsOn: readonly string[]; status: string | null }[],
): Html {
  const depth = new Map<string, number>();
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const depthOf = (id: string, seen: Set<string>): number => {
    const known = depth.get(id);
    if (known !== undefined) return known;
    if (seen.has(id)) return 0; // the config refuses cycles; stay finite anyway
    seen.add(id);
    const deps = byId.get(id)?.dependsOn ?? [];
    const d = deps.length === 0 ? 0 : 1 + Math.max(...deps.map((x) => depthOf(x, seen)));
    depth.set(id, d);
    return d;
  };
  for (const n of nodes) depthOf(n.id, new Set());
  const layers: string[][] = [];
  for (const n of nodes) (layers[depth.get(n.id)!] ??= []).push(n.id);
  const nodeW = 190;
  const nodeH = 34;
  const gapX = 70;
  const gapY = 14;
  const pos = new Map<string, { x: number; y: number }>();
  layers.forEach((ids, l) =>
    ids.forEach((id, i) => pos.set(id, { x: 10 + l * (nodeW + gapX), y: 10 + i * (nodeH + gapY) })),
  );
  const w = 20 + layers.length * (nodeW + gapX) - gapX;
  const h = 20 + Math.max(1, ...layers.map((l) => l.length)) * (nodeH + gapY) - gapY;
  const edges = nodes.flatMap((n) =>
    n.dependsOn.map((d) => {
      const a = pos.get(d);
      const b = pos.get(n.id)!;
      if (!a) return '';
      const x1 = a.x + nodeW;
      const y1 = a.y + nodeH / 2;
      const x2 = b.x;
      const y2 = b.y + nodeH / 2;
      const mx = (x1 + x2) / 2;
      return html`<path
        d="M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2 - 6},${y2}"
        class="edge"
        marker-end="url(#arrow)"
      />`;
    }),
  );
  return html`<svg
    class="graph"
    viewBox="0 0 ${w} ${h}"
    width="${w}"
    height="${h}"
    role="img"
    aria-label="Dependencies between tasks: an arrow goes from a task to the tasks that run after it"
  >
    <defs>
      <marker
        id="arrow"
        viewBox="0 0 10 10"
        refX="8"
        refY="5"
        markerWidth="7"
        markerHeight="7"
        orient="auto-start-reverse"
      >
        <path d="M0,0 L10,5 L0,10 z" class="arrow" />
      </marker>
    </defs>
    ${edges}
    ${nodes.map((n) => {
      const p = pos.get(n.id)!;
      return html`<a href="/tasks/${encodeURIComponent(n.id)}"
        ><rect
          x="${p.x}"
          y="${p.y}"
          width="${nodeW}"
          height="${nodeH}"
          rx="6"
          class="node s-${n.status ?? 'none'}"
        /><text x="${p.x + 10}" y="${p.y + 21}" class="node-label"
          >${n.id.length > 22 ? `${n.id.slice(0, 21)}…` : n.id}<title>
            ${n.id}: ${n.status ?? 'never run'}
          </title></text
        ></a
      >`;
    })}
  </svg>`;
}
