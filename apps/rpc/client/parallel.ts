/**
 * Several calls at once, all awaited (MSEC's mt_exec_all_task): every result comes back,
 * success or failure, in the order of the tasks. A task is a promise or a function giving one
 * (a function that throws counts as a failed task).
 */

export type Settled<T> = { ok: true; value: T } | { ok: false; error: Error };
export type Task<T = unknown> = Promise<T> | (() => Promise<T>);
export type TaskResult<T> = T extends () => Promise<infer R> ? R : T extends Promise<infer R> ? R : never;

export async function parallel<const T extends readonly Task[]>(tasks: T): Promise<{ -readonly [K in keyof T]: Settled<TaskResult<T[K]>> }> {
  const started = tasks.map((t) => (typeof t === 'function' ? new Promise<unknown>((resolve) => resolve(t())) : t));
  const settled = await Promise.allSettled(started);
  return settled.map((s): Settled<unknown> =>
    s.status === 'fulfilled' ? { ok: true, value: s.value } : { ok: false, error: s.reason instanceof Error ? s.reason : new Error(String(s.reason)) },
  ) as { -readonly [K in keyof T]: Settled<TaskResult<T[K]>> };
}
