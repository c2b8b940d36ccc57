// Creates the `test` database the test suite uses when the server lacks it.
import pg from 'pg'

const url = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const target = new URL(url).pathname.slice(1)
const admin = new pg.Client({ connectionString: url.replace(/\/[^/]*$/, '/postgres') })
await admin.connect()
const { rowCount } = await admin.query('select 1 from pg_database where datname = $1', [target])
if (!rowCount) await admin.query(`create database "${target.replaceAll('"', '""')}"`)
await admin.end()
