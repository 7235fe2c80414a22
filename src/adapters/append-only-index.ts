/**
 * Positions of a list's items by a key that never changes, for lists that only grow at the end
 * (the embedded back end's subscribers and requests). Each lookup first indexes whatever was
 * appended since the last one; a shorter list (a replaced file) starts the index afresh. A position
 * whose item no longer has the key (should an item ever move) makes that lookup scan the list.
 * Lookups cost a map read instead of a walk over every request ever filed.
 */
export class AppendOnlyIndex<T> {
  private readonly positions = new Map<string, number[]>();
  private indexed = 0;

  constructor(private readonly keyOf: (item: T) => string | undefined) {}

  /** The items of `list` whose key is `key`, in list order. */
  all(list: readonly T[], key: string): T[] {
    if (list.length < this.indexed) {
      this.positions.clear();
      this.indexed = 0;
    }
    for (; this.indexed < list.length; this.indexed++) {
      const k = this.keyOf(list[this.indexed]!);
      if (k === undefined) continue;
      const at = this.positions.get(k);
      if (at) at.push(this.indexed);
      else this.positions.set(k, [this.indexed]);
    }
    const out: T[] = [];
    for (const i of this.positions.get(key) ?? []) {
      const item = list[i];
      if (item === undefined || this.keyOf(item) !== key) return list.filter((x) => this.keyOf(x) === key);
      out.push(item);
    }
    return out;
  }

  /** The first item whose key is `key` and that passes `test`, or undefined. */
  find(list: readonly T[], key: string, test: (item: T) => boolean = () => true): T | undefined {
    return this.all(list, key).find(test);
  }
}
