import type { Handler } from '../../registry.js';

/** `clean`: removes ended records (by status, group, age) and their files; never live ones. */
export const clean: Handler<'clean'> = (params, { services }) => services.processes.clean(params);
