/**
 * The shape of a CLI verb. Each verb lives in its own file under commands/ and is loaded only when
 * invoked, which keeps `claude-daemon ping` from paying for `spawn`'s code.
 */
import type { ParseArgsConfig } from 'node:util';
import type { DaemonClient } from '../client/client.js';
import type { Output } from './output.js';

/** Flags of `start` as the daemon takes them (structurally the daemon's DaemonOptions). */
export interface StartOptions {
  socket?: string;
  home?: string;
  modulesDir?: string;
  maxLineBytes?: number;
  maxRunning?: number;
  maxPids?: number;
  keepEnded?: number;
  keepEndedForS?: number;
  budgetUsd?: number;
  logToStderr?: boolean;
  moduleMemoryMb?: number;
  holdAtUtilization?: number;
}

/** The daemon entry, injected by bin.ts so the CLI never imports daemon code. */
export interface DaemonLoader {
  loadDaemon: () => Promise<{
    /** `exitCode()`: the status this process exits with once `closed` resolved (a keeper reads it). */
    runDaemon(opts: StartOptions): Promise<{ closed: Promise<void>; exitCode(): number }>;
    /** A refusal to start; `exitCode` when it must not be 1 (a kept daemon: the keeper then stops). */
    StartError: new (...args: never[]) => Error & { exitCode?: number };
  }>;
}

/** What a verb gets: parsed flags, positionals, output, and a lazily connected client. */
export interface VerbContext {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
  json: boolean;
  socket: string | undefined;
  out: Output;
  deps: DaemonLoader;
  /** Connects on first use; a failure becomes exit code 3 with a message saying how to start a daemon. */
  client(): Promise<DaemonClient>;
}

/** A verb's definition; `run` returns the process exit code. */
export interface Verb {
  usage: string;
  description: string;
  options?: NonNullable<ParseArgsConfig['options']>;
  /** Extra help lines (per-option explanations, examples). */
  help?: string[];
  positionals?: boolean;
  run(ctx: VerbContext): Promise<number>;
}

/** A usage mistake: exit code 2 with the verb's usage line. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * Exit codes, as documented in the README. `timedOut` is timeout(1)'s 124, the same for every wait
 * that gives up (`wait`/`result --timeout`, CALL_TIMEOUT, `request --timeout`).
 */
export const EXIT = { ok: 0, daemonError: 1, usage: 2, noDaemon: 3, timedOut: 124 } as const;
