// Errors and results as the `parley:plugin` contract spells them.

/** An `error` record of `parley:plugin/types`, thrown inside a plugin. */
export class PluginError extends Error {
  constructor(kind, message) {
    super(message);
    this.kind = kind;
  }

  /** The WIT record. */
  get record() {
    return { kind: this.kind, message: this.message };
  }
}

/** The input was not acceptable (`error-kind::invalid-input`). */
export function invalidInput(message) {
  return new PluginError('invalid-input', message);
}

/**
 * Runs `body` and returns its value as `result::ok`, or a thrown
 * `PluginError` as `result::err`. Anything else thrown is a bug and traps.
 */
export function asResult(body) {
  try {
    return { tag: 'ok', val: body() };
  } catch (e) {
    if (e instanceof PluginError) return { tag: 'err', val: e.record };
    throw e;
  }
}
