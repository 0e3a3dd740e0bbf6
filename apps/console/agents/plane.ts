/** What the console's agent routes need, made once per console. */
import type { AgentsState } from '../../../projections/agents.ts';
import { BlobStore } from '../../../adapters/blobs/filesystem.ts';
import type { CommandBus } from '../command-bus.ts';
import type { LiveHost } from '../../projector/agent-live.ts';
import { keptOutputBytes } from '../../projector/agent-reports.ts';
import { AgentRequestVerifier } from './agent-auth.ts';
import { CommandKeys } from './command-keys.ts';
import { OutputBuffers } from './output-buffers.ts';

export interface ConsoleAgentPlane {
  keys: CommandKeys;
  verifier: AgentRequestVerifier;
  outputs: OutputBuffers;
  blobs: BlobStore;
  /** The live hosts view (heartbeats and load). */
  live(): Promise<LiveHost[]>;
}

export interface AgentPlaneInputs {
  commands: CommandBus;
  agents: () => AgentsState;
  keysDir: string;
  blobsDir: string;
  live: () => Promise<LiveHost[]>;
  clock?: () => number;
}

export function consoleAgentPlane(inputs: AgentPlaneInputs): ConsoleAgentPlane {
  const clock = inputs.clock ?? Date.now;
  return {
    keys: new CommandKeys(inputs.commands, inputs.keysDir, clock),
    verifier: new AgentRequestVerifier({
      agent: (ip) => {
        const found = inputs.agents().agents.find((a) => a.ip === ip);
        return found ? { publicKey: found.publicKey, revoked: found.revoked } : undefined;
      },
    }, clock),
    outputs: new OutputBuffers(keptOutputBytes),
    blobs: new BlobStore(inputs.blobsDir),
    live: inputs.live,
  };
}
