/**
 * Iterates `source` one item ahead: the next item is asked for as soon as one is handed out,
 * so receiving a streamed batch overlaps with storing the one before. At most one item
 * waits beyond the one being worked on. Stopping early (break or throw) ends the source
 * without waiting for the item it may still be producing.
 */
export async function* readAhead<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]();
  let finished = false;
  try {
    let next = it.next();
    for (;;) {
      const r = await next;
      if (r.done) {
        finished = true;
        return;
      }
      next = it.next();
      // Seen when it is awaited; until then a failure must not count as unhandled.
      next.catch(() => undefined);
      yield r.value;
    }
  } finally {
    if (!finished) void it.return?.()?.catch(() => undefined);
  }
}
