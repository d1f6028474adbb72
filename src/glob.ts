// Name globs in config (`*` any run of characters, `?` one character), matched whole and case-insensitively.

export function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${body}$`, "i");
}

/** A predicate true for names matching any of `globs`. */
export function globMatcher(globs: readonly string[]): (name: string) => boolean {
  const res = globs.map(globToRegExp);
  return (name) => res.some((re) => re.test(name));
}
