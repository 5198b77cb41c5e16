// caretaker dashboard: live refresh, live run output and charts. The pages read without it.
'use strict';

(function () {
  const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

  // Live refresh: the page's <main> is fetched again and swapped in, unless the reader is busy
  // in it (a focused control) or the tab is hidden.
  const refresh = Number(document.body.dataset.refresh || 0);
  if (refresh > 0) {
    setInterval(async () => {
      const main = document.getElementById('main');
      if (document.hidden || !main || main.contains(document.activeElement)) return;
      try {
        const res = await fetch(location.href, { headers: { accept: 'text/html' } });
        if (!res.ok || res.redirected) return;
        const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
        const next = doc.getElementById('main');
        if (next) {
          main.replaceChildren(...next.childNodes);
          drawCharts();
        }
      } catch {
        // The daemon is restarting: the next tick tries again.
      }
    }, refresh * 1000);
  }

  // Live output of a running run: server-sent events whose ids are byte offsets, so a
  // reconnecting EventSource resumes where it stopped (Last-Event-ID).
  const out = document.querySelector('[data-stream]');
  if (out && typeof EventSource === 'function') {
    const es = new EventSource(out.dataset.stream);
    const status = document.getElementById('live-status');
    es.addEventListener('output', (e) => {
      if (out.dataset.fresh !== 'no') {
        out.textContent = '';
        out.dataset.fresh = 'no';
      }
      out.textContent += JSON.parse(e.data);
      out.scrollTop = out.scrollHeight;
    });
    es.addEventListener('end', () => {
      es.close();
      if (status) status.textContent = 'finished: loading the result';
      location.reload();
    });
  }

  function drawCharts() {
    if (typeof uPlot !== 'function') return;
    for (const el of document.querySelectorAll('[data-chart]')) {
      if (el.dataset.drawn === 'yes') continue;
      const spec = JSON.parse(el.dataset.chart);
      const colors = [css('--run'), css('--ok'), css('--fail'), css('--warn')];
      const axis = {
        stroke: css('--muted'),
        grid: { stroke: css('--line') },
        ticks: { stroke: css('--line') },
      };
      const series = [{}].concat(
        spec.series.map((s, i) => ({
          label: s.label,
          stroke: colors[s.color ?? i] || colors[0],
          fill: spec.bars ? colors[s.color ?? i] : undefined,
          width: spec.bars ? 0 : 2,
          points: { show: !spec.bars },
          paths: spec.bars && uPlot.paths.bars ? uPlot.paths.bars({ size: [0.6, 40] }) : undefined,
          value:
            s.unit === 'ms'
              ? (_u, v) => (v == null ? '—' : v < 1000 ? v + ' ms' : (v / 1000).toFixed(1) + ' s')
              : undefined,
        })),
      );
      el.replaceChildren();
      el.dataset.drawn = 'yes';
      new uPlot(
        {
          width: Math.max(320, el.clientWidth),
          height: 220,
          series,
          axes: [
            axis,
            Object.assign(
              { size: 64 },
              axis,
              spec.unit === 'ms'
                ? { values: (_u, vs) => vs.map((v) => (v < 1000 ? v + 'ms' : (v / 1000).toFixed(1) + 's')) }
                : {},
            ),
          ],
          scales: { x: { time: true } },
          tzDate: spec.zone ? (ts) => uPlot.tzDate(new Date(ts * 1000), spec.zone) : undefined,
        },
        [spec.x].concat(spec.series.map((s) => s.values)),
        el,
      );
    }
  }
  drawCharts();
})();
