/** Signal names and numbers: the wire speaks names, the kernel and the wrapper's exit file numbers. */
import os from 'node:os';

const BY_NUMBER = new Map<number, string>(Object.entries(os.constants.signals).map(([name, n]) => [n, name]));

/** `15` -> `SIGTERM`; an unknown number stays visible as `SIG<n>`. */
export function signalName(n: number): string {
  return BY_NUMBER.get(n) ?? `SIG${n}`;
}

/** `SIGTERM` -> 15, or undefined for a name this platform lacks. */
export function signalNumber(name: string): number | undefined {
  return (os.constants.signals as Record<string, number>)[name];
}
