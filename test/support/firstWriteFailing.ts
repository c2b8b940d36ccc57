import { sql } from 'drizzle-orm'
import type { Db } from '../../src/store/Database.js'

/**
 * Runs `body` while Postgres refuses the first insert into `table` (or, `on: 'update'`, the first
 * update) whose new row matches `when` (SQL over `new`), as a dropped connection or a process dying
 * there would leave it; later writes go through. A trigger raises `message`; a sequence counts the
 * matching attempts, since its nextval outlives the failed transaction's rollback. `name` names the trigger, its function and sequence;
 * all three are dropped afterwards.
 */
export async function withFirstWriteFailing<T>(db: Db, options: { name: string; table: string; when: string; message: string; on?: 'insert' | 'update' }, body: () => Promise<T>): Promise<T> {
  const { name, table, when, message, on = 'insert' } = options
  await db.execute(sql.raw(`
    create sequence ${name}_once;
    create function ${name}() returns trigger language plpgsql as $$
    begin
      if (${when}) and nextval('${name}_once') = 1 then
        raise exception '${message}';
      end if;
      return new;
    end $$;
    create trigger ${name} before ${on} on ${table} for each row execute function ${name}();`))
  try {
    return await body()
  } finally {
    await db.execute(sql.raw(`drop trigger ${name} on ${table}; drop function ${name}(); drop sequence ${name}_once`))
  }
}
