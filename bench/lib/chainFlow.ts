/**
 * The benchmark's chain: `length` routines `r0 -> r1 -> ...`, each a trivial async step (n -> n + 1), entry
 * `r0.in`. Built from whichever slotflow module the caller loaded (source or dist).
 */
type Slotflow = typeof import('slotflow');
type Flow = Parameters<ReturnType<Slotflow['createRuntime']>['exec']>[0];

interface LooseBuilder {
  add(id: string, routine: unknown): LooseBuilder;
  connect(from: string, to: string): LooseBuilder;
  entry(routine: string, slot: string): LooseBuilder;
}

/** The trivial step every contender runs: n -> n + 1, as an async function. */
export function incRoutine(sf: Slotflow) {
  return sf.defineRoutine({
    name: 'inc',
    slots: ['in'],
    events: { out: ['n'] },
    // eslint-disable-next-line @typescript-eslint/require-await -- the shape being measured: a trivial async step
    async run(ctx) {
      for (const payload of ctx.slots.in) ctx.emit('out', { n: Number(payload.n) + 1 });
    },
  });
}

export function chainFlow(sf: Slotflow, id: string, length: number, inc: unknown = incRoutine(sf)): Flow {
  // built generically: the typed builder cannot name ids in a loop, so the loop goes through a loose view
  let flow = sf.createFlow(id) as unknown as LooseBuilder;
  for (let i = 0; i < length; i++) flow = flow.add(`r${i}`, inc);
  for (let i = 0; i + 1 < length; i++) flow = flow.connect(`r${i}.out`, `r${i + 1}.in`);
  return flow.entry('r0', 'in') as unknown as Flow;
}
