// The randomised review tests' model of what the service must hold: each cell's decisions in force, latest last.
// An undo withdraws the latest one; a cell's effective label is its latest decision, else the model's prediction.
import type { CellClassCode } from '../../src/shared/cell-classes';
import type { ClassCounts } from '../../src/shared/differential';

export class DecisionStacks<D extends { label: CellClassCode }> {
  readonly stacks = new Map<number, D[]>();

  constructor(readonly predicted: ReadonlyMap<number, CellClassCode>) {
    for (const id of predicted.keys()) this.stacks.set(id, []);
  }

  get ids(): number[] {
    return [...this.predicted.keys()];
  }

  decision(id: number): D | null {
    const stack = this.stacks.get(id)!;
    return stack[stack.length - 1] ?? null;
  }

  effective(id: number): CellClassCode {
    return this.decision(id)?.label ?? this.predicted.get(id)!;
  }

  /** Records a decision; returns how many the cell now has in force. */
  add(id: number, decision: D): number {
    const stack = this.stacks.get(id)!;
    stack.push(decision);
    return stack.length;
  }

  /** Withdraws the cell's latest decision; returns how many stay in force. */
  withdraw(id: number): number {
    const stack = this.stacks.get(id)!;
    if (stack.length === 0) throw new Error(`oracle: undo of cell ${id}, which has no decision`);
    stack.pop();
    return stack.length;
  }

  counts(): ClassCounts {
    const counts: ClassCounts = {};
    for (const id of this.ids) {
      const label = this.effective(id);
      counts[label] = (counts[label] ?? 0) + 1;
    }
    return counts;
  }
}
