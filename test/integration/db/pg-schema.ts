// The PostgreSQL schema as the catalog describes it, in a stable order: what test/fixtures/db/schema.postgres.sql
// holds. Read from pg_catalog rather than pg_dump so that the text does not change with the server's minor version
// or pg_dump's headers, only with the schema.
import type pg from 'pg';

interface Section {
  title: string;
  sql: string;
}

const SECTIONS: Section[] = [
  {
    title: 'table',
    sql: `SELECT c.table_name AS name, '  ' || c.column_name || ' ' || c.data_type || CASE WHEN c.is_nullable = 'NO' THEN ' NOT NULL' ELSE '' END
                 || CASE WHEN c.is_identity = 'YES' THEN ' GENERATED ' || c.identity_generation || ' AS IDENTITY' ELSE '' END
                 || coalesce(' DEFAULT ' || c.column_default, '') AS def
          FROM information_schema.columns AS c
          JOIN information_schema.tables AS t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
          WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
          ORDER BY c.table_name, c.ordinal_position`,
  },
  {
    title: 'constraint',
    sql: `SELECT con.conrelid::regclass::text || '.' || con.conname AS name, pg_get_constraintdef(con.oid) AS def
          FROM pg_constraint AS con JOIN pg_namespace AS n ON n.oid = con.connamespace
          WHERE n.nspname = current_schema() AND con.conrelid <> 0
          ORDER BY 1`,
  },
  {
    title: 'index',
    sql: `SELECT tablename || '.' || indexname AS name, indexdef AS def FROM pg_indexes
          WHERE schemaname = current_schema() ORDER BY tablename, indexname`,
  },
  {
    title: 'trigger',
    sql: `SELECT t.tgrelid::regclass::text || '.' || t.tgname AS name, pg_get_triggerdef(t.oid) AS def
          FROM pg_trigger AS t JOIN pg_class AS c ON c.oid = t.tgrelid JOIN pg_namespace AS n ON n.oid = c.relnamespace
          WHERE n.nspname = current_schema() AND NOT t.tgisinternal
          ORDER BY 1`,
  },
  {
    title: 'function',
    sql: `SELECT p.proname AS name, pg_get_functiondef(p.oid) AS def
          FROM pg_proc AS p JOIN pg_namespace AS n ON n.oid = p.pronamespace
          WHERE n.nspname = current_schema()
          ORDER BY p.proname`,
  },
];

export async function dumpPostgresSchema(client: pg.Client | pg.PoolClient): Promise<string> {
  const parts: string[] = [];
  for (const section of SECTIONS) {
    const { rows } = await client.query<{ name: string; def: string }>(section.sql);
    if (section.title === 'table') {
      // One block per table, its columns in order.
      const tables = new Map<string, string[]>();
      for (const row of rows) tables.set(row.name, [...(tables.get(row.name) ?? []), row.def]);
      for (const [name, columns] of tables) parts.push(`-- table ${name}\n${columns.join('\n')}`);
      continue;
    }
    for (const row of rows) parts.push(`-- ${section.title} ${row.name}\n${row.def.trim()};`);
  }
  return `${parts.join('\n\n')}\n`;
}
