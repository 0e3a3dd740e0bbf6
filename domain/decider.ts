/**
 * A decider holds one aggregate's rules: fold past events into state, turn a command into
 * new events (or refuse it with a DomainError). Pure: no I/O, no clock, no randomness;
 * whatever a decision needs (time, generated ids, hashes) arrives inside the command.
 */
export interface Decider<Command, Event, State> {
  initialState(): State;
  evolve(state: State, event: Event): State;
  decide(command: Command, state: State): Event[];
}

export type DomainErrorCode = 'invalid' | 'not_found' | 'conflict' | 'forbidden';

/** A refused command. `message` tells the user what is wrong and what to do instead. */
export class DomainError extends Error {
  readonly code: DomainErrorCode;
  constructor(code: DomainErrorCode, message: string) {
    super(message);
    this.name = 'DomainError';
    this.code = code;
  }
}

export const refuse = (code: DomainErrorCode, message: string): never => {
  throw new DomainError(code, message);
};

export function fold<E, S>(decider: Pick<Decider<unknown, E, S>, 'initialState' | 'evolve'>, events: Iterable<E>): S {
  let state = decider.initialState();
  for (const e of events) state = decider.evolve(state, e);
  return state;
}
