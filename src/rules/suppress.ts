// Suppressions: a finding the team accepted, hidden until a date, matched by rule and a subject glob.
import type { Suppression } from "../config/load.js";
import { globToRegExp } from "../glob.js";

const compiled = new WeakMap<Suppression, RegExp>();

function matches(s: Suppression, f: { rule: string; subject: string; id: string }): boolean {
  if (s.rule !== f.rule) return false;
  let re = compiled.get(s);
  if (!re) compiled.set(s, (re = globToRegExp(s.subject)));
  return re.test(f.subject) || re.test(f.id);
}

export function matchSuppression(rules: Suppression[], f: { rule: string; subject: string; id: string }): Suppression | undefined {
  return rules.find((s) => matches(s, f));
}

const DAY = 86_400_000;

/**
 * What needs a person's attention in the [[suppress]] list: an entry that matches no finding of the run
 * (a typo, or the risk is gone and the entry is dead weight that would hide a future finding), and one that
 * has expired or expires within `warnDays` (the finding comes back then). `findings` are every finding of
 * the run, open and suppressed; without a run (undefined) only the dates are checked.
 */
export function suppressionWarnings(
  rules: Suppression[],
  findings: Iterable<{ rule: string; subject: string; id: string }> | undefined,
  opts: { now: number; warnDays: number; runId?: number },
): string[] {
  const out: string[] = [];
  // One pass over the findings (a run's may be a stored cursor of hundreds of thousands): which entries match any.
  const matched = new Set<number>();
  if (findings) {
    for (const f of findings) {
      rules.forEach((s, i) => {
        if (!matched.has(i) && matches(s, f)) matched.add(i);
      });
      if (matched.size === rules.length) break;
    }
  }
  rules.forEach((s, i) => {
    const what = `suppress[${i}] (${s.rule} ${JSON.stringify(s.subject)})`;
    if (findings && !matched.has(i)) out.push(`${what} matches no finding${opts.runId !== undefined ? ` of run ${opts.runId}` : ""}`);
    const end = Date.parse(`${s.until}T23:59:59.999Z`);
    const days = Math.floor((end - opts.now) / DAY);
    if (end < opts.now) out.push(`${what} expired on ${s.until}: its findings are reported again`);
    else if (days < opts.warnDays) out.push(`${what} expires on ${s.until} (${days === 0 ? "today" : `in ${days} day(s)`}): review it, or its findings come back`);
  });
  return out;
}
