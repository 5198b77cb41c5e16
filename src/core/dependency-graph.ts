/** `depends_on` as a graph: cycle detection (naming the cycle) and a stable topological order. */

export type Graph = ReadonlyMap<string, readonly string[]>;

/** The first cycle found, as a path that starts and ends on the same node, or null. */
export function findCycle(graph: Graph): string[] | null {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): string[] | null => {
    state.set(node, 'visiting');
    stack.push(node);
    for (const dep of graph.get(node) ?? []) {
      if (!graph.has(dep)) continue;
      const s = state.get(dep);
      if (s === 'visiting') return [...stack.slice(stack.indexOf(dep)), dep];
      if (s === undefined) {
        const found = visit(dep);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(node, 'done');
    return null;
  };
  for (const node of graph.keys()) {
    if (state.get(node) === undefined) {
      const found = visit(node);
      if (found) return found;
    }
  }
  return null;
}

/** Nodes ordered so every node comes after its dependencies; ties keep the input order. */
export function topologicalOrder(graph: Graph): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (node: string) => {
    if (seen.has(node)) return;
    seen.add(node);
    for (const dep of graph.get(node) ?? []) if (graph.has(dep)) visit(dep);
    out.push(node);
  };
  for (const node of graph.keys()) visit(node);
  return out;
}
