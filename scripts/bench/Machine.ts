// The state of the machine a benchmark ran on, so a reader can judge the figures: cores, load
// before and after, and how busy the CPUs were (by anything: ours and everybody else's) while
// each measurement ran, from /proc/stat. On a shared machine the ratios in the report matter
// more than the absolute figures.
import { readFileSync } from "node:fs"
import { cpus, freemem, loadavg, totalmem } from "node:os"

interface CpuTimes {
  readonly idle: number
  readonly steal: number
  readonly total: number
}

const readCpu = (): CpuTimes | undefined => {
  try {
    const line = readFileSync("/proc/stat", "utf8")
      .split("\n")
      .find((l) => l.startsWith("cpu "))
    if (!line) return undefined
    const n = line.trim().split(/\s+/).slice(1).map(Number)
    // user nice system idle iowait irq softirq steal guest guest_nice; guests are inside user.
    const total = n.slice(0, 8).reduce((a, b) => a + b, 0)
    return { idle: (n[3] ?? 0) + (n[4] ?? 0), steal: n[7] ?? 0, total }
  } catch {
    return undefined
  }
}

export interface CpuUse {
  /** Share of all cores' time that was busy, 0-1. */
  readonly busy: number
  /** Share taken by the hypervisor for other guests, 0-1. */
  readonly steal: number
}

/** Starts measuring; the returned function says how busy the CPUs were since. */
export const cpuMeter = (): (() => CpuUse | undefined) => {
  const start = readCpu()
  return () => {
    const end = readCpu()
    if (!start || !end || end.total === start.total) return undefined
    const total = end.total - start.total
    return { busy: 1 - (end.idle - start.idle) / total, steal: (end.steal - start.steal) / total }
  }
}

export interface MachineState {
  readonly cpuModel: string
  readonly cores: number
  readonly memoryGiB: number
  readonly freeMemoryGiB: number
  readonly loadAverage: readonly [number, number, number]
  readonly node: string
  readonly platform: string
}

export const machineState = (): MachineState => {
  const info = cpus()
  const [a, b, c] = loadavg()
  return {
    cpuModel: info[0]?.model.trim() ?? "unknown",
    cores: info.length,
    memoryGiB: totalmem() / 2 ** 30,
    freeMemoryGiB: freemem() / 2 ** 30,
    loadAverage: [a ?? 0, b ?? 0, c ?? 0],
    node: process.version,
    platform: `${process.platform} ${process.arch}`
  }
}

/** How busy the CPUs are over `ms` before anything of ours runs: the noise floor. */
export const idleNoise = async (ms = 2000): Promise<CpuUse | undefined> => {
  const stop = cpuMeter()
  await new Promise((r) => setTimeout(r, ms))
  return stop()
}
