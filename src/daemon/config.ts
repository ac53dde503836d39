/**
 * The daemon's settings, resolved once at start from flags, environment and embedded defaults, so
 * that `claude-daemon start` works with no config file at all.
 */
import os from 'node:os';
import path from 'node:path';
import { resolveHome, resolveModulesDir, resolveSocketPath } from '../protocol/paths.js';
import { DEFAULT_MAX_LINE_BYTES } from '../protocol/framing.js';
import { DEFAULT_MAX_PIDS } from './supervisor/pids-limit.js';
import { DEFAULT_KEEP_ENDED, DEFAULT_KEEP_ENDED_FOR_S } from './supervisor/retention.js';
import { keeperFromEnv, type KeeperInfo } from './keeper.js';

/**
 * Hidden tuning knob (not a `start` flag): how long a client may leave over ~1 MiB of replies unread
 * before it is disconnected. Tests shorten it to prove the disconnect without waiting 30 s.
 */
export const STUCK_CLIENT_ENV = 'CLAUDE_DAEMON_STUCK_CLIENT_MS';

/**
 * Size cap of daemon.log in bytes before it is rotated (daemon.log -> daemon.log.1 -> ...), and how
 * many files are kept including daemon.log. Environment only (tests set a small cap); defaults
 * 10 MiB x 3.
 */
export const LOG_MAX_BYTES_ENV = 'CLAUDE_DAEMON_LOG_MAX_BYTES';
/** See LOG_MAX_BYTES_ENV. */
export const LOG_FILES_ENV = 'CLAUDE_DAEMON_LOG_FILES';

/** Per-module-version memory cap unless `--module-memory-mb` says otherwise. */
export const DEFAULT_MODULE_MEMORY_MB = 256;

/** Everything the daemon needs to know about where and how to run. */
export interface DaemonConfig {
  socketPath: string;
  home: string;
  modulesDir: string;
  /** Longest accepted request line in bytes. */
  maxLineBytes: number;
  /** Unsent reply bytes at which a connection stops being read (a client that does not read). */
  maxPendingReplyBytes: number;
  /** How long a connection may stay stuck over that bound before it is closed. */
  stuckClientMs: number;
  /** Requests one connection may have in flight before its reading pauses. */
  maxInFlightPerConnection: number;
  /** Most children running at once; beyond it spawns are queued. `Infinity` means no limit. */
  maxRunning: number;
  /** Most processes/threads in one child's tree (a fork bomb stops there); see supervisor/pids-limit.ts. */
  maxPids: number;
  /** Most ended records kept, oldest removed first (`--keep-ended`); 0 = no limit. */
  keepEnded: number;
  /** Ended records older than this many seconds are removed (`--keep-ended-for`); 0 = no limit. */
  keepEndedForS: number;
  /** `--budget-usd`: the daemon-wide spending budget of claude runs (scheduler/budget.ts); null for none. */
  budgetUsd: number | null;
  /** Log to stderr as well as the log file (foreground mode). */
  logToStderr: boolean;
  /** daemon.log is rotated once it would pass this many bytes. */
  logMaxBytes: number;
  /** Log files kept: daemon.log plus logFiles - 1 rotated ones. */
  logFiles: number;
  /** Memory cap of each module version in MB: the worker's V8 heap, or python3's data segment. */
  moduleMemoryMb: number;
  /** Usage limits: stop starting claude runs once the reported utilisation reaches this (0-1; `--hold-at-utilization`). */
  holdAtUtilization?: number | undefined;
  /** The keeper that started this daemon (`start --detach`), from its environment; see keeper.ts. */
  keeper: KeeperInfo | undefined;
}

/** The flags `claude-daemon start` accepts; all optional. */
export interface DaemonOptions {
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

/** Applies the documented precedence: flag, then environment, then default. */
export function resolveConfig(opts: DaemonOptions, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): DaemonConfig {
  return {
    socketPath: path.resolve(resolveSocketPath(opts.socket, env)),
    home: path.resolve(resolveHome(opts.home, env, os.homedir())),
    modulesDir: path.resolve(resolveModulesDir(opts.modulesDir, env, cwd)),
    maxLineBytes: opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
    maxPendingReplyBytes: 1024 * 1024,
    stuckClientMs: positiveIntEnv(env, STUCK_CLIENT_ENV) ?? 30_000,
    maxInFlightPerConnection: 1024,
    maxRunning: opts.maxRunning ?? Infinity,
    maxPids: opts.maxPids ?? DEFAULT_MAX_PIDS,
    keepEnded: opts.keepEnded ?? DEFAULT_KEEP_ENDED,
    keepEndedForS: opts.keepEndedForS ?? DEFAULT_KEEP_ENDED_FOR_S,
    budgetUsd: opts.budgetUsd ?? null,
    logToStderr: opts.logToStderr ?? true,
    logMaxBytes: positiveIntEnv(env, LOG_MAX_BYTES_ENV) ?? 10 * 1024 * 1024,
    logFiles: positiveIntEnv(env, LOG_FILES_ENV) ?? 3,
    moduleMemoryMb: opts.moduleMemoryMb ?? DEFAULT_MODULE_MEMORY_MB,
    holdAtUtilization: opts.holdAtUtilization,
    keeper: keeperFromEnv(env),
  };
}

function positiveIntEnv(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}
