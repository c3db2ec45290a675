// A private Redis Cluster for development and tests: 6 `redis-server --cluster-enabled yes`
// processes on free ports (3 masters, 3 replicas, AOF fsync every second), joined by
// `redis-cli --cluster create --cluster-replicas 1`. Single nodes can be SIGKILLed and
// restarted to test failover.
//
// Settings that matter for failover (measured: a replica takes over a SIGKILLed master in about
// 3 s):
// - cluster-node-timeout 2000: a master unreachable for 2 s is marked failed;
// - cluster-replica-validity-factor 0: a replica always may take over (with the default, a
//   replica that has not heard from its master recently refuses, e.g. right after start-up);
// - cluster-require-full-coverage no: while one shard fails over, the other shards keep serving.
import { spawnSync } from "node:child_process"
import { mkdtempSync, mkdirSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import {
  atExit,
  canConnect,
  freePort,
  redisProcess,
  type RedisProcess,
  waitFor,
  which,
  type LocalRedis
} from "./localServices.ts"

export interface ClusterNode {
  readonly port: number
  readonly address: string
  readonly dir: string
  /** Whether the process is running (not killed or stopped). */
  readonly running: boolean
  /** SIGKILL: a crash, with whatever AOF (fsync every second) kept. */
  kill(): Promise<void>
  /** Starts it again on the same port and directory; it rejoins the cluster (as a replica if it lost its slots). */
  restart(): Promise<void>
  /** `CLUSTER NODES`-style role of this node right now, asked of the node itself. */
  role(): Promise<"master" | "replica" | "down">
}

export interface LocalRedisCluster extends LocalRedis {
  /** `redis-cluster://127.0.0.1:p1,127.0.0.1:p2,...`, what `REDIS_URL` and `RedisClient.layer` take. */
  readonly url: string
  /** `127.0.0.1:p1,...`, the value for REDIS_CLUSTER_NODES. */
  readonly seeds: string
  readonly nodes: ReadonlyArray<ClusterNode>
  /** The node that is master of `key`'s slot now. */
  masterOf(key: string): Promise<ClusterNode>
  /** Resolves when every slot is served by a master that answers (after a failover). */
  waitHealthy(timeoutMs?: number): Promise<void>
}

export interface ClusterOptions {
  readonly masters?: number
  readonly replicasPerMaster?: number
  readonly nodeTimeoutMs?: number
  readonly extraArgs?: ReadonlyArray<string>
}

const cli = (port: number, ...args: ReadonlyArray<string>): string => {
  const r = spawnSync("redis-cli", ["-h", "127.0.0.1", "-p", String(port), ...args], {
    encoding: "utf8",
    timeout: 10_000
  })
  if (r.status !== 0) throw new Error(`redis-cli -p ${port} ${args.join(" ")}: ${r.stderr || r.stdout}`)
  return r.stdout
}

const info = (text: string): Record<string, string> =>
  Object.fromEntries(
    text
      .split(/\r?\n/)
      .filter((l) => l.includes(":"))
      .map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 1).trim()])
  )

