// `node --import dist/bench/cpu-probe.js …`: appends the process's CPU time (user + system, ms) at exit to the
// file named by WHOHAS_CPU_LOG. Wall time on a busy machine says more about the machine than about whohas.
import { appendFileSync } from "node:fs";

const file = process.env.WHOHAS_CPU_LOG;
if (file) {
  process.on("exit", () => {
    const { user, system } = process.cpuUsage();
    appendFileSync(file, `${((user + system) / 1000).toFixed(1)}\n`);
  });
}
