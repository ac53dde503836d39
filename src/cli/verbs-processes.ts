/** The processes verbs (one file each under commands/). */
import type { VerbEntry } from './verbs.js';

/** Spread into the CLI's verb table. */
export const PROCESS_VERBS: Record<string, VerbEntry> = {
  spawn: { summary: 'run a command under the daemon (spawn [--id ID] -- CMD ARGS...)', load: () => import('./commands/spawn.js') },
  list: { summary: 'list processes: id, status, pid, time, command', load: () => import('./commands/list.js') },
  info: { summary: "show one process's record", load: () => import('./commands/info.js') },
  logs: { summary: "print a process's output (--stderr, --tail N, --follow)", load: () => import('./commands/logs.js') },
  kill: { summary: 'stop a process and its whole tree (--signal, --grace)', load: () => import('./commands/kill.js') },
  wait: { summary: "wait for a process to end; exits with the process's exit code", load: () => import('./commands/wait.js') },
  group: { summary: 'show or change scheduling groups (group NAME --parallel N, --pause, --resume)', load: () => import('./commands/group.js') },
  events: { summary: 'print the event journal (--since N, --type T, --process ID); --follow for live events', load: () => import('./commands/events.js') },
  rm: { summary: 'forget an ended process and delete its output', load: () => import('./commands/rm.js') },
  clean: { summary: 'remove ended records (by status, group, age)', load: () => import('./commands/clean.js') },
};
