/** The processes commands' handlers (one file per command beside this one). */
import { clean } from './clean.js';
import { killProcess } from './kill-process.js';
import { listProcesses } from './list-processes.js';
import { processInfo } from './process-info.js';
import { readOutput } from './read-output.js';
import { removeProcess } from './remove-process.js';
import { spawnProcess } from './spawn-process.js';
import { waitProcess } from './wait-process.js';

/** Spread into the daemon's handler table. */
export const PROCESS_HANDLERS = {
  spawn_process: spawnProcess,
  list_processes: listProcesses,
  process_info: processInfo,
  read_output: readOutput,
  kill_process: killProcess,
  wait_process: waitProcess,
  remove_process: removeProcess,
  clean,
};
