/**
 * STYLE rule 4: every compliance suite runs over one setup object, so third-party
 * implementations can run the same suites as ours.
 */
export interface ComplianceSetup<T, Caps = Readonly<Record<string, never>>, Options = undefined> {
  /** Shows in the `describe` title. */
  readonly name: string
  /**
   * What the implementation supports, declared statically so tests can `it.skipIf(...)` at
   * collection time (STYLE rule 3). A missing capability skips visibly; it never passes.
   */
  readonly capabilities?: Caps
  /**
   * A fresh instance. Called before every test (without options), and by some tests again
   * with options (e.g. other limits). Every instance created is given to {@link destroy}.
   */
  create(options?: Options): Promise<T>
  /** Releases an instance after its test. May receive an instance that is already closed. */
  destroy?(instance: T): Promise<void>
}
