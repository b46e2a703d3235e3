/**
 * The check-in flow the runs tests share: Webhook in `hook` (name check-in) → Insert Activity
 * `insert` (partyId from the input's memberId) on the iMIS server `srv` at `imisUrl`, its output
 * wired to the node ids `next`; and the credentials of both for `token`.
 */
export function checkInFlow(imisUrl: string, token: string, next: string[] = []) {
  return {
    flow: [
      { id: 'tab', type: 'tab' },
      { id: 'hook', z: 'tab', type: 'imis-webhook-in', name: 'check-in', wires: [['insert']] },
      {
        id: 'insert',
        z: 'tab',
        type: 'imis-insert-activity',
        name: 'attendance',
        server: 'srv',
        fields: { partyId: '{{ input.memberId }}', activityType: 'MEETING' },
        wires: [next],
      },
      { id: 'srv', type: 'imis-server', baseUrl: imisUrl, retries: 0 },
    ],
    credentials: { hook: { token }, srv: { username: 'MANAGER', password: 'manager' } },
  };
}

/**
 * A node of a flow as Node-RED reads it (a flow file such as examples/*.json, or GET /flows): its
 * id and type, the rest of its fields per type.
 */
export interface FlowNode {
  id: string;
  type: string;
  z?: string;
  name?: string;
  [field: string]: unknown;
}

/** The node of `flows` that `match` picks; throws naming `what` when there is none. */
export function nodeOf(flows: FlowNode[], match: (node: FlowNode) => boolean, what: string): FlowNode {
  const node = flows.find(match);
  if (node === undefined) throw new Error(`the flows have no ${what}`);
  return node;
}

/**
 * A Cron node `id` on tab `z` firing every second (UTC) into `next`; `misfire` says what it does
 * with the seconds missed while no process ran (the system tests and bench/scale.ts).
 */
export function everySecondCron(id: string, z: string, misfire: 'skip' | 'once', next: string[]): FlowNode {
  return {
    id,
    z,
    type: 'imis-cron',
    expression: '* * * * * ? *',
    timeZone: 'UTC',
    enabled: true,
    misfire,
    cfgVersion: 4,
    wires: [next],
  };
}
