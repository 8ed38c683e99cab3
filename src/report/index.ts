/**
 * Report toolkit, browser-safe part: SVG line charts (Observable Plot) and the self-contained HTML report.
 * Writing files lives in ./files.js (Node only) and is not re-exported here.
 */
export {
  lineChart, smallMultiples, linearScale, logScale, niceStep, decadeLabel, escapeXml, SERIES_COLORS,
  type ChartSeries, type LineChartOptions, type LegendPlacement, type SmallMultiplesOptions, type Tick, type AxisScale,
} from './svg.js';
export {
  htmlReport, readReportData, formatCell, embedJson,
  type ReportOptions, type ReportSection, type ReportTable, type ReportFinding, type FindingStatus, type TableCell, type ReportChart,
} from './html.js';
export { setChartDocument, chartDocument } from './dom.js';
