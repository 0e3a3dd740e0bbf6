import type { Command } from './context.ts';
import { auditCommands } from './verbs/audit.ts';
import { authCommands } from './verbs/auth.ts';
import { eventsCommands } from './verbs/events.ts';
import { hostCommands } from './verbs/host.ts';
import { projectionCommands } from './verbs/projections.ts';
import { routeCommands } from './verbs/route.ts';
import { serviceCommands } from './verbs/service.ts';
import { upCommands } from './verbs/up.ts';
import { resetPasswordCommands } from './verbs/reset-password.ts';
import { userCommands } from './verbs/user.ts';
import { tokenCommands } from './verbs/token.ts';
import { agentCommands } from './verbs/agents.ts';
import { releaseCommands } from './verbs/releases.ts';
import { kvCommands } from './verbs/kv.ts';
import { configCommands, idlCommands } from './verbs/versioned-files.ts';
import { devPackageCommands } from './verbs/devpack.ts';
import { logsCommands } from './verbs/logs.ts';
import { logSettingsCommands } from './verbs/log-settings.ts';
import { metricsCommands } from './verbs/metrics.ts';
import { alarmCommands } from './verbs/alarm.ts';

/** Every verb of `msec`, in the order `msec help` lists them. */
export const commands: readonly Command[] = [
  ...upCommands,
  ...authCommands,
  ...serviceCommands,
  ...hostCommands,
  ...configCommands,
  ...idlCommands,
  ...devPackageCommands,
  ...routeCommands,
  ...metricsCommands,
  ...alarmCommands,
  ...auditCommands,
  ...eventsCommands,
  ...logsCommands,
  ...logSettingsCommands,
  ...projectionCommands,
  ...userCommands,
  ...tokenCommands,
  ...agentCommands,
  ...releaseCommands,
  ...kvCommands,
  ...resetPasswordCommands,
];
