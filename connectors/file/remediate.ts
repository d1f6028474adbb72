// The file connector's remediation: a system without an API gets a task list for its owner, one CSV and one
// Markdown checklist per source in tasks_dir (0600, rewritten whole). Nothing is changed anywhere; the next
// import of the export shows whether the owner did it (whohas plan then records the action done).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { ActionRequest, Remediator } from "../../src/remediate/contract.js";
import { ensurePrivateDir, writeFileAtomic } from "../../src/private-files.js";
import { csvLine, parseCsv } from "../../src/csv.js";
import { markdownText } from "../../src/safe-text.js";
import type { FileOptions } from "./options.js";

const HEADER = ["task", "system", "account", "account_id", "credential", "privilege", "requested_at", "status"];

function what(r: ActionRequest): string {
  const t = r.target;
  return t.credential ? `switch off credential ${t.credential.name ?? t.credential.id} of ${t.principal.name}` : t.grant ? `remove ${t.grant.privilege} from ${t.principal.name}` : `disable account ${t.principal.name}`;
}

export function createFileRemediator(sourceId: string, opts: FileOptions): Remediator {
  const dir = opts.tasks_dir ?? join(opts.path, "..");
  const csvPath = join(dir, `${sourceId}-tasks.csv`);
  const mdPath = join(dir, `${sourceId}-tasks.md`);

  const rows = (): string[][] => (existsSync(csvPath) ? parseCsv(readFileSync(csvPath, "utf8")).slice(1).map((row) => HEADER.map((_h, i) => row.fields[i] ?? "")) : []);
  const write = (all: string[][]) => {
    ensurePrivateDir(dir, "task list directory");
    writeFileAtomic(csvPath, csvLine(HEADER) + all.map(csvLine).join(""));
    const md = [`# Access changes requested by whohas for ${markdownText(sourceId)}`, "", "Tick a task once done; the next import of the export shows it.", ""];
    for (const r of all) md.push(`- [${r[7] === "open" ? " " : "x"}] ${markdownText(r[0])} in ${markdownText(r[1])} (requested ${markdownText(r[6])})`);
    writeFileAtomic(mdPath, md.join("\n") + "\n");
  };
  const add = (r: ActionRequest, task: string) => {
    const all = rows();
    all.push([task, r.target.scope, r.target.principal.name, r.target.principal.id, r.target.credential?.id ?? "", r.target.grant?.privilege ?? "", new Date().toISOString(), "open"]);
    write(all);
  };

  return {
    supports: ["task"],
    async inspect(ctx, r) {
      ctx.countRequest(r.target.scope);
      const open = rows().some((row) => row[3] === r.target.principal.id && row[7] === "open" && row[0] === what(r));
      return open ? { state: "already-done", detail: `the task is already on ${csvPath}` } : { state: "ready", detail: `no open task for ${r.target.principal.name}` };
    },
    async apply(ctx, r) {
      ctx.countRequest(r.target.scope);
      add(r, what(r));
      return { status: "done", undo: { task: what(r) }, answer: `task for the owner of ${r.target.scope} in ${csvPath} and ${mdPath}` };
    },
    async undo(ctx, r) {
      ctx.countRequest(r.target.scope);
      add(r, `restore: ${what(r)}`);
      return { status: "done", answer: `restore task in ${csvPath}` };
    },
  };
}
