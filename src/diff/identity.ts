// Matching one person's accounts across sources: by normalized email, by a login that is an email
// (UPN, Google primary email), or through the config's alias table for logins that carry no email.

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function normalizeEmail(value: string): string {
  return value.trim().toLowerCase();
}

export function personKey(p: { source: string; name: string; email: string | null }, aliases: Record<string, string>): string | null {
  const alias = aliases[`${p.source}:${p.name}`];
  if (alias) return normalizeEmail(alias);
  if (p.email && EMAIL.test(p.email.trim())) return normalizeEmail(p.email);
  if (EMAIL.test(p.name.trim())) return normalizeEmail(p.name);
  return null;
}
