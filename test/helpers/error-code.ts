/** For tests that expect a request to fail with a code: the code it failed with, undefined if it succeeded. */
export async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  }
}
