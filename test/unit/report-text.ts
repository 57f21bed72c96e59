/** Error reports as the CLI prints them, for tests that read messages the way a user does. */
import type { ErrorReport } from '../../src/core/errors';
import { CLI_SETTINGS, errorText } from '../../src/report/errors';

export function errorOf(error: ErrorReport | null | undefined): string {
  if (!error) throw new Error('expected an error, got none');
  return errorText(error, CLI_SETTINGS);
}
