import { useEffect, useRef } from 'react';
import { BarController, BarElement, CategoryScale, Chart, LinearScale, Tooltip } from 'chart.js';

// Only what a bar chart needs: keeps the bundle small and the chart free of animation plugins.
Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip);

export interface Bar {
  label: string;
  value: number;
  /** Tooltip title: the full class name. */
  title: string;
  highlight?: boolean;
}

interface Props {
  bars: Bar[];
  /** Y axis caption, e.g. "% of nucleated cells". */
  axisLabel: string;
  testId: string;
  ariaLabel: string;
}

const BAR = '#3a5f8a';
const HIGHLIGHT = '#b3261e';

/** Bar chart drawn by chart.js on a canvas; the chart is created once and updated in place as data changes. */
export function BarChart({ bars, axisLabel, testId, ariaLabel }: Props) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const chart = useRef<Chart<'bar'> | null>(null);

  useEffect(() => {
    if (canvas.current === null) return undefined;
    chart.current = new Chart(canvas.current, {
      type: 'bar',
      data: { labels: [], datasets: [{ data: [], backgroundColor: [] }] },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        plugins: { legend: { display: false }, tooltip: { enabled: true } },
        scales: {
          x: { ticks: { color: '#1a1a1a', font: { size: 13 } }, grid: { display: false } },
          y: {
            beginAtZero: true,
            ticks: { color: '#1a1a1a', font: { size: 13 } },
            title: { display: true, text: axisLabel, color: '#1a1a1a', font: { size: 13 } },
          },
        },
      },
    });
    return () => {
      chart.current?.destroy();
      chart.current = null;
    };
  }, [axisLabel]);

  useEffect(() => {
    const current = chart.current;
    if (current === null) return;
    const dataset = current.data.datasets[0];
    if (dataset === undefined) return;
    current.data.labels = bars.map((bar) => bar.label);
    dataset.data = bars.map((bar) => bar.value);
    dataset.backgroundColor = bars.map((bar) => (bar.highlight === true ? HIGHLIGHT : BAR));
    const titles = bars.map((bar) => bar.title);
    if (current.options.plugins?.tooltip) {
      current.options.plugins.tooltip.callbacks = {
        title: (items) => titles[items[0]?.dataIndex ?? 0] ?? '',
        label: (item) => `${Number(item.raw).toFixed(1)}%`,
      };
    }
    current.update();
  }, [bars, axisLabel]);

  return (
    <div className="chart-box">
      <canvas ref={canvas} data-testid={testId} role="img" aria-label={ariaLabel} />
    </div>
  );
}
