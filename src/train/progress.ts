/**
 * Training progress on a text stream (stderr in the CLI). On a terminal one status line is
 * rewritten in place with '\r'; on a pipe or file, where '\r' would pile up as garbage, a plain
 * line is written every `plainIntervalSeconds` instead. Permanent lines (epoch summaries) clear
 * the status line first. Browser-safe: the sink is any object with `write`.
 */

export interface ProgressSink {
  write(text: string): unknown;
  /** Whether the sink is an interactive terminal (in-place updates). */
  readonly isTTY?: boolean;
  /** Terminal width, to keep the status line on one row. */
  readonly columns?: number;
}

export interface ProgressState {
  epoch: number; // 1-based
  epochs: number;
  step: number; // steps done in this epoch
  stepsPerEpoch: number;
  /** Mean training loss over the steps of this epoch so far. */
  loss: number;
  /** Training throughput measured in this session. */
  samplesPerSecond: number;
  /** Estimated seconds of training left in the run (at the measured rate; evaluation excluded). */
  etaSeconds: number;
}

export interface ProgressOptions {
  /** Minimum time between two in-place updates on a terminal (default 0.1 s). */
  ttyIntervalSeconds?: number;
  /** Time between two plain progress lines when not on a terminal (default 10 s). */
  plainIntervalSeconds?: number;
  /** Clock in seconds (tests inject one). */
  now?: () => number;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const mm = String(m).padStart(h > 0 ? 2 : 1, '0');
  return h > 0 ? `${h}:${mm}:${String(sec).padStart(2, '0')}` : `${mm}:${String(sec).padStart(2, '0')}`;
}

export function formatRate(samplesPerSecond: number): string {
  if (!Number.isFinite(samplesPerSecond) || samplesPerSecond <= 0) return '-- samples/s';
  if (samplesPerSecond >= 1e4) return `${(samplesPerSecond / 1e3).toFixed(1)}k samples/s`;
  return `${samplesPerSecond.toFixed(samplesPerSecond >= 100 ? 0 : 1)} samples/s`;
}

export function formatProgressLine(p: ProgressState): string {
  const w = String(p.stepsPerEpoch).length;
  return (
    `epoch ${p.epoch}/${p.epochs}  step ${String(p.step).padStart(w)}/${p.stepsPerEpoch}` +
    `  loss ${Number.isFinite(p.loss) ? p.loss.toFixed(4) : '-'}  ${formatRate(p.samplesPerSecond)}  ETA ${formatDuration(p.etaSeconds)}`
  );
}

const defaultNow = (): number => performance.now() / 1000;

/**
 * One status line: on a terminal rewritten in place (cut to the terminal width, padded with
 * spaces over the previous line's tail rather than relying on escape codes); elsewhere each
 * update is a plain line.
 */
export class StatusLine {
  readonly tty: boolean;
  /** Length of the line currently shown on the terminal (0: none). */
  private shown = 0;

  constructor(private readonly sink: ProgressSink | null) {
    this.tty = sink?.isTTY === true;
  }

  show(text: string): void {
    if (this.sink === null) return;
    if (!this.tty) {
      this.sink.write(text + '\n');
      return;
    }
    let line = text;
    const cols = this.sink.columns;
    if (cols !== undefined && cols > 10 && line.length >= cols) line = line.slice(0, cols - 1);
    const pad = this.shown > line.length ? ' '.repeat(this.shown - line.length) : '';
    this.sink.write(`\r${line}${pad}`);
    this.shown = line.length;
  }

  /** Removes the line from the terminal, if one is shown. */
  clear(): void {
    if (this.sink === null || !this.tty || this.shown === 0) return;
    this.sink.write(`\r${' '.repeat(this.shown)}\r`);
    this.shown = 0;
  }
}

export class ProgressReporter {
  private readonly sink: ProgressSink | null;
  private readonly tty: boolean;
  private readonly ttyInterval: number;
  private readonly plainInterval: number;
  private readonly now: () => number;
  private lastUpdate = -Infinity;
  private readonly status: StatusLine;

  constructor(sink: ProgressSink | null, opts: ProgressOptions = {}) {
    this.sink = sink;
    this.status = new StatusLine(sink);
    this.tty = this.status.tty;
    this.ttyInterval = opts.ttyIntervalSeconds ?? 0.1;
    this.plainInterval = opts.plainIntervalSeconds ?? 10;
    this.now = opts.now ?? defaultNow;
    if (!this.tty) this.lastUpdate = this.now(); // the first plain line comes one interval in
  }

  /** Reports progress, throttled; `force` bypasses the throttle. */
  update(p: ProgressState, force = false): void {
    if (this.sink === null) return;
    const t = this.now();
    if (this.tty) {
      if (!force && t - this.lastUpdate < this.ttyInterval) return;
    } else if (!force && t - this.lastUpdate < this.plainInterval) return;
    this.lastUpdate = t;
    this.status.show(formatProgressLine(p));
  }

  /** Writes a permanent line (clearing the status line on a terminal). */
  line(text: string): void {
    if (this.sink === null) return;
    this.clear();
    this.sink.write(text + '\n');
  }

  /** Removes the status line, if one is shown. */
  clear(): void {
    this.status.clear();
  }
}
