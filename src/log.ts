// The only module that imports pino: every other module asks for a child logger here.
import { pino, type Logger } from 'pino';

export type { Logger };

let root: Logger = pino({ level: process.env['WARREN_LOG_LEVEL'] ?? 'info', base: { app: 'warren' } });

export function configureLogging(level: string): Logger {
  root = pino({ level, base: { app: 'warren' } });
  return root;
}

export function logger(component: string): Logger {
  return root.child({ component });
}
