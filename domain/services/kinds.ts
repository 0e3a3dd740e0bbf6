import { refuse } from '../decider.ts';
import type { ServiceKind } from './events.ts';

/** Standard services speak SRPC and get the full tool chain; odd (heterogeneous) services
 *  are only ip:port entries in the name service, like the "heterogeneous services" menu of MSEC. */
export const serviceKinds: readonly ServiceKind[] = ['standard', 'odd'];

/** Commands arrive from HTTP and CLI, so the union type is checked at run time as well. */
export function checkKind(kind: string): ServiceKind {
  if (!(serviceKinds as readonly string[]).includes(kind)) {
    return refuse('invalid', `service kind "${kind}" is unknown; use "standard" or "odd"`);
  }
  return kind as ServiceKind;
}
