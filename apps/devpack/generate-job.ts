/**
 * One download's whole work, from IDL text to .tar.gz bytes: what the console runs in a
 * worker thread (isolated.ts), so a slow IDL never holds its event loop.
 */
import { callerStubs, devPackage, devPackageRoot, esbuildVersion, msecRoot, stubsRoot, tarGz, tsxVersion } from './index.ts';

export interface GenerationJob {
  kind: 'dev-package' | 'stubs';
  service: string;
  idlTag: string;
  idlText: string;
}

/** The archive, or why the IDL cannot be generated from (for a 422). */
export type GenerationResult = { ok: true; tarball: Uint8Array } | { ok: false; message: string };

export function runGeneration(job: GenerationJob): GenerationResult {
  try {
    const { service, idlTag, idlText } = job;
    const tarball = job.kind === 'dev-package'
      ? tarGz(devPackage({ service, idlTag, idlText, msecRoot, tsxVersion, esbuildVersion }), { root: devPackageRoot(service, idlTag) })
      : tarGz(callerStubs({ service, idlTag, idlText }), { root: stubsRoot(service, idlTag) });
    return { ok: true, tarball };
  } catch (error) {
    return { ok: false, message: error instanceof Error ? error.message : String(error) };
  }
}
