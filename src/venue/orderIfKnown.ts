import type { Hex } from 'viem'
import { VenueError } from '../core/errors/venue.js'
import type { VenueClient } from './createVenueClient.js'
import type { ReadAuth, VenueOrder } from './types.js'

/** The operator's read of one order by cloid, or undefined when it does not know the cloid (`UnknownOrder`). */
export async function orderIfKnown(venue: Pick<VenueClient, 'order'>, auth: ReadAuth, clientOrderId: Hex): Promise<VenueOrder | undefined> {
  try {
    return await venue.order(auth, clientOrderId)
  } catch (error) {
    if (error instanceof VenueError && error.venueCode === 'UnknownOrder') return undefined
    throw error
  }
}
