/**
 * The setup most real-claude test files share: the mock Messages API, a test daemon whose
 * environment runs the real CLI offline against it, a client, and a working directory for runs.
 * One place, so a change to how the CLI is run offline reaches every such file.
 */
import fs from 'node:fs';
import type { DaemonClient } from '../../src/index.js';
import { startTestDaemon, type TestDaemon } from './daemon.js';
import { offlineClaudeEnv, startMockAnthropic, type MockAnthropic } from './mock-anthropic.js';

/** What a real-claude test file works with. */
export interface ClaudeTestSetup {
  mock: MockAnthropic;
  d: TestDaemon;
  c: DaemonClient;
  /** `<daemon dir>/work`, created. */
  cwd: string;
}

/** Starts the mock, then a daemon running claude offline against it (extra daemon args allowed). */
export async function startClaudeTestDaemon(args: string[] = []): Promise<ClaudeTestSetup> {
  const mock = await startMockAnthropic();
  const d = await startTestDaemon({ env: offlineClaudeEnv(mock), ...(args.length > 0 ? { args } : {}) });
  const c = await d.client();
  const cwd = `${d.dir}/work`;
  fs.mkdirSync(cwd);
  return { mock, d, c, cwd };
}

/** Stops the daemon (killing what still runs) and the mock; safe when the start failed half-way. */
export async function stopClaudeTestDaemon(s: Partial<ClaudeTestSetup>): Promise<void> {
  await s.d?.stop({ killProcesses: true });
  await s.mock?.close();
}
