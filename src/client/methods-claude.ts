/** Typed methods of the claude-run commands. */
import type { ParamsIn, ResultOf } from '../protocol/commands.js';
import type { RequestOptions } from './client.js';
import { withParent } from './lineage.js';
import { ProcessMethods } from './methods-processes.js';

/** `claude -p` run methods (spawnClaude, claudeResult). */
export abstract class ClaudeMethods extends ProcessMethods {
  /** Starts (or queues) a `claude -p` run built from typed options; resolves with its record. `parent` as spawnProcess. */
  spawnClaude(params: ParamsIn<'spawn_claude'>, opts?: RequestOptions): Promise<ResultOf<'spawn_claude'>> {
    return this.request('spawn_claude', withParent(params), opts);
  }

  /** The run's final text and verdict; with `wait: true`, once it has ended. */
  claudeResult(params: ParamsIn<'claude_result'>, opts?: RequestOptions): Promise<ResultOf<'claude_result'>> {
    return this.request('claude_result', params, opts);
  }
}
