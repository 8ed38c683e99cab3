/**
 * Every error fimkit raises on bad input is a FimkitError with a stable `code`, so callers
 * (and the CLI) can tell a shape mismatch from a corrupt file without parsing messages.
 */
export type ErrorCode =
  | 'SHAPE'
  | 'DTYPE'
  | 'NON_FINITE'
  | 'LABEL_RANGE'
  | 'CORRUPT_FILE'
  | 'TRUNCATED_FILE'
  | 'CHECKSUM'
  | 'MODEL_FORMAT'
  | 'INVALID_ARGUMENT'
  | 'BACKEND'
  | 'IO'
  | 'TOO_LARGE'
  | 'UNSUPPORTED_OPERATOR'
  /** Shard files that do not merge: one missing, given twice, or computed with other settings. */
  | 'SHARD';

export class FimkitError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.code = code;
    this.name = 'FimkitError';
  }
}

export function fail(code: ErrorCode, message: string): never {
  throw new FimkitError(code, message);
}

export function shapeStr(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
