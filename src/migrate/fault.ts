// Fault injection for the crash tests: ORCHESTRATOR_FAULT_INJECT=<step> makes the process kill
// itself with SIGKILL when the migration reaches that journal step, as a power cut would.
export function faultPoint(step: string): void {
  if (process.env.ORCHESTRATOR_FAULT_INJECT === step) process.kill(process.pid, 'SIGKILL');
}
