/**
 * Parameters and results of the module commands. Parameter names are the original design's
 * (`module_name`, `function_name`, `args`, `kwargs`) so its clients keep working. The module name is
 * a plain string here: its shape is checked by the handler so a bad name gets INVALID_MODULE_NAME
 * (a code a program can branch on) rather than a generic INVALID_PARAMS.
 */
import { z } from 'zod';
import { ProcessId } from './processes.js';

/** Names a module is allowed to have; anything else could escape the modules directory. */
export const MODULE_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** Longest timeout a call may ask for (one day): a larger one is almost certainly a unit mistake. */
export const MAX_CALL_TIMEOUT_S = 86_400;

/** `load_module`: load, or reload if already loaded (always a new version). */
export const LoadModuleParams = z.object({
  module_name: z.string(),
});

/** `call_function`: args positionally; kwargs by parameter name (Python keywords; JS/TS names in the source). */
export const CallFunctionParams = z.object({
  module_name: z.string(),
  function_name: z.string().min(1),
  args: z.array(z.unknown()).optional(),
  kwargs: z.record(z.string(), z.unknown()).optional(),
  timeout_s: z.number().positive().max(MAX_CALL_TIMEOUT_S).optional(),
  /** Lineage: the tracked process this call is made on behalf of; spawns the call makes record it. */
  parent: ProcessId.nullable().optional(),
});

/** `list_modules` takes nothing. */
export const ListModulesParams = z.object({});

/** `unload_module`: stops every version of the module. */
export const UnloadModuleParams = z.object({
  module_name: z.string(),
});

/** The language a module version runs in; decides worker thread or python3 process. */
export type ModuleLanguage = 'typescript' | 'javascript' | 'python';

/** One exported function and its parameter names as written in the source. */
export interface ModuleFunction {
  name: string;
  params: string[];
}

/** A loaded module version, as `load_module` returns it. */
export interface ModuleInfo {
  module: string;
  /** Increases by one on every successful (re)load; never goes backwards. */
  version: number;
  language: ModuleLanguage;
  functions: ModuleFunction[];
  /** Absolute path of the module's file. */
  path: string;
  /** ISO time the serving version was loaded. */
  loaded_at: string;
}

/** A module in `list_modules`: the serving version plus its counters and the newest load error. */
export interface ModuleListEntry extends ModuleInfo {
  calls_served: number;
  /** Calls currently running on any resident version. */
  calls_in_flight: number;
  /** Times the serving version was restarted after a timeout or crash. */
  restarts: number;
  /** Set while the newest file on disk failed to load (the previous version keeps serving). */
  last_error?: string;
}

/** `list_modules` reply. */
export interface ListModulesResult {
  /** The process running every TypeScript/JavaScript module version: pid and RSS in bytes; null while none runs. */
  module_host?: { pid: number; rss: number } | null;
  modules: ModuleListEntry[];
}

/** `unload_module` reply. */
export interface UnloadModuleResult {
  module: string;
  unloaded: true;
  /** The version that was serving when it was unloaded. */
  version: number;
}

/** This domain's schemas, spread into the command table. */
export const MODULE_SCHEMAS = {
  load_module: LoadModuleParams,
  call_function: CallFunctionParams,
  list_modules: ListModulesParams,
  unload_module: UnloadModuleParams,
} as const;

/** Results of this domain's commands, by command name. */
export interface ModuleResults {
  load_module: ModuleInfo;
  /** The function's return value, exactly as JSON. */
  call_function: unknown;
  list_modules: ListModulesResult;
  unload_module: UnloadModuleResult;
}
