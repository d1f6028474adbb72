// `node --import dist/bench/rss-probe.js …`: writes the process's peak RSS (maxRSS, KB) and CPU time (ms) as one
// JSON line to the file named by WHOHAS_RSS_LOG at exit, so a benchmark can measure a real CLI command in a
// child process of its own.
import { appendFileSync } from "node:fs";

const file = process.env.WHOHAS_RSS_LOG;
if (file) {
  process.on("exit", () => {
    const { user, system } = process.cpuUsage();
    appendFileSync(file, JSON.stringify({ maxRssKb: process.resourceUsage().maxRSS, cpuMs: Math.round((user + system) / 1000) }) + "\n");
  });
}
