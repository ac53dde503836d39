/**
 * Which boot of the machine a record belongs to. A pid and its start time (clock ticks since boot)
 * name a process only within one boot: after a reboot both restart from zero, and an unrelated
 * process can match them exactly. Records therefore carry the kernel's boot id, and nothing from an
 * earlier boot is ever adopted or signalled.
 */
import fs from 'node:fs';

let bootId: string | undefined;
let bootTimeMs: number | undefined;

/** /proc/sys/kernel/random/boot_id (a random UUID per boot), or '' where it cannot be read. */
export function currentBootId(): string {
  if (bootId === undefined) {
    try {
      bootId = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'latin1').trim();
    } catch {
      bootId = '';
    }
  }
  return bootId;
}

/** When this boot began (wall clock, from /proc/stat's btime), or undefined. */
function bootTime(): number | undefined {
  if (bootTimeMs === undefined) {
    try {
      const m = /^btime (\d+)$/m.exec(fs.readFileSync('/proc/stat', 'latin1'));
      if (m) bootTimeMs = Number(m[1]) * 1000;
    } catch {
      // Unknown.
    }
  }
  return bootTimeMs;
}

/**
 * Why a process recorded as started under `recordedBootId` at `startedAt` (ISO) cannot be this
 * boot's, or undefined when it may be. Records written before boot ids were stored (null or absent)
 * are judged by their start: one that began before this boot did is from an earlier one.
 */
export function earlierBoot(recordedBootId: string | null | undefined, startedAt: string | null): string | undefined {
  const now = currentBootId();
  if (typeof recordedBootId === 'string' && recordedBootId !== '' && now !== '') {
    return recordedBootId === now ? undefined : `the machine rebooted since it started (boot id ${recordedBootId}, now ${now}); its pid belongs to this boot's processes, not to it`;
  }
  const boot = bootTime();
  const at = startedAt === null ? NaN : Date.parse(startedAt);
  if (boot !== undefined && at < boot) return `it started (${startedAt}) before the machine's last reboot (${new Date(boot).toISOString()}); its pid belongs to this boot's processes, not to it`;
  return undefined;
}
