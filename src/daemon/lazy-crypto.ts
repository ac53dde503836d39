/**
 * The daemon's few uses of node:crypto (random ids, content hashes), loading the module on first
 * use: a daemon that has not spawned or loaded anything yet never needs it, and loading it costs
 * about 0.8 MiB of resident memory, which an idle daemon on every developer's machine would carry.
 */

/** `bytes` random bytes as lowercase hex: unguessable suffixes for generated ids and trash names. */
export function randomHex(bytes: number): string {
  return process.getBuiltinModule('node:crypto').randomBytes(bytes).toString('hex');
}

/** SHA-256 of `text` as hex, cut to `length` characters: a content fingerprint, not a secret. */
export function sha256Hex(text: string, length = 64): string {
  return process.getBuiltinModule('node:crypto').createHash('sha256').update(text).digest('hex').slice(0, length);
}
