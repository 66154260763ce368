/**
 * Keys: where one queue's slotflow data lives in Redis, next to BullMQ's own keys.
 *
 * - `slotflow:<queue>:jobs`           sorted set of job ids by creation time (listJobs)
 * - `slotflow:<queue>:job:<id>`       hash: flowId, status, createdAt, snapshot (while unfinished), state, cursor
 * - `slotflow:<queue>:ctl:<id>`       list of control messages, in the order sent (never trimmed while the job runs)
 * - `slotflow:<queue>:ev:<id>`        the job's events, a capped stream, one entry per write (`b`: a JSON array of that write's events)
 * - `slotflow:<queue>:re:<id>`        hash: control message id -> the worker's reply (applied, or the error)
 * - `slotflow:<queue>:expiring`       sorted set of finished job ids by when their keys expire (to trim `jobs`)
 * - `slotflow:<queue>:ctl`            pub/sub channel: "job <id> has new control messages"
 * - `slotflow:<queue>:re`             pub/sub channel: replies to control messages, as they are written
 * A finished job's keys expire after the worker's `retainFinishedMs`.
 * BullMQ's job is `<prefix>:<queue>:<id>`, its lock `<prefix>:<queue>:<id>:lock` (the token of the worker holding it).
 */
export class Keys {
  readonly jobs: string;
  readonly expiring: string;
  readonly channel: string;
  readonly replyChannel: string;
  constructor(
    readonly queue: string,
    readonly bullPrefix: string,
  ) {
    this.jobs = `slotflow:${queue}:jobs`;
    this.expiring = `slotflow:${queue}:expiring`;
    this.channel = `slotflow:${queue}:ctl`;
    this.replyChannel = `slotflow:${queue}:re`;
  }
  replies(id: string): string {
    return `slotflow:${this.queue}:re:${id}`;
  }
  job(id: string): string {
    return `slotflow:${this.queue}:job:${id}`;
  }
  control(id: string): string {
    return `slotflow:${this.queue}:ctl:${id}`;
  }
  events(id: string): string {
    return `slotflow:${this.queue}:ev:${id}`;
  }
  /** BullMQ's hash of the job of this id. */
  bullJob(id: string): string {
    return `${this.bullPrefix}:${this.queue}:${id}`;
  }
  lock(id: string): string {
    return `${this.bullPrefix}:${this.queue}:${id}:lock`;
  }
}
