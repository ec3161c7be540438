import { describe, expect, it } from '@jest/globals';

import { applyDefaults } from '../defaults/index.js';
import { validateKind, validateKindChange } from './workloads.js';

const GROUP = 'rbac.authorization.k8s.io';
const check = (plural: string, o: Record<string, unknown>) => validateKind(GROUP, plural, o);
const ref = (kind: string, name: string) => ({ apiGroup: GROUP, kind, name });

describe('RBAC validation', () => {
  it('accepts the rules and bindings upstream accepts', () => {
    expect(
      check('roles', {
        rules: [{ verbs: ['get'], apiGroups: [''], resources: ['pods'], resourceNames: ['a'] }],
      }),
    ).toEqual([]);
    expect(
      check('clusterroles', { rules: [{ verbs: ['get'], nonResourceURLs: ['/healthz', '/api/*'] }] }),
    ).toEqual([]);
    expect(
      check('rolebindings', {
        roleRef: ref('ClusterRole', 'view'),
        subjects: [
          { kind: 'ServiceAccount', name: 'app' },
          { kind: 'User', apiGroup: GROUP, name: 'jane' },
        ],
      }),
    ).toEqual([]);
  });

  it('refuses rules without verbs, groups or resources, and URL rules mixed with resources or in a Role', () => {
    expect(
      check('roles', { rules: [{ resources: ['pods'] }, { verbs: ['get'], nonResourceURLs: ['/x'] }] }),
    ).toEqual([
      {
        reason: 'FieldValueRequired',
        message: 'Required value: verbs must contain at least one value',
        field: 'rules[0].verbs',
      },
      {
        reason: 'FieldValueRequired',
        message: 'Required value: resource rules must supply at least one api group',
        field: 'rules[0].apiGroups',
      },
      {
        reason: 'FieldValueInvalid',
        message: 'Invalid value: []string{"/x"}: namespaced rules cannot apply to non-resource URLs',
        field: 'rules[1].nonResourceURLs',
      },
    ]);
    expect(
      check('clusterroles', {
        rules: [{ verbs: ['get'], apiGroups: [''], resources: ['pods'], nonResourceURLs: ['/x'] }],
      }),
    ).toEqual([
      {
        reason: 'FieldValueInvalid',
        message:
          'Invalid value: []string{"/x"}: rules cannot apply to both regular resources and non-resource URLs',
        field: 'rules[0].nonResourceURLs',
      },
    ]);
    // A service account is named as its object is: a DNS subdomain.
    expect(
      check('rolebindings', {
        roleRef: ref('Role', 'r'),
        subjects: [{ kind: 'ServiceAccount', name: 'My_App' }],
      }),
    ).toEqual([expect.objectContaining({ reason: 'FieldValueInvalid', field: 'subjects[0].name' })]);
    expect(check('clusterroles', { aggregationRule: { clusterRoleSelectors: [] } })).toEqual([
      {
        reason: 'FieldValueRequired',
        message: 'Required value: at least one clusterRoleSelector required if aggregationRule is non-nil',
        field: 'aggregationRule.clusterRoleSelectors',
      },
    ]);
  });

  it('refuses a roleRef of another group or kind, and subjects of unknown kinds or wrong groups', () => {
    expect(
      check('clusterrolebindings', {
        roleRef: { apiGroup: 'example.com', kind: 'Role', name: 'a/b' },
        subjects: [
          { kind: 'ServiceAccount', name: 'app' },
          { kind: 'Robot', name: 'r2' },
          { kind: 'Group', name: '' },
        ],
      }),
    ).toEqual([
      {
        reason: 'FieldValueNotSupported',
        message: 'Unsupported value: "example.com": supported values: "rbac.authorization.k8s.io"',
        field: 'roleRef.apiGroup',
      },
      {
        reason: 'FieldValueNotSupported',
        message: 'Unsupported value: "Role": supported values: "ClusterRole"',
        field: 'roleRef.kind',
      },
      {
        reason: 'FieldValueInvalid',
        message: 'Invalid value: "a/b": may not contain \'/\'',
        field: 'roleRef.name',
      },
      // A cluster binding's service account needs its namespace.
      { reason: 'FieldValueRequired', message: 'Required value', field: 'subjects[0].namespace' },
      {
        reason: 'FieldValueNotSupported',
        message: 'Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"',
        field: 'subjects[1].kind',
      },
      { reason: 'FieldValueRequired', message: 'Required value', field: 'subjects[2].name' },
      {
        reason: 'FieldValueNotSupported',
        message: 'Unsupported value: "": supported values: "rbac.authorization.k8s.io"',
        field: 'subjects[2].apiGroup',
      },
    ]);
  });

  it('keeps a binding’s roleRef as created', () => {
    const old = { roleRef: ref('ClusterRole', 'view'), subjects: [] };
    expect(
      validateKindChange(GROUP, 'rolebindings', { ...old, subjects: [{ kind: 'User', name: 'x' }] }, old),
    ).toEqual([]);
    expect(
      validateKindChange(GROUP, 'clusterrolebindings', { roleRef: ref('ClusterRole', 'edit') }, old),
    ).toEqual([
      {
        reason: 'FieldValueInvalid',
        message:
          'Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"ClusterRole", Name:"edit"}: cannot change roleRef',
        field: 'roleRef',
      },
    ]);
  });

  it('defaults the groups a client may leave out: roleRef’s, and a user’s or group’s', () => {
    const b = {
      roleRef: { kind: 'ClusterRole', name: 'view' },
      subjects: [
        { kind: 'User', name: 'jane' },
        { kind: 'Group', name: 'devs' },
        { kind: 'ServiceAccount', name: 'app' },
      ],
    };
    applyDefaults(GROUP, 'rolebindings', b);
    expect(b).toEqual({
      roleRef: ref('ClusterRole', 'view'),
      subjects: [
        { kind: 'User', name: 'jane', apiGroup: GROUP },
        { kind: 'Group', name: 'devs', apiGroup: GROUP },
        { kind: 'ServiceAccount', name: 'app' },
      ],
    });
  });
});
