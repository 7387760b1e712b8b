// Temporary: bodies of repository functions not yet implemented. Removed once every function is real.
export function pending(name: string, ...args: unknown[]): never {
  throw new Error(`${name} is not implemented yet (${args.length} arguments)`);
}
