import { IllegalTransitionError } from '../errors/errors.js';

/**
 * An explicit transition table for a string-literal lifecycle. Final states have no
 * outgoing edges, so nothing can move them.
 */
export class TransitionTable<S extends string> {
  private readonly edges: ReadonlyMap<S, ReadonlySet<S>>;

  constructor(
    readonly machine: string,
    table: Readonly<Record<S, readonly S[]>>,
  ) {
    this.edges = new Map(Object.entries(table).map(([from, tos]) => [from as S, new Set(tos as S[])]));
  }

  get states(): S[] {
    return [...this.edges.keys()];
  }

  canMove(from: S, to: S): boolean {
    return this.edges.get(from)?.has(to) ?? false;
  }

  /** Sources from which `to` can be reached in one step. */
  sourcesOf(to: S): S[] {
    return this.states.filter((from) => this.canMove(from, to));
  }

  isFinal(state: S): boolean {
    return (this.edges.get(state)?.size ?? 0) === 0;
  }

  assertMove(from: S, to: S): void {
    if (!this.canMove(from, to)) throw new IllegalTransitionError(this.machine, from, to);
  }

  isState(value: string): value is S {
    return this.edges.has(value as S);
  }
}
