import { type Fragment, type TransactionSql as Sql } from 'postgres';

import {
  type FieldRequirement,
  type FieldSelector,
  type LabelRequirement,
  type LabelSelector,
} from '@app/api';

/**
 * Turns parsed selectors into SQL over the projection's `object` column. The
 * same selectors are evaluated in memory by `matchesLabels`/`matchesFields` for rows rebuilt
 * from the log; a unit test holds the two to the same answers.
 */
export function labelSql(sql: Sql, req: LabelRequirement): Fragment {
  const { key, values } = req;
  switch (req.operator) {
    case 'Equals':
      return sql`coalesce(object -> 'metadata' -> 'labels', '{}'::jsonb) @> ${JSON.stringify({ [key]: values[0] })}::text::jsonb`;
    case 'NotEquals':
      return sql`NOT (coalesce(object -> 'metadata' -> 'labels', '{}'::jsonb) @> ${JSON.stringify({ [key]: values[0] })}::text::jsonb)`;
    case 'In':
      return sql`(coalesce(object -> 'metadata' -> 'labels', '{}'::jsonb) ->> ${key}) = ANY (${values}::text[])`;
    case 'NotIn':
      return sql`NOT coalesce((coalesce(object -> 'metadata' -> 'labels', '{}'::jsonb) ->> ${key}) = ANY (${values}::text[]), false)`;
    case 'Exists':
      return sql`coalesce(object -> 'metadata' -> 'labels', '{}'::jsonb) ? ${key}`;
    case 'DoesNotExist':
      return sql`NOT (coalesce(object -> 'metadata' -> 'labels', '{}'::jsonb) ? ${key})`;
  }
}

/** Missing fields compare as the empty string, as in Kubernetes field sets. */
export function fieldSql(sql: Sql, req: FieldRequirement): Fragment {
  const value = fieldExpression(sql, req.field);
  return req.operator === 'Equals' ? sql`${value} = ${req.value}` : sql`${value} <> ${req.value}`;
}

function fieldExpression(sql: Sql, field: string): Fragment {
  if (field === 'metadata.name') return sql`name`;
  if (field === 'metadata.namespace') return sql`namespace`;
  return sql`coalesce(object #>> ${field.split('.')}::text[], '')`;
}

export function selectorSql(sql: Sql, labels?: LabelSelector, fields?: FieldSelector): Fragment {
  const parts = [
    ...(labels?.requirements ?? []).map((r) => labelSql(sql, r)),
    ...(fields?.requirements ?? []).map((r) => fieldSql(sql, r)),
  ];
  if (labels?.matchNothing) return sql`FALSE`;
  return parts.reduce((acc, p) => sql`${acc} AND ${p}`, sql`TRUE`);
}
