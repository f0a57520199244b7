/**
 * A `coalesce` for EventConsumer: events with the same key become one (`merge`), in
 * ascending key order, so a batch locks rows (a task, a workflow) in the same order as
 * every other transaction of the service.
 */
export function coalesceBy<T>(key: (event: T) => number, merge: (events: T[]) => T): (events: T[]) => T[] {
  return (events) => {
    const groups = new Map<number, T[]>();
    for (const e of events) {
      const k = key(e);
      const list = groups.get(k);
      if (list) list.push(e);
      else groups.set(k, [e]);
    }
    return [...groups]
      .sort(([a], [b]) => a - b)
      .map(([, list]) => (list.length === 1 ? list[0]! : merge(list)));
  };
}
