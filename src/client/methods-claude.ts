/** Typed methods of the claude-run commands. */
import type { ParamsIn, ResultOf } from '../protocol/commands.js';
import type { RequestOptions } from './client.js';
import { withParent } from './lineage.js';
import { ProcessMethods } from './methods-processes.js';

/** `claude -p` run methods (spawnClaude, claudeResult, and the live-session ones). */
export abstract class ClaudeMethods extends ProcessMethods {
  /** Starts (or queues) a `claude -p` run built from typed options; resolves with its record. `parent` as spawnProcess. */
  spawnClaude(params: ParamsIn<'spawn_claude'>, opts?: RequestOptions): Promise<ResultOf<'spawn_claude'>> {
    return this.request('spawn_claude', withParent(params), opts);
  }

  /** The run's final text and verdict; with `wait: true`, once it has ended. */
  claudeResult(params: ParamsIn<'claude_result'>, opts?: RequestOptions): Promise<ResultOf<'claude_result'>> {
    return this.request('claude_result', params, opts);
  }

  /** Queues a user turn for a live session (`interactive: true`); resolves with the turn's number. */
  sendMessage(params: ParamsIn<'send_message'>, opts?: RequestOptions): Promise<ResultOf<'send_message'>> {
    return this.request('send_message', params, opts);
  }

  /** Stops a live session's running turn; the session stays for the next one. */
  interrupt(params: ParamsIn<'interrupt'>, opts?: RequestOptions): Promise<ResultOf<'interrupt'>> {
    return this.request('interrupt', params, opts);
  }

  /** Ends a live session once its queued turns have run (claude reads EOF and exits). */
  closeInput(params: ParamsIn<'close_input'>, opts?: RequestOptions): Promise<ResultOf<'close_input'>> {
    return this.request('close_input', params, opts);
  }

  /** Allows or denies a pending permission prompt of a `permissions: "ask"` run (its `pending_permissions`). */
  answerPermission(params: ParamsIn<'answer_permission'>, opts?: RequestOptions): Promise<ResultOf<'answer_permission'>> {
    return this.request('answer_permission', params, opts);
  }
}
