import { auditProjection } from './audit.ts';
import { catalogProjection } from './catalog.ts';
import type { Projection } from './projection.ts';
import { routingProjection } from './routing.ts';
import { usersProjection } from './users.ts';
import { agentsProjection } from './agents.ts';
import { logSettingsProjection } from './log-settings.ts';
import { monitoringProjection } from './monitoring.ts';
import { releasesProjection } from './releases.ts';
import { kvProjection } from './kv.ts';

/** The projections the projector runs by default, in the order their status is listed. */
export const defaultProjections: readonly Projection[] = [
  catalogProjection as Projection,
  routingProjection as Projection,
  usersProjection as Projection,
  agentsProjection as Projection,
  logSettingsProjection as Projection,
  monitoringProjection as Projection,
  releasesProjection as Projection,
  kvProjection as Projection,
  auditProjection,
];
