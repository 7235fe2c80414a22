import { describe, expect, it } from 'vitest';
import { AppendOnlyIndex } from '../../src/adapters/append-only-index.js';

interface Row { key: string; n: number }

describe('AppendOnlyIndex', () => {
  it('finds items appended after earlier lookups, every item of a key in list order', () => {
    const index = new AppendOnlyIndex<Row>((r) => r.key);
    const list: Row[] = [{ key: 'a', n: 1 }, { key: 'b', n: 2 }];
    expect(index.all(list, 'a')).toEqual([{ key: 'a', n: 1 }]);
    list.push({ key: 'a', n: 3 }, { key: 'c', n: 4 });
    expect(index.all(list, 'a').map((r) => r.n)).toEqual([1, 3]);
    expect(index.find(list, 'a', (r) => r.n > 1)?.n).toBe(3);
    expect(index.find(list, 'c')?.n).toBe(4);
    expect(index.find(list, 'zzz')).toBeUndefined();
  });

  it('hands out the list’s own items (changes made through them land in the list)', () => {
    const index = new AppendOnlyIndex<Row>((r) => r.key);
    const list: Row[] = [{ key: 'a', n: 1 }];
    index.find(list, 'a')!.n = 9;
    expect(list[0]!.n).toBe(9);
  });

  it('scans when an item moved, and starts afresh on a shorter list', () => {
    const index = new AppendOnlyIndex<Row>((r) => r.key);
    const list: Row[] = [{ key: 'a', n: 1 }, { key: 'b', n: 2 }, { key: 'c', n: 3 }];
    expect(index.find(list, 'b')?.n).toBe(2);
    // Swapped in place: the indexed position of b now holds c.
    [list[1], list[2]] = [list[2]!, list[1]!];
    expect(index.find(list, 'b')?.n).toBe(2);
    const shorter: Row[] = [{ key: 'b', n: 7 }];
    expect(index.find(shorter, 'b')?.n).toBe(7);
    expect(index.find(shorter, 'a')).toBeUndefined();
  });
});
