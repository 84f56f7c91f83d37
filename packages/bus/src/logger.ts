/** The subset of a pino logger the bus needs, so services pass `app.log` as it is. */
export interface BusLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  /** A logger whose every line also carries `bindings` (pino's `child`). */
  child(bindings: Record<string, unknown>): BusLogger;
}

const ignore = (): void => {};

export const silentLogger: BusLogger = { info: ignore, warn: ignore, error: ignore, child: () => silentLogger };
