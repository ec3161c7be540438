/** A series' labels in the exposition format (`a="x",b="y"`); characters that would break it become `_`. */
export function labelKey(labels?: Record<string, string>): string {
  return labels
    ? Object.entries(labels)
        .map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, '_')}"`)
        .join(',')
    : '';
}
