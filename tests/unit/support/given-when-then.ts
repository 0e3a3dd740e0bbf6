import assert from 'node:assert/strict';
import { DomainError, fold, type Decider, type DomainErrorCode } from '../../../domain/decider.ts';

/**
 * Specifications for deciders, read as one sentence:
 *
 *   spec(serviceDecider).given([created]).when(addHost).then([hostAdded]);
 *   spec(serviceDecider).given([]).when(addHost).thenFails('not_found', /create it first/);
 *
 * `then` also folds the new events onto the state, so an event the decider emits but its
 * own evolve cannot take fails the spec too.
 */
export function spec<C, E, S>(decider: Decider<C, E, S>) {
  return {
    given(history: E[] = []) {
      return {
        when(command: C) {
          const decide = () => decider.decide(command, fold(decider, history));
          return {
            then(expected: E[]): void {
              const actual = decide();
              assert.deepEqual(actual, expected);
              fold(decider, [...history, ...actual]);
            },
            thenNothing(): void {
              assert.deepEqual(decide(), []);
            },
            thenFails(code: DomainErrorCode, message: RegExp): void {
              assertRefused(decide, code, message);
            },
          };
        },
      };
    },
  };
}

/** The state after `history`, for the few facts that are about state rather than events. */
export function stateAfter<C, E, S>(decider: Decider<C, E, S>, history: E[]): S {
  return fold(decider, history);
}

/** Asserts that `run` is refused with `code` and a message matching `message`. */
export function assertRefused(run: () => unknown, code: DomainErrorCode, message: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof DomainError, `expected a DomainError, got ${String(error)}`);
    assert.equal(error.code, code, `code of "${error.message}"`);
    assert.match(error.message, message);
    return true;
  });
}
