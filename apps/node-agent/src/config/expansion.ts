/**
 * Kubernetes' `$(VAR)` expansion, mirroring third_party/forked/golang/expansion/expand.go:
 * `$(NAME)` is replaced by the mapping's value, `$$` is an escaped `$`, references the
 * mapping does not know stay as written, and anything else (`$VAR`, `${VAR}`, an unterminated
 * `$(`) passes through untouched.
 */

/** Looks a name up in each map in turn; an unknown name is written back as `$(name)` (MappingFuncFor). */
export function mappingFor(
  ...contexts: ReadonlyArray<Readonly<Record<string, string>>>
): (name: string) => string {
  return (name) => {
    for (const vars of contexts) {
      if (Object.prototype.hasOwnProperty.call(vars, name)) return vars[name]!;
    }
    return `$(${name})`;
  };
}

export function expand(input: string, mapping: (name: string) => string): string {
  let out = '';
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== '$' || cursor + 1 >= input.length) continue;
    out += input.slice(checkpoint, cursor);
    const { read, isVar, advance } = readVariableName(input.slice(cursor + 1));
    out += isVar ? mapping(read) : read;
    cursor += advance;
    checkpoint = cursor + 1;
  }
  return out + input.slice(checkpoint);
}

/** tryReadVariableName: what follows a `$` (the operator itself already consumed). */
function readVariableName(input: string): { read: string; isVar: boolean; advance: number } {
  switch (input[0]) {
    case '$':
      // An escaped operator.
      return { read: '$', isVar: false, advance: 1 };
    case '(': {
      const close = input.indexOf(')', 1);
      if (close >= 0) return { read: input.slice(1, close), isVar: true, advance: close + 1 };
      // An incomplete reference: keep `$(` and read on after it.
      return { read: '$(', isVar: false, advance: 1 };
    }
    default:
      // An operator that starts no expression: keep it and the character after it.
      return { read: `$${input[0]}`, isVar: false, advance: 1 };
  }
}
