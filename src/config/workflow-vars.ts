// The values of `{{var}}` in a workflow: its `settings:`, overridden by config `settings.*` (and
// by the Python tool's .orchestrator.yaml, which held exactly such overrides). Applied when
// checks run, never written into the state's copy of the definition.
import { settingsVars, type WorkflowDefinition } from '../engine/definition.ts';
import type { Config } from './load.ts';

export function workflowVars(def: WorkflowDefinition, config: Config | undefined): Record<string, string> {
  const vars = settingsVars(def);
  for (const [name, { value }] of config?.settings ?? []) if (value !== null) vars[name] = String(value);
  return vars;
}
