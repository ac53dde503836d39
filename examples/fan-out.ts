/**
 * Fan a question out to several `claude -p` runs through the daemon and gather their verdicts.
 * Run with the daemon started: `node --import tsx examples/fan-out.ts "question" file1 file2 ...`.
 * The runs belong to the daemon, not to this script: interrupt the script and they go on; rerun
 * `claude-daemon list` to see them.
 */
import { connect, DaemonError } from 'claude-daemon';

const [question = 'Summarise this file in one sentence.', ...files] = process.argv.slice(2);
const daemon = await connect();
try {
  const runs = await Promise.all(
    files.map((file) => daemon.spawnClaude({ prompt: `${question}\n\nFile: ${file}`, allowed_tools: ['Read'], max_turns: 4, stall_timeout_s: 120 })),
  );
  for (const run of runs) {
    const verdict = await daemon.claudeResult({ process_id: run.process_id, wait: true, timeout_s: 600 });
    console.log(`${run.process_id}: ${verdict.is_error ? 'FAILED' : 'ok'}: ${verdict.result ?? ''}`);
  }
} catch (err) {
  if (err instanceof DaemonError) console.error(`daemon said ${err.code}: ${err.message}`);
  else throw err;
} finally {
  daemon.close();
}
