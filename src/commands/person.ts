// whohas person <email|alias|name>
import { CONNECTORS } from "../../connectors/index.js";
import { loadConfig } from "../config/load.js";
import { findPerson } from "../query/person.js";
import { writeOutput } from "../report/output.js";
import { writePerson, type PersonFormat } from "../report/person.js";
import { inventoryAt } from "../store/reader.js";
import { withStore } from "./common.js";
import { CliUsageError } from "./exit.js";
import { scopesOf, tableWidth } from "./filters.js";
import { runOf } from "./inventory.js";

export const action = (query: string, opts: { config?: string; run?: string; format: PersonFormat; out?: string; wide?: boolean }) => {
  const config = loadConfig(opts.config, CONNECTORS);
  if (query.trim() === "") throw new CliUsageError("person: expected an email, an alias (source:account) or a name");
  withStore(config, (db) => {
    const run = runOf(db, opts.run);
    const match = findPerson(query, () => inventoryAt(db, run.id), config.identity.aliases);
    if (match.kind === "ambiguous") throw new CliUsageError(`person: "${query}" names accounts of ${match.candidates.length} people; ask for one of ${match.candidates.join(", ")}`);
    if (match.kind === "none") throw new CliUsageError(`person: no account matches "${query}" in run ${run.id} (by email, [identity] aliases, login, display name or the name before the @)`);
    writeOutput(opts.out, (sink) =>
      writePerson(sink, run, { query, person: match.key, accounts: match.accounts }, opts.format, { labels: scopesOf(db, run.id).labels, maxWidth: tableWidth(opts, Boolean(opts.out)) }),
    );
  });
};
