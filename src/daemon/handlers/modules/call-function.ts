import type { Handler } from '../../registry.js';

/**
 * `call_function`: the reply's `result` is the function's return value itself, as the original design
 * had it. The value exists in the daemon's memory before its size is known, so the call first takes
 * one of its connection's result slots (bounded memory for a client that pipelines and never reads).
 */
export const callFunction: Handler<'call_function'> = async (params, { services, resultSlot }) => {
  await resultSlot?.();
  return services.modules.call(params);
};
