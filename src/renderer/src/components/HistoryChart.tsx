import { useEffect, useRef } from 'react';
import { Chart, Filler, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip, type ChartDataset, type Plugin } from 'chart.js';
import { BLAST_THRESHOLDS } from '../../../shared/differential';
import { formatInterval, formatPercent } from '../../../shared/format';
import type { MarrowResult } from '../../../shared/marrow-history';

// Blast % of a patient's marrows over time. Released results are a solid line with their 95% interval as a band;
// drafts are hollow grey points off the line, because they are not results yet; a result amended since it was
// first released is drawn as a diamond. The 5, 10 and 20% thresholds (differential.ts) are dashed lines.
Chart.register(LineController, LineElement, PointElement, LinearScale, Filler, Legend, Tooltip);

const DAY_MS = 86_400_000;
const RELEASED = '#3a5f8a';
const BAND = 'rgba(58, 95, 138, 0.18)';
const DRAFT = '#8a8a8a';
const THRESHOLD = '#b3261e';

interface Props {
  marrows: readonly MarrowResult[];
  testId: string;
}

interface Point {
  x: number;
  y: number;
}

const dayOf = (isoDate: string): number => Date.parse(`${isoDate}T00:00:00Z`) / DAY_MS;
const dateOf = (day: number): string => new Date(Math.round(day) * DAY_MS).toISOString().slice(0, 10);

/** Dashed threshold lines with their labels, drawn under the data so the points stay readable. */
const thresholdLines: Plugin<'line'> = {
  id: 'blastThresholds',
  beforeDatasetsDraw(chart) {
    const { ctx, chartArea, scales } = chart;
    const y = scales['y'];
    if (y === undefined) return;
    ctx.save();
    ctx.strokeStyle = THRESHOLD;
    ctx.fillStyle = THRESHOLD;
    ctx.setLineDash([6, 4]);
    ctx.lineWidth = 1;
    ctx.font = '12px system-ui, sans-serif';
    for (const threshold of BLAST_THRESHOLDS) {
      if (threshold > y.max) continue;
      const pixel = y.getPixelForValue(threshold);
      ctx.beginPath();
      ctx.moveTo(chartArea.left, pixel);
      ctx.lineTo(chartArea.right, pixel);
      ctx.stroke();
      ctx.fillText(`${threshold}%`, chartArea.right - 30, pixel - 4);
    }
    ctx.restore();
  },
};

export function HistoryChart({ marrows, testId }: Props) {
  const canvas = useRef<HTMLCanvasElement>(null);

  useEffect(() => {
    if (canvas.current === null) return undefined;
    const withBlasts = marrows.filter((m) => m.figures !== null && m.figures.blast.percentage !== null);
    const released = withBlasts.filter((m) => m.state !== 'draft');
    const drafts = withBlasts.filter((m) => m.state === 'draft');
    if (withBlasts.length === 0) return undefined;
    const point = (m: MarrowResult, value: number): Point => ({ x: dayOf(m.specimenDate), y: value });
    const blast = (m: MarrowResult) => m.figures!.blast;
    const highest = Math.max(25, ...withBlasts.map((m) => blast(m).ci95?.upper ?? blast(m).percentage ?? 0));
    const days = withBlasts.map((m) => dayOf(m.specimenDate));
    const first = Math.min(...days);
    const last = Math.max(...days);
    const margin = Math.max(7, (last - first) * 0.05);

    const datasets: ChartDataset<'line', Point[]>[] = [
      {
        label: '95% interval (released)',
        data: released.map((m) => point(m, blast(m).ci95?.upper ?? blast(m).percentage!)),
        borderWidth: 0,
        pointRadius: 0,
        fill: '+1',
        backgroundColor: BAND,
      },
      {
        label: 'lower bound',
        data: released.map((m) => point(m, blast(m).ci95?.lower ?? blast(m).percentage!)),
        borderWidth: 0,
        pointRadius: 0,
        fill: false,
      },
      {
        label: 'Blasts, released',
        data: released.map((m) => point(m, blast(m).percentage!)),
        borderColor: RELEASED,
        backgroundColor: RELEASED,
        pointRadius: 5,
        pointStyle: released.map((m) => (m.amended ? 'rectRot' : 'circle')),
        pointBackgroundColor: released.map((m) => (m.state === 'reopened' ? '#ffffff' : RELEASED)),
        fill: false,
      },
      {
        label: 'Draft (not released)',
        data: drafts.map((m) => point(m, blast(m).percentage!)),
        showLine: false,
        borderColor: DRAFT,
        backgroundColor: '#ffffff',
        pointRadius: 5,
        pointBorderWidth: 2,
        fill: false,
      },
    ];
    const byDataset = [released, released, released, drafts];

    const chart = new Chart(canvas.current, {
      type: 'line',
      data: { datasets },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        parsing: false,
        plugins: {
          legend: {
            labels: { color: '#1a1a1a', filter: (item) => item.text !== 'lower bound' },
          },
          tooltip: {
            filter: (item) => item.datasetIndex >= 2,
            callbacks: {
              title: (items) => {
                const item = items[0];
                const m = item === undefined ? undefined : byDataset[item.datasetIndex]?.[item.dataIndex];
                return m === undefined ? '' : `${m.specimenDate} · ${m.accession}`;
              },
              label: (item) => {
                const m = byDataset[item.datasetIndex]?.[item.dataIndex];
                if (m === undefined || m.figures === null) return '';
                const state =
                  m.state === 'draft' ? 'draft' : m.state === 'reopened' ? 'last released, now amended' : m.amended ? 'released, amended' : 'released';
                return `Blasts ${formatPercent(m.figures.blast.percentage)} (95% CI ${formatInterval(m.figures.blast.ci95)}) of ${m.figures.nucleatedDifferentialCount} cells — ${state}`;
              },
            },
          },
        },
        scales: {
          x: {
            type: 'linear',
            min: first - margin,
            max: last + margin,
            ticks: { color: '#1a1a1a', callback: (value) => dateOf(Number(value)), maxTicksLimit: 6 },
            title: { display: true, text: 'Specimen date', color: '#1a1a1a' },
          },
          y: {
            type: 'linear',
            min: 0,
            max: Math.min(100, Math.ceil(highest / 5) * 5),
            ticks: { color: '#1a1a1a' },
            title: { display: true, text: 'Blasts, % of nucleated cells', color: '#1a1a1a' },
          },
        },
      },
      plugins: [thresholdLines],
    });
    return () => chart.destroy();
  }, [marrows]);

  return (
    <div className="chart-box history-chart">
      <canvas
        ref={canvas}
        data-testid={testId}
        role="img"
        aria-label="Blast percentage of the patient's marrows by specimen date, with 95% intervals and the 5, 10 and 20% thresholds"
      />
    </div>
  );
}
