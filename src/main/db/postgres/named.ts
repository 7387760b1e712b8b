// The repositories' SQL names its parameters (@caseId), as better-sqlite3 allows; node-postgres only knows $1, $2 …
// This turns one into the other so the PostgreSQL repositories can reuse the reviewed SQL text as it is. A name used
// twice is one parameter; text inside '…' strings, "…" identifiers and -- comments is left alone, and so are
// operators such as @> that are not followed by a name.
export interface PositionalQuery {
  text: string;
  values: unknown[];
}

export function named(sql: string, params: Readonly<Record<string, unknown>>): PositionalQuery {
  const positions = new Map<string, number>();
  const values: unknown[] = [];
  let text = '';
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i]!;
    if (ch === "'" || ch === '"') {
      // Copy a quoted string or identifier whole ('' and "" inside are its own escapes).
      let j = i + 1;
      while (j < sql.length && !(sql[j] === ch && sql[j + 1] !== ch)) j += sql[j] === ch ? 2 : 1;
      text += sql.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    if (ch === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end === -1 ? sql.length : end;
      text += sql.slice(i, stop);
      i = stop;
      continue;
    }
    const name = ch === '@' ? /^[A-Za-z_][A-Za-z0-9_]*/.exec(sql.slice(i + 1))?.[0] : undefined;
    if (name === undefined) {
      text += ch;
      i++;
      continue;
    }
    if (!Object.hasOwn(params, name)) throw new Error(`SQL parameter @${name} has no value`);
    let position = positions.get(name);
    if (position === undefined) {
      values.push(params[name]);
      position = values.length;
      positions.set(name, position);
    }
    text += `$${position}`;
    i += 1 + name.length;
  }
  return { text, values };
}

/**
 * SQLite's `?` placeholders as $1, $2 …, for statements both engines share (text inside '…' strings and "…"
 * identifiers is left alone).
 */
export function positional(sql: string): string {
  let n = 0;
  return sql.replace(/'(?:[^']|'')*'|"(?:[^"]|"")*"|\?/g, (token) => (token === '?' ? `$${++n}` : token));
}
