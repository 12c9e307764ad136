// A tiny canvas line chart: a few series over a sliding time window, drawn by hand
// (no chart library), sized to its element and the device pixel ratio.

export interface Series {
  label: string;
  color: string;
  values: number[];
}

export interface ChartOptions {
  /** Fixed y maximum (e.g. 1 for rates); omitted: the data's max, rounded up. */
  yMax?: number;
  format?: (v: number) => string;
}

function niceCeil(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

export function drawChart(canvas: HTMLCanvasElement, series: Series[], capacity: number, options: ChartOptions = {}): void {
  const cssWidth = canvas.clientWidth || 300;
  const cssHeight = canvas.clientHeight || 120;
  const dpr = window.devicePixelRatio || 1;
  if (canvas.width !== Math.round(cssWidth * dpr) || canvas.height !== Math.round(cssHeight * dpr)) {
    canvas.width = Math.round(cssWidth * dpr);
    canvas.height = Math.round(cssHeight * dpr);
  }
  const g = canvas.getContext('2d');
  if (!g) return;
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, cssWidth, cssHeight);
  const format = options.format ?? ((v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(1)));
  const left = 40;
  const top = 8;
  const plotW = cssWidth - left - 6;
  const plotH = cssHeight - top - 16;
  const dataMax = Math.max(0, ...series.flatMap((s) => s.values));
  const yMax = options.yMax ?? niceCeil(dataMax);
  const styles = getComputedStyle(canvas);
  const axisColor = styles.getPropertyValue('--chart-axis').trim() || '#888';
  g.font = '11px system-ui, sans-serif';
  g.fillStyle = axisColor;
  g.strokeStyle = axisColor;
  g.globalAlpha = 0.35;
  g.lineWidth = 1;
  for (const f of [0, 0.5, 1]) {
    const y = top + plotH * (1 - f);
    g.beginPath();
    g.moveTo(left, y + 0.5);
    g.lineTo(left + plotW, y + 0.5);
    g.stroke();
  }
  g.globalAlpha = 1;
  g.textAlign = 'right';
  g.textBaseline = 'middle';
  for (const f of [0, 0.5, 1]) g.fillText(format(yMax * f), left - 4, top + plotH * (1 - f));
  g.textAlign = 'left';
  g.textBaseline = 'top';
  g.fillText(`${Math.round((capacity * 250) / 1000)} s`, left, top + plotH + 3);
  for (const s of series) {
    if (s.values.length === 0) continue;
    g.strokeStyle = s.color;
    g.lineWidth = 1.75;
    g.beginPath();
    const offset = capacity - s.values.length;
    s.values.forEach((v, i) => {
      const x = left + (plotW * (offset + i)) / Math.max(1, capacity - 1);
      const y = top + plotH * (1 - Math.min(1, v / yMax));
      if (i === 0) g.moveTo(x, y);
      else g.lineTo(x, y);
    });
    g.stroke();
  }
}
