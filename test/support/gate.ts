/**
 * A gate for fault tests: hooks call `pass(what)`, which waits while the gate is closed.
 * `held` lists what is waiting (or waited) at the closed gate, `seen` everything that came
 * by, so a test can assert the stage it meant to hit was hit before it acts (kills, stops).
 */
export class Gate {
  readonly held: string[] = [];
  readonly seen: string[] = [];
  private isOpen = false;
  private release!: () => void;
  private readonly opened = new Promise<void>((resolve) => (this.release = resolve));

  /** For hooks: records `what`, then waits until open() (at once when already open). */
  readonly pass = async (what = ''): Promise<void> => {
    this.seen.push(what);
    if (this.isOpen) return;
    this.held.push(what);
    await this.opened;
  };

  open(): void {
    this.isOpen = true;
    this.release();
  }

  /** How often `what` came by. */
  count(what: string): number {
    return this.seen.filter((w) => w === what).length;
  }
}
