import { describe, expect, it } from '@jest/globals';

import { dns1035LabelErrors, dnsLabelErrors, nameRuleFor, validateObjectMeta } from './object-meta.js';

describe('object name and metadata validation', () => {
  it('words label errors as upstream does', () => {
    expect(dnsLabelErrors('ok-1')).toEqual([]);
    expect(dnsLabelErrors('Bad')).toEqual([
      "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
    ]);
    expect(dns1035LabelErrors('1svc')).toHaveLength(1);
    expect(dns1035LabelErrors('x'.repeat(64))).toHaveLength(1);
    expect(dns1035LabelErrors('x'.repeat(64))[0]).toMatch(/^must be no more than 63 /);
  });

  it('picks each kind its rule: labels for namespaces, RFC 1035 for services, subdomains otherwise', () => {
    expect(nameRuleFor('', 'namespaces')('a.b')).not.toEqual([]);
    expect(nameRuleFor('', 'configmaps')('a.b')).toEqual([]);
    expect(nameRuleFor('', 'services')('9a')).not.toEqual([]);
  });

  it('requires a name or generateName and checks labels, with field paths', () => {
    const rule = nameRuleFor('', 'configmaps');
    expect(validateObjectMeta({}, rule)).toEqual([
      {
        reason: 'FieldValueRequired',
        message: 'Required value: name or generateName is required',
        field: 'metadata.name',
      },
    ]);
    expect(validateObjectMeta({ generateName: 'x-' }, rule)).toEqual([]);
    const causes = validateObjectMeta({ name: 'Bad_Name', labels: { 'bad key!': 'v' } }, rule);
    expect(causes.map((c) => c.field)).toEqual(['metadata.name', 'metadata.labels']);
    expect(causes[0].message).toMatch(/^Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/);
  });
});
