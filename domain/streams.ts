/** Stream ids of design.md. One place so nobody spells them twice. */
export const streams = {
  /** First-level service ("Flight") or second-level service ("Flight.mod_flight"). */
  service: (name: string) => `service-${name}`,
  user: (name: string) => `user-${name}`,
} as const;
