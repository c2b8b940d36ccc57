import { pgTable, text, uuid } from 'drizzle-orm/pg-core'
import { createdAt, updatedAt } from './columns.js'

/**
 * A customer of the intake API. Every wallet (and through it every session,
 * order and schedule) belongs to one tenant; `wallets.tenant_id` holds this id.
 */
export const tenants = pgTable('tenants', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull().unique('tenants_name_unique'),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
})

export type TenantRow = typeof tenants.$inferSelect
export type NewTenantRow = typeof tenants.$inferInsert
