// Suppressions: a finding the team accepted, hidden until a date, matched by rule and a subject glob.
import type { Suppression } from "../config/load.js";
import { globToRegExp } from "../glob.js";

const compiled = new WeakMap<Suppression, RegExp>();

export function matchSuppression(rules: Suppression[], f: { rule: string; subject: string; id: string }): Suppression | undefined {
  return rules.find((s) => {
    if (s.rule !== f.rule) return false;
    let re = compiled.get(s);
    if (!re) compiled.set(s, (re = globToRegExp(s.subject)));
    return re.test(f.subject) || re.test(f.id);
  });
}
