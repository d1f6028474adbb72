// Minute-level watch: poll only the audit-log feeds (no collect), and alert through the configured webhooks
// (and email) on what the poll brought: privileged changes, and the event rules' findings (self-escalation,
// outsiders, sign-in bursts, activity after offboarding, changes outside the windows). Each event alerts
// once: only events this poll stored are judged.
import type { Logger } from "../connector.js";
import type { Config } from "../config/load.js";
import type { AlertSettings } from "../config/schema.js";
import { eventFindings, type Finding } from "../rules/evaluate.js";
import { RULES } from "../rules/rules.js";
import { postAlert } from "./alerts.js";
import { sendEmail } from "./mail.js";
import { slackText, shown } from "../safe-text.js";
import { openStore } from "../store/db.js";
import { eventsAfter, maxEventId, type StoredEvent } from "../store/events.js";
import { comparableRuns } from "../store/reader.js";
import { SEVERITIES } from "../vocabulary.js";
import { pollEvents, type PollResult } from "../events/engine.js";
import { InventoryIndex, isPrivilegedEvent } from "../events/rules.js";

export interface WatchOptions {
  log: Logger;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface WatchResult {
  poll: PollResult;
  events: number;
  findings: Finding[];
  alerts: { name: string; findings: number; ok: boolean; error?: string }[];
  email?: { ok: boolean; error?: string };
}

const who = (e: StoredEvent) => e.actor.name ?? e.actor.id ?? `an unnamed ${e.actor.kind}`;

function privilegedFinding(e: StoredEvent): Finding {
  const info = RULES["privileged-change"];
  const target = e.target.name ?? e.target.principalId ?? "(unknown target)";
  return {
    id: `privileged-change:${e.source}/${e.scope}/${e.feed}/${e.id}`,
    rule: "privileged-change",
    severity: info.severity,
    title: info.title,
    source: e.source,
    scope: e.scope,
    subject: `${e.source}/${e.scope}/${target}`,
    ...(e.target.principalId ? { principalId: e.target.principalId } : {}),
    detail: `${e.action}${e.target.privilege ? ` ${e.target.privilege}` : ""} on ${target} (${e.providerAction}) — by ${who(e)} at ${e.at.slice(0, 16).replace("T", " ")} UTC${e.ip ? ` from ${e.ip}` : ""}`,
    controls: info.controls as unknown as string[],
    new: true,
  };
}

/** One poll of every enabled feed, then the alerts. The store is opened for the poll and closed after. */
export async function watchOnce(config: Config, opts: WatchOptions): Promise<WatchResult> {
  const db = openStore(config.store.path);
  let poll: PollResult;
  let fresh: StoredEvent[];
  let findings: Finding[] = [];
  try {
    const before = maxEventId(db);
    poll = await pollEvents(db, config, { log: opts.log, signal: opts.signal, env: opts.env });
    fresh = [...eventsAfter(db, before)];
    if (fresh.length > 0) {
      // Judged against the newest collected inventory: who is privileged, who is known, who has left.
      const latest = comparableRuns(db, 1)[0];
      const { findings: rules, inventory } = latest ? eventFindings(db, config, latest.id, fresh) : { findings: [], inventory: new InventoryIndex([], config.identity.aliases) };
      const byId = new Map([...fresh.filter((e) => isPrivilegedEvent(e, inventory)).map(privilegedFinding), ...rules].map((f) => [f.id, f]));
      findings = [...byId.values()];
    }
  } finally {
    db.close();
  }
  const result: WatchResult = { poll, events: fresh.length, findings, alerts: [] };
  if (findings.length === 0) return result;
  for (const alert of config.alerts) {
    const chosen = alertable(alert, findings);
    if (chosen.length === 0) continue;
    try {
      await postAlert(alert, watchBody(alert, chosen), { log: opts.log, env: opts.env, signal: opts.signal, sleep: opts.sleep });
      result.alerts.push({ name: alert.name, findings: chosen.length, ok: true });
      opts.log.info({ alert: alert.name, findings: chosen.length }, "watch alert sent");
    } catch (err) {
      result.alerts.push({ name: alert.name, findings: chosen.length, ok: false, error: (err as Error).message });
      opts.log.error({ alert: alert.name, error: (err as Error).message }, "watch alert failed");
    }
  }
  if (config.email) {
    const lines = findings.map((f) => `${f.severity.toUpperCase()} ${f.rule}: ${shown(f.subject)}: ${shown(f.detail)}`);
    const text = `whohas watch: ${findings.length} alert(s) from the audit logs\n\n${lines.join("\n")}\n`;
    const html = `<pre>${text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)}</pre>`;
    try {
      await sendEmail(config.email, { subject: `${config.email.subject} · watch: ${findings.length} alert(s)`, text, html, attachments: [] }, { log: opts.log, env: opts.env, signal: opts.signal, sleep: opts.sleep });
      result.email = { ok: true };
    } catch (err) {
      result.email = { ok: false, error: (err as Error).message };
      opts.log.error({ error: (err as Error).message }, "watch email failed");
    }
  }
  return result;
}

function alertable(alert: Pick<AlertSettings, "min_severity" | "rules">, findings: Finding[]): Finding[] {
  const limit = SEVERITIES.indexOf(alert.min_severity);
  return findings.filter((f) => (alert.rules as readonly string[]).includes(f.rule) && SEVERITIES.indexOf(f.severity) <= limit);
}

function watchBody(alert: Pick<AlertSettings, "format">, findings: Finding[]): string {
  if (alert.format === "slack") {
    const lines = findings.slice(0, 20).map((f) => `• *${f.severity}* ${slackText(f.rule)}: ${slackText(f.subject)}: ${slackText(f.detail)}`);
    if (findings.length > 20) lines.push(`…and ${findings.length - 20} more (whohas events)`);
    return JSON.stringify({ text: [`whohas watch: ${findings.length} alert(s) from the audit logs`, ...lines].join("\n") });
  }
  return JSON.stringify({
    schema: "whohas.alert/v1",
    run: null,
    previousRun: null,
    trigger: "watch",
    headline: `${findings.length} alert(s) from the audit logs`,
    findings: findings.map((f) => ({ id: f.id, rule: f.rule, severity: f.severity, title: f.title, source: f.source, scope: f.scope, subject: f.subject, detail: f.detail, controls: f.controls })),
  });
}
