/**
 * The package's public entry: the client library. `import { connect } from 'claude-daemon'` is how
 * scripts, modules and the CLI itself talk to the daemon.
 */
export { connect, DaemonClient, type ConnectOptions, type RequestOptions } from './client/client.js';
export { ClientError, DaemonError, type ClientErrorKind } from './client/errors.js';
export { currentProcessId, PROCESS_ID_ENV } from './client/lineage.js';
export { ERROR_CODES, type ErrorCode } from './protocol/errors.js';
export { DEFAULT_SOCKET_PATH, resolveSocketPath } from './protocol/paths.js';
export type { CommandName, CommandResults, ParamsIn, ParamsOut, ResultOf } from './protocol/commands.js';
export type { WireReply, WireRequest, RequestId } from './protocol/envelope.js';
export { EventStream } from './client/event-stream.js';
export { EVENT_TYPES, EMITTED_EVENT_TYPES, RESERVED_EVENT_TYPES, isEventLine, type EventLine, type EventType } from './protocol/events.js';
