/**
 * An order pipeline: routines of one job cooperate through the job's shared data (`shared` / `setShared`) and
 * leave an audit trail in its log. Two orders run side by side without seeing each other's data.
 */
import { describe, expect, it } from 'vitest';
import { createFlow, createRuntime, defineRoutine, policies } from 'slotflow';

interface Line {
  sku: string;
  qty: number;
  price: number;
}

const intake = defineRoutine({
  name: 'intake',
  slots: ['order'],
  events: { line: ['sku', 'qty', 'price'] },
  run({ slots, emit, setShared, log }) {
    for (const order of slots.order) {
      const lines = order.lines as Line[];
      setShared((draft) => {
        draft.customer = order.customer;
        draft.total = 0;
      });
      log(`intake: ${lines.length} lines for ${String(order.customer)}`);
      for (const line of lines) emit('line', { ...line });
    }
  },
});

const pricer = defineRoutine({
  name: 'pricer',
  slots: ['line'],
  events: { priced: ['sku', 'amount'] },
  async run({ slots, emit, setShared, log }) {
    await Promise.resolve();
    for (const { sku, qty, price } of slots.line) {
      const amount = Number(qty) * Number(price);
      setShared((draft) => {
        draft.total = Number(draft.total ?? 0) + amount;
        const skus = (draft.skus ??= []) as string[];
        skus.push(String(sku));
      });
      log({ step: 'priced', sku, amount });
      emit('priced', { sku, amount });
    }
  },
});

const invoicer = defineRoutine({
  name: 'invoicer',
  slots: ['priced'],
  events: { invoice: ['customer', 'total'] },
  policy: policies.batch(3),
  run({ shared, emit, log }) {
    log(`invoice: ${String(shared.total)}`);
    emit('invoice', { customer: shared.customer, total: shared.total });
  },
});

const flow = createFlow('orders')
  .add('intake', intake)
  .add('pricer', pricer)
  .add('invoicer', invoicer)
  .connect('intake.line', 'pricer.line')
  .connect('pricer.priced', 'invoicer.priced');

describe('scenario: shared data and log', () => {
  it('lets routines of a job build shared data together, visible to later routines, and logs each step in order', async () => {
    await using rt = createRuntime();
    const job = rt.exec(flow, {
      params: {
        customer: 'ada',
        lines: [
          { sku: 'A', qty: 2, price: 5 },
          { sku: 'B', qty: 1, price: 20 },
          { sku: 'C', qty: 3, price: 10 },
        ],
      },
    });
    const state = await job.wait();

    expect(state.status).toBe('completed');
    expect(state.shared).toEqual({ customer: 'ada', total: 60, skus: ['A', 'B', 'C'] });
    expect(state.log).toEqual([
      'intake: 3 lines for ada',
      { step: 'priced', sku: 'A', amount: 10 },
      { step: 'priced', sku: 'B', amount: 20 },
      { step: 'priced', sku: 'C', amount: 30 },
      'invoice: 60',
    ]);
    expect(state.outputs['invoicer.invoice']).toEqual([{ customer: 'ada', total: 60 }]);
  });

  it('gives each job its own shared data and log', async () => {
    await using rt = createRuntime({ concurrency: 2 });
    const lines = (p: number): Line[] => [
      { sku: 'X', qty: 1, price: p },
      { sku: 'Y', qty: 1, price: p },
      { sku: 'Z', qty: 1, price: p },
    ];
    const a = rt.exec(flow, { params: { customer: 'ada', lines: lines(1) } });
    const b = rt.exec(flow, { params: { customer: 'bob', lines: lines(100) } });
    const [sa, sb] = await Promise.all([a.wait(), b.wait()]);

    expect(sa.shared).toEqual({ customer: 'ada', total: 3, skus: ['X', 'Y', 'Z'] });
    expect(sb.shared).toEqual({ customer: 'bob', total: 300, skus: ['X', 'Y', 'Z'] });
    expect(sa.log).toHaveLength(5);
    expect(sb.log).toHaveLength(5);
    expect(sa.log[0]).toBe('intake: 3 lines for ada');
    expect(sb.log[0]).toBe('intake: 3 lines for bob');
    expect(sa.outputs['invoicer.invoice']).toEqual([{ customer: 'ada', total: 3 }]);
    expect(sb.outputs['invoicer.invoice']).toEqual([{ customer: 'bob', total: 300 }]);
  });

  it('keeps earlier snapshots of shared data unchanged (immer)', async () => {
    await using rt = createRuntime();
    const job = rt.exec(flow, { params: { customer: 'cy', lines: [{ sku: 'A', qty: 1, price: 1 }] } });
    const early = job.state.shared;
    const state = await job.wait();

    expect(state.shared).not.toBe(early);
    expect(state.shared).toEqual({ customer: 'cy', total: 1, skus: ['A'] });
    expect(early).not.toEqual(state.shared);
  });
});
