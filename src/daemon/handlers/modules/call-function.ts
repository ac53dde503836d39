import type { Handler } from '../../registry.js';

/** `call_function`: the reply's `result` is the function's return value itself, as the original design had it. */
export const callFunction: Handler<'call_function'> = (params, { services }) => services.modules.call(params);
