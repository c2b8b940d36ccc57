import type { Address } from 'viem'
import type { EventType, SandboxEvent } from './types.js'

export type EventListener = (event: SandboxEvent) => void

/** One wallet's event stream: `seq` from 1, strictly +1, kept in memory for replay. */
export class EventLog {
  private readonly events: SandboxEvent[] = []
  private readonly listeners = new Set<EventListener>()

  constructor(private readonly wallet: Address) {}

  get head(): number {
    return this.events.length
  }

  append(type: EventType, at: number, fields: { clientOrderId?: SandboxEvent['clientOrderId']; orderId?: string; data: Record<string, unknown> }): SandboxEvent {
    const event: SandboxEvent = { seq: String(this.events.length + 1), type, wallet: this.wallet, at, ...fields }
    this.events.push(event)
    for (const listener of this.listeners) listener(event)
    return event
  }

  /** Events with seq > `since`. */
  since(since: number): SandboxEvent[] {
    return this.events.slice(Math.max(0, since))
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }
}
