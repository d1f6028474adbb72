// The report email as a benchmark stage (issue #17: no stage holds the whole run), run by bench/store.ts in a
// child process of its own like the store's stages:
//   node --import rss-probe.js mail-stage.js send DB CONFIG   builds the latest run's access review and emails it
//                                                            as `report --send` does, to CONFIG's [email]
//   node mail-stage.js sink                                    an SMTP server on loopback that reads and discards
//                                                            every message; prints its port, runs until killed
// The sink is its own process so that receiving the message does not count in the sender's peak RSS.
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import { CONNECTORS } from "../connectors/index.js";
import { buildReport } from "../src/build-report.js";
import { loadConfig } from "../src/config/load.js";
import { createLogger } from "../src/log.js";
import { deliverEmail } from "../src/daemon/deliver.js";
import { openStore } from "../src/store/db.js";

async function send(dbPath: string, configPath: string): Promise<Record<string, unknown>> {
  const config = loadConfig(configPath, CONNECTORS);
  const start = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  const db = openStore(dbPath);
  try {
    const report = buildReport(db, config, { type: "access-review", history: config.report.history, top: config.report.top });
    // The report is handed over, as report --send does: deliverEmail then writes no report files of its own.
    const d = await deliverEmail(db, config, { run: report.run.id, report, force: true }, { log: createLogger("warn") });
    if (d.status !== "ok") throw new Error(`email ${d.status}: ${d.error ?? d.detail ?? ""}`);
    const used = process.cpuUsage(cpu);
    return { seconds: Number(process.hrtime.bigint() - start) / 1e9, cpuSeconds: (used.user + used.system) / 1e6, principals: report.inventoryCount ?? null, subject: d.detail };
  } finally {
    db.close();
  }
}

async function sink(): Promise<void> {
  let bytes = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    size: 0,
    onData(stream, _session, cb) {
      stream.on("data", (c: Buffer) => void (bytes += c.length));
      stream.on("end", () => cb());
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  process.stdout.write(`${(server.server.address() as AddressInfo).port}\n`);
  process.on("SIGTERM", () => {
    process.stderr.write(`sink: ${bytes} bytes received\n`);
    server.close(() => process.exit(0));
  });
}

const [stage, ...args] = process.argv.slice(2);
if (stage === "send") process.stdout.write(JSON.stringify(await send(args[0]!, args[1]!)) + "\n");
else if (stage === "sink") await sink();
else {
  console.error(`unknown stage ${stage}`);
  process.exit(2);
}
