/** Helpers of the event tests: collect a watch's events until a condition, with a deadline. */
import type { EventLine, EventStream } from '../../src/index.js';

/** Pulls events from `stream` until `done(all)` holds (or fails after `timeoutMs`). */
export async function collect(stream: EventStream, done: (all: EventLine[]) => boolean, timeoutMs = 20_000): Promise<EventLine[]> {
  const all: EventLine[] = [];
  if (done(all)) return all;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out collecting events; got ${JSON.stringify(all.map((e) => [e.seq, e.type, e.process_id]))}`)), timeoutMs);
  });
  try {
    await Promise.race([
      (async () => {
        for (;;) {
          const r = await stream.next();
          if (r.done) throw new Error(`the stream ended; got ${JSON.stringify(all.map((e) => [e.seq, e.type, e.process_id]))}`);
          all.push(r.value);
          if (done(all)) return;
        }
      })(),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
  return all;
}

/** The (type, process_id) pairs of journaled events, for order assertions. */
export function shape(events: readonly EventLine[]): string[] {
  return events.filter((e) => e.seq !== null).map((e) => `${e.type}:${e.process_id ?? '-'}`);
}

/** True when `events` hold an `ended` for each id. */
export function endedAll(events: readonly EventLine[], ids: readonly string[]): boolean {
  return ids.every((id) => events.some((e) => e.type === 'ended' && e.process_id === id));
}
