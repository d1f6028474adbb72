// Last line of defence: secret values a source resolved are cut out of any text before it is stored or printed.

export class Redactor {
  private readonly secrets = new Set<string>();

  add(secret: string): void {
    // Very short values would redact ordinary words; real secrets are long.
    if (secret.length >= 6) this.secrets.add(secret);
    for (const line of secret.split(/\r?\n/)) if (line.trim().length >= 16) this.secrets.add(line.trim());
  }

  redact(text: string): string {
    let out = text;
    for (const s of this.secrets) if (out.includes(s)) out = out.split(s).join("[redacted]");
    return out;
  }
}
