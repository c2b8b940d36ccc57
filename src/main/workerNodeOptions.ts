/**
 * The node flags the worker runs with in production: the Docker image sets them
 * as `NODE_OPTIONS`, and the throughput benchmark and the drill start their
 * worker processes with them.
 *
 * `--max-semi-space-size=64` lets V8's young generation grow to 64 MB per
 * semi-space (Node 20's default is 16 MB). The worker allocates about 450 KB per
 * order, nearly all of it short-lived (a scavenge frees ~14.6 of every 16 MB), so
 * with the default it scavenges every ~35 orders, each time copying the objects
 * of the orders in flight and promoting those that outlive two scavenges.
 * Measured on the throughput benchmark (3 warm-up bursts + one of 3,000 orders):
 * scavenges over the run fell from 347 to 128 and their main-thread pauses from
 * 1.19 s to 0.72 s, V8's helper threads' CPU during the burst from about 10% of
 * the main thread's to 5%; over eight paired runs the worker's CPU per order fell
 * from 2.56 to 2.30 signatures on average (lower in all eight; 2.21 → 2.02 against
 * the signature sampled during the burst), for at most 96 MB more memory under
 * load (two semi-spaces: 32 → 128 MB).
 */
export const WORKER_NODE_OPTIONS = ['--max-semi-space-size=64'] as const
