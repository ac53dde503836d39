/**
 * The verb table: a one-line summary each (for `--help`) and a lazy loader, so starting the CLI costs
 * the same whichever verb runs.
 */
import type { Verb } from './verb.js';

/** A verb as the table knows it before loading it. */
export interface VerbEntry {
  summary: string;
  load: () => Promise<{ verb: Verb }>;
}

/** Every CLI verb, in the order `--help` lists them. */
export const VERBS: Record<string, VerbEntry> = {
  start: { summary: 'start the daemon (foreground; --detach for background)', load: () => import('./commands/start.js') },
  ping: { summary: 'check that the daemon answers', load: () => import('./commands/ping.js') },
  shutdown: { summary: 'stop the daemon (children keep running unless --kill-processes)', load: () => import('./commands/shutdown.js') },
};
