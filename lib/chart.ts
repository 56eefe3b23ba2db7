import * as echarts from 'echarts';

export interface ChartSeries {
  name: string;
  /** [x, y] points, drawn in the given order. */
  points: [number, number][];
  /** Optional label per point, drawn next to it. */
  labels?: string[];
  /** Optional error bars (same length as points): y ± err. */
  errors?: number[];
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: ChartSeries[];
  width?: number;
  height?: number;
  xLog?: boolean;
}

/** Renders a line chart to an SVG string with ECharts' server-side renderer (no DOM needed). */
export function renderLineChartSvg(o: LineChartOptions): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: o.width ?? 820, height: o.height ?? 480 });
  try {
    chart.setOption({
      animation: false,
      title: { text: o.title, left: 'center' },
      legend: { bottom: 0 },
      grid: { left: 70, right: 30, top: 50, bottom: 70 },
      xAxis: { type: o.xLog ? 'log' : 'value', name: o.xLabel, nameLocation: 'middle', nameGap: 28 },
      yAxis: { type: 'value', name: o.yLabel, nameLocation: 'middle', nameGap: 48, scale: true },
      series: o.series.map((s) => ({
        name: s.name,
        type: 'line',
        symbolSize: 8,
        data: s.points.map((p, i) => ({ value: p, name: s.labels?.[i] ?? '' })),
        label: { show: Boolean(s.labels), formatter: '{b}', position: 'right', fontSize: 11 },
      })),
    });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}
