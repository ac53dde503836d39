/** Typed methods of the process commands. */
import type { ParamsIn, ResultOf } from '../protocol/commands.js';
import type { KillProcessesResult, KillResult } from '../protocol/schemas/processes.js';
import type { RequestOptions } from './client.js';
import { withParent } from './lineage.js';
import { CoreMethods } from './methods.js';

/** Process supervision methods (spawnProcess, listProcesses, ...). */
export abstract class ProcessMethods extends CoreMethods {
  /**
   * Starts (or queues) a command; resolves with its record. From inside a tracked process it sends
   * that process as `parent` unless `params` has one (`parent: null`: none).
   */
  spawnProcess(params: ParamsIn<'spawn_process'>, opts?: RequestOptions): Promise<ResultOf<'spawn_process'>> {
    return this.request('spawn_process', withParent(params), opts);
  }

  /** Every record (optionally of one status) with counts by status. */
  listProcesses(params: ParamsIn<'list_processes'> = {}, opts?: RequestOptions): Promise<ResultOf<'list_processes'>> {
    return this.request('list_processes', params, opts);
  }

  /** One record. */
  processInfo(processId: string, opts?: RequestOptions): Promise<ResultOf<'process_info'>> {
    return this.request('process_info', { process_id: processId }, opts);
  }

  /** A slice of captured output by byte offset (or the last lines). */
  readOutput(params: ParamsIn<'read_output'>, opts?: RequestOptions): Promise<ResultOf<'read_output'>> {
    return this.request('read_output', params, opts);
  }

  /**
   * Tree kill with escalation; resolves with the record once the process has ended. With
   * `process_ids` instead of `process_id`, many at once: `{processes: [...]}` once all have ended.
   */
  killProcess(params: ParamsIn<'kill_process'> & { process_ids: string[] }, opts?: RequestOptions): Promise<KillProcessesResult>;
  killProcess(params: ParamsIn<'kill_process'> & { process_id: string }, opts?: RequestOptions): Promise<KillResult>;
  killProcess(params: ParamsIn<'kill_process'>, opts?: RequestOptions): Promise<ResultOf<'kill_process'>> {
    return this.request('kill_process', params, opts);
  }

  /** Waits for the end (or `timeout_s`, then `timed_out: true`). */
  waitProcess(params: ParamsIn<'wait_process'>, opts?: RequestOptions): Promise<ResultOf<'wait_process'>> {
    return this.request('wait_process', params, opts);
  }

  /** Forgets an ended process and deletes its output (`cascade`: its whole subtree, ending what runs). */
  removeProcess(processId: string, opts?: RequestOptions & { cascade?: boolean }): Promise<ResultOf<'remove_process'>> {
    return this.request('remove_process', { process_id: processId, ...(opts?.cascade === true ? { cascade: true } : {}) }, opts);
  }

  /** Removes ended records (all, or by status, group, age) and their files; never live ones. */
  clean(params: ParamsIn<'clean'> = {}, opts?: RequestOptions): Promise<ResultOf<'clean'>> {
    return this.request('clean', params, opts);
  }

  /** Creates or changes a scheduling group (`parallel`, `paused`); resolves with its figures. */
  groupSet(params: ParamsIn<'group_set'>, opts?: RequestOptions): Promise<ResultOf<'group_set'>> {
    return this.request('group_set', params, opts);
  }

  /** Every group: limit, pause, running and queued counts, and why its queue is held. */
  groupList(opts?: RequestOptions): Promise<ResultOf<'group_list'>> {
    return this.request('group_list', {}, opts);
  }
}
