import { describe, expect, it } from 'vitest'
import { type CpuSnapshot, cpuPerUnit } from '../../bench/drill/machineCpu.js'

const snapshot = (machine: number, postgres: [number, number][]): CpuSnapshot => ({ machine, cores: 2, byPart: new Map([['Postgres', new Map(postgres)]]) })

describe('cpuPerUnit (the throughput bench split of the machine CPU)', () => {
  it('counts each process by its own delta: one that exited lands in other, not as a negative part', () => {
    // Backend 10 ran 300 µs more; autovacuum worker 11 (5,000 µs before) exited meanwhile.
    const split = cpuPerUnit(snapshot(100_000, [[10, 1_000], [11, 5_000]]), snapshot(101_000, [[10, 1_300]]), 1)
    expect(split.parts).toEqual([{ name: 'Postgres', micros: 300 }, { name: 'other', micros: 700 }])
  })

  it('counts a process that started inside the stretch in full, and a reused pid as the new process', () => {
    // Pid 12 is new (400 µs); pid 10 now belongs to a new backend that has used 50 µs, less than the old one had.
    const split = cpuPerUnit(snapshot(0, [[10, 1_000]]), snapshot(2_000, [[10, 50], [12, 400]]), 2)
    expect(split.parts).toEqual([{ name: 'Postgres', micros: 225 }, { name: 'other', micros: 775 }])
  })
})
