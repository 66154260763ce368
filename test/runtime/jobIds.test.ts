/**
 * Default job ids: UUID version 7 (RFC 9562), unique, and increasing in the order jobs were created, even when many
 * are created within one millisecond or the system clock steps back.
 */
import { createFlow, defineRoutine } from 'slotflow';
import { validate, version } from 'uuid';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { useRuntimes } from '../helpers/runtimes.js';

const runtime = useRuntimes();

afterEach(() => {
  vi.useRealTimers();
});

const noop = defineRoutine({ name: 'noop', slots: ['in'], run() {} });
const flow = createFlow('ids').add('r', noop).entry('r', 'in');

describe('default job ids', () => {
  it('are UUID v7 strings, unique and increasing in creation order', async () => {
    const rt = runtime();
    const ids = Array.from({ length: 1000 }, () => rt.exec(flow, { params: {} }).id);
    await rt.waitForAll();
    for (const id of ids) {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(validate(id) && version(id)).toBe(7);
    }
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });

  it('carry the creation time and keep increasing when the clock steps back', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const rt = runtime();
    const later = Date.UTC(2030, 0, 1);
    vi.setSystemTime(later);
    const first = rt.exec(flow, { params: {} }).id;
    vi.setSystemTime(later - 60_000);
    const second = rt.exec(flow, { params: {} }).id;
    const third = rt.exec(flow, { params: {} }).id;
    vi.useRealTimers();
    await rt.waitForAll();
    expect(Number.parseInt(first.replace('-', '').slice(0, 12), 16)).toBe(later);
    expect(first < second && second < third).toBe(true);
  });
});
