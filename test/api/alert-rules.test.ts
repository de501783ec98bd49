import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Metrics } from '@flink-orchestrator/observability';
import { expect } from 'chai';

const RULES = path.resolve(__dirname, '../../docs/alerts/flink-orchestrator.rules.yml');

// PromQL words that are not metric names.
const KEYWORDS = new Set(['and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'bool', 'offset']);

/** The metric names an expression reads: identifiers that are not functions, keywords, labels or strings. */
export function metricsOf(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '') // strings
    .replace(/\{[^}]*\}/g, '') // label matchers
    .replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, '') // grouping labels
    .replace(/\[[^\]]*\]/g, ''); // ranges
  const names = [...bare.matchAll(/\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()/g)].map((m) => m[1] as string);
  return names.filter((n) => !KEYWORDS.has(n) && !/^\d/.test(n));
}

describe('alert rules (docs/alerts)', () => {
  const text = readFileSync(RULES, 'utf8');
  const exprs = [...text.matchAll(/^\s*expr:\s*(.+)$/gm)].map((m) => m[1] as string);

  it('each rule has one expression', () => {
    const alerts = [...text.matchAll(/^\s*- alert:\s*(\S+)/gm)].map((m) => m[1]);
    expect(alerts).to.have.length.greaterThan(5);
    expect(exprs).to.have.length(alerts.length);
  });

  it('names only metrics the service exports', async () => {
    const exported = new Set<string>();
    for (const metric of await new Metrics('test').registry.getMetricsAsJSON()) {
      exported.add(metric.name);
      if (String(metric.type) === 'histogram')
        for (const suffix of ['_bucket', '_sum', '_count']) exported.add(`${metric.name}${suffix}`);
    }
    const named = exprs.flatMap(metricsOf);
    expect(named).to.include.members([
      'executions_ended_total',
      'schedule_ticks_total',
      'cluster_reachable',
      'queue_jobs',
    ]);
    for (const name of named) expect(exported.has(name), `${name} is not exported`).to.equal(true);
  });

  it('reads what pages the operator: failures, lateness, missed ticks, backlog, Flink, webhooks', () => {
    const named = new Set(exprs.flatMap(metricsOf));
    for (const metric of [
      'executions_ended_total',
      'schedule_tick_lateness_seconds_bucket',
      'schedule_ticks_total',
      'queue_jobs',
      'cluster_reachable',
      'webhook_deliveries_total',
    ])
      expect(named.has(metric), metric).to.equal(true);
  });
});
