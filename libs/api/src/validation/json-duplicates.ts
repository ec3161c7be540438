/**
 * The duplicate keys of a JSON text, as the field paths upstream's strict decoder names them
 * (`metadata.name`, `spec.containers[0].name`). `JSON.parse` silently keeps the last of them.
 *
 * One pass, no recursion: an explicit stack of open containers, one `Set` of keys per open
 * object, so nesting depth costs memory in proportion to the input and nothing else, and the
 * time is linear in the text. Paths are built only for duplicates found, at most `limit` of
 * them, so a hostile body cannot make path building quadratic.
 *
 * Expects text `JSON.parse` has accepted; on anything else it stops without reporting more.
 */
export function duplicateFields(text: string, limit = 100): string[] {
  interface Frame {
    /** Keys seen so far; undefined for arrays. */
    keys?: Set<string>;
    isArray: boolean;
    index: number;
    expectKey: boolean;
    key: string;
    /** How the parent names this container: `.key` or `[i]` ('' for the root). */
    segment: string;
  }
  const out: string[] = [];
  const stack: Frame[] = [];
  const segmentOfNext = (): string => {
    const top = stack[stack.length - 1];
    if (!top) return '';
    return top.isArray ? `[${top.index}]` : `.${top.key}`;
  };
  const pathOf = (key: string): string => {
    let p = '';
    for (let f = 1; f < stack.length; f++) p += stack[f].segment;
    p += `.${key}`;
    return p.startsWith('.') ? p.slice(1) : p;
  };
  const n = text.length;
  for (let i = 0; i < n && out.length < limit;) {
    const c = text.charCodeAt(i);
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      const isArray = c === 0x5b;
      stack.push({ isArray, index: 0, expectKey: !isArray, key: '', segment: segmentOfNext() });
      i++;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      i++;
    } else if (c === 0x2c /* , */) {
      const top = stack[stack.length - 1];
      if (top?.isArray) top.index++;
      else if (top) top.expectKey = true;
      i++;
    } else if (c === 0x22 /* " */) {
      let j = i + 1;
      let escaped = false;
      for (; j < n; j++) {
        const d = text.charCodeAt(j);
        if (d === 0x5c /* \ */) {
          escaped = true;
          j++;
        } else if (d === 0x22) break;
      }
      if (j >= n) break;
      const top = stack[stack.length - 1];
      if (top && !top.isArray && top.expectKey) {
        let key = text.slice(i + 1, j);
        if (escaped) {
          try {
            key = JSON.parse(text.slice(i, j + 1)) as string;
          } catch {
            break; // not JSON after all: nothing more to report
          }
        }
        top.keys ??= new Set();
        if (top.keys.has(key)) out.push(pathOf(key));
        else top.keys.add(key);
        top.key = key;
        top.expectKey = false;
      }
      i = j + 1;
    } else {
      i++;
    }
  }
  return out;
}
