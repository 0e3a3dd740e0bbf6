/** The part of time travel both routes share: `?at=` to a past state, refusals as problems. */
import { HttpProblem } from './problems.ts';
import { TimeTravelRefused, type PastState, type StateHistory } from './state-history.ts';

export async function pastState(history: StateHistory, at: string): Promise<PastState> {
  try {
    return await history.at(at);
  } catch (err) {
    if (err instanceof TimeTravelRefused) throw new HttpProblem(err.status, 'invalid', err.message);
    throw err;
  }
}

/** "position 42 (2024-05-01T10:00:00.000Z)". */
export function describeAt(at: PastState['at']): string {
  return `position ${at.position}${at.time ? ` (${at.time})` : ' (before the first event)'}`;
}

/** The `at` query parameter of the routes that travel in time. */
export const atParameter = {
  type: 'string', minLength: 1, maxLength: 40,
  description: 'A position of the log (e.g. 1200), an ISO-8601 time (2024-05-01T10:00:00Z) or epoch milliseconds: the answer as of then',
} as const;