export const startRedisCluster = async (options: ClusterOptions = {}): Promise<LocalRedisCluster> => {
  const bin = which("redis-server")
  if (!bin || !which("redis-cli"))
    throw new Error("redis-server/redis-cli not found: install Redis (Debian: apt-get install redis-server)")
  const count = (options.masters ?? 3) * (1 + (options.replicasPerMaster ?? 1))
  const root = mkdtempSync(join(tmpdir(), "bank-redis-cluster-"))

  const ports: Array<number> = []
  while (ports.length < count) {
    const port = await freePort()
    // The cluster bus listens on port + 10000; both must be free.
    if (!ports.includes(port) && port + 10000 < 65536 && !(await canConnect(port + 10000))) ports.push(port)
  }

  const processes = new Map<number, RedisProcess>()
  const makeNode = (port: number): ClusterNode => {
    const dir = join(root, String(port))
    mkdirSync(dir, { recursive: true })
    const server = redisProcess(bin, port, dir, {
      args: [
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        "nodes.conf",
        "--cluster-node-timeout",
        String(options.nodeTimeoutMs ?? 2000),
        "--cluster-replica-validity-factor",
        "0",
        "--cluster-require-full-coverage",
        "no",
        "--appendonly",
        "yes",
        "--appendfsync",
        "everysec",
        "--save",
        "",
        ...(options.extraArgs ?? [])
      ]
    })
    processes.set(port, server)
    return {
      port,
      address: `127.0.0.1:${port}`,
      dir,
      get running() {
        return server.running
      },
      kill: () => server.halt("SIGKILL"),
      restart: async () => {
        await server.halt("SIGTERM")
        await server.launch()
      },
      role: async () => {
        if (!server.running) return "down"
        try {
          return info(cli(port, "INFO", "replication")).role === "master" ? "master" : "replica"
        } catch {
          return "down"
        }
      }
    }
  }

  const nodes = ports.map(makeNode)
  const killAll = () => {
    for (const server of processes.values()) server.signal("SIGKILL")
  }
  const forget = atExit(() => {
    killAll()
    rmSync(root, { recursive: true, force: true })
  })
  await Promise.all([...processes.values()].map((server) => server.launch()))
  const created = spawnSync(
    "redis-cli",
    [
      "--cluster",
      "create",
      ...nodes.map((n) => n.address),
      "--cluster-replicas",
      String(options.replicasPerMaster ?? 1),
      "--cluster-yes"
    ],
    { encoding: "utf8", timeout: 60_000 }
  )
  if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stderr || created.stdout}`)

  const live = () => nodes.filter((n) => n.running)
  const masterOf = async (key: string): Promise<ClusterNode> => {
    for (const node of live()) {
      try {
        const slot = Number(cli(node.port, "CLUSTER", "KEYSLOT", key).trim())
        for (const line of cli(node.port, "CLUSTER", "NODES").split("\n")) {
          const fields = line.split(" ")
          if (!fields[2]?.includes("master") || fields[2].includes("fail")) continue
          for (const range of fields.slice(8)) {
            const [from, to] = range.split("-").map(Number)
            if (slot >= from! && slot <= (to ?? from!)) {
              const port = Number(fields[1]!.split("@")[0]!.split(":")[1])
              const found = nodes.find((n) => n.port === port)
              if (found) return found
            }
          }
        }
      } catch {
        /* ask the next node */
      }
    }
    throw new Error(`no live master serves the slot of ${key}`)
  }

  // Healthy: every live node says cluster_state ok with all 16384 slots ok, every master that
  // serves slots is a node that runs (a killed master's slots were taken over), and every
  // running replica is in sync with its master.
  const waitHealthy = (timeoutMs = 60_000) =>
    waitFor(
      "the Redis Cluster to cover every slot with live masters",
      async () => {
        const running = live()
        if (running.length === 0) return false
        const runningPorts = new Set(running.map((n) => n.port))
        for (const node of running) {
          try {
            const state = info(cli(node.port, "CLUSTER", "INFO"))
            if (state.cluster_state !== "ok" || state.cluster_slots_ok !== "16384") return false
            // A replica counts once its link to its master is up (the first sync is done).
            const replication = info(cli(node.port, "INFO", "replication"))
            if (replication.role === "slave" && replication.master_link_status !== "up") return false
            for (const line of cli(node.port, "CLUSTER", "NODES").split("\n")) {
              const fields = line.split(" ")
              if (!fields[2]?.includes("master") || fields.length <= 8) continue
              const port = Number(fields[1]!.split("@")[0]!.split(":")[1])
              if (!runningPorts.has(port) || fields[2].includes("fail")) return false
            }
          } catch {
            return false
          }
        }
        return true
      },
      timeoutMs
    )

  try {
    await waitHealthy()
  } catch (error) {
    forget()
    killAll()
    throw error
  }

  const seeds = nodes.map((n) => n.address).join(",")
  return {
    url: `redis-cluster://${seeds}`,
    seeds,
    port: nodes[0]!.port,
    dir: root,
    nodes,
    masterOf,
    waitHealthy,
    kill: async () => {
      await Promise.all(nodes.map((n) => n.kill()))
    },
    restart: async () => {
      await Promise.all(nodes.map((n) => n.restart()))
      await waitHealthy()
    },
    stop: async () => {
      forget()
      await Promise.all([...processes.values()].map((server) => server.halt("SIGTERM", 5000)))
      rmSync(root, { recursive: true, force: true })
    }
  }
}
