// Placeholder until the hooks module lands (being written now); every entry refuses.
import { UsageError } from '../errors.ts';
import type { CommandResult } from './types.ts';

const notYet = (): CommandResult => {
  throw new UsageError('hooks: not available in this build yet');
};
export const install = notYet;
export const uninstall = notYet;
export const status = notYet;
export const sessionStart = notYet;
