/** One sample of a Prometheus text exposition: `name{label="value",…} number`. */
export interface Sample {
  labels: Record<string, string>;
  value: number;
}

/** The samples of one metric in a `/metrics` body. */
export function samplesOf(metricsText: string, name: string): Sample[] {
  const line = new RegExp(`^${name}(?:\\{(.*)\\})? (\\S+)$`);
  return metricsText.split('\n').flatMap((text) => {
    const match = line.exec(text);
    if (!match) return [];
    const labels = Object.fromEntries([...(match[1] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, key, value]) => [key!, value!]));
    return [{ labels, value: Number(match[2]) }];
  });
}

/** The sum of a metric's samples whose labels include all of `labels`. */
export function sumOf(metricsText: string, name: string, labels: Record<string, string> = {}): number {
  return samplesOf(metricsText, name)
    .filter((sample) => Object.entries(labels).every(([key, value]) => sample.labels[key] === value))
    .reduce((sum, sample) => sum + sample.value, 0);
}
