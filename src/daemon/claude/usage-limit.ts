/**
 * Telling "the account hit its usage limit" apart from every other failure. A run stopped by the
 * limit did nothing wrong: its session can continue once the limit resets, so the scheduler holds
 * work instead of failing it. claude says so in three ways (see ../shared/claude-cli/rate-limits.md):
 * a `rate_limit_event` with status `rejected` before the failed result; a 429 result whose text is
 * one of the limit wordings ("You've hit your session limit · resets 8:44pm (UTC)", "You've
 * reached your ... limit"); and the legacy "Claude AI usage limit reached|<epoch seconds>".
 */
import type { ClaudeRunInfo, ClaudeUsageLimit } from '../../protocol/schemas/claude.js';

/** The wordings claude uses for an exhausted usage window (not a transient 429). */
const LIMIT_TEXT = /\b(hit|reached) your (\w+ )?(session |usage |weekly |daily )?limit\b|usage limit reached/i;
/** The legacy form carries the reset time after a bar. */
const LEGACY = /usage limit reached\|(\d{9,11})/i;

/**
 * The usage limit that ended a failed run, or null when its failure is something else. `text` is
 * the result line's text. The reset time comes from the last `rate_limit_event`, else the legacy
 * text; a limit with no reset time (e.g. disabled by an admin) has `resets_at: null`.
 */
export function usageLimitOf(info: ClaudeRunInfo, text: string | null): ClaudeUsageLimit | null {
  const rejected = info.rate_limit?.status === 'rejected';
  const words = text ?? info.error ?? '';
  const legacy = LEGACY.exec(words);
  const limitText = LIMIT_TEXT.test(words);
  if (!rejected && legacy === null && !(limitText && (info.api_error_status === 429 || info.api_error_status === null))) return null;
  const resetsAt = info.rate_limit?.resets_at ?? (legacy !== null ? Number(legacy[1]) : null);
  const message = words.trim() !== '' ? words.trim() : `usage limit reached (${info.rate_limit?.limit_type ?? 'unknown window'})`;
  return { resets_at: resetsAt, limit_type: info.rate_limit?.limit_type ?? null, message: message.length > 500 ? `${message.slice(0, 499)}…` : message };
}
