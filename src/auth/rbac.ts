/**
 * Roles and permissions: the one written matrix every route checks (docs/permissions.md renders it).
 * Conversation content is further limited to participants, whatever the role.
 */
import type { Role } from './token-claims.ts';

/** Everything a caller can be allowed to do. */
export const PERMISSIONS = [
  'chat:send', // send messages as oneself (web chat, REST)
  'conversations:read', // list one's own conversations and read them (participants only)
  'messages:redact_own', // redact one's own messages
  'account:export', // export one's own data
  'account:delete', // erase one's own account and data
  'sessions:manage_own', // list and revoke one's own sessions, enrol 2FA
  'users:read', // list the tenant's users
  'users:manage', // create, disable and re-role users (not owners, unless owner)
  'api_keys:manage', // create, rotate and revoke the tenant's API keys
  'sessions:manage', // list and revoke anyone's sessions in the tenant
  'audit:read', // read the tenant's audit log
  'tenant:configure', // tenant settings: PII policy, retention, 2FA enforcement
] as const;
/** A permission. */
export type Permission = (typeof PERMISSIONS)[number];

const SELF: readonly Permission[] = [
  'chat:send',
  'conversations:read',
  'messages:redact_own',
  'account:export',
  'account:delete',
  'sessions:manage_own',
];

/** Which permissions each role holds. Auditors read the audit log, not conversations. */
export const ROLE_PERMISSIONS: Readonly<Record<Role, ReadonlySet<Permission>>> = {
  owner: new Set<Permission>([...SELF, 'users:read', 'users:manage', 'api_keys:manage', 'sessions:manage', 'audit:read', 'tenant:configure']),
  admin: new Set<Permission>([...SELF, 'users:read', 'users:manage', 'api_keys:manage', 'sessions:manage', 'audit:read']),
  member: new Set<Permission>(SELF),
  agent: new Set<Permission>(['chat:send', 'conversations:read']),
  auditor: new Set<Permission>(['audit:read', 'sessions:manage_own', 'account:export']),
};

/** True when `role` holds `permission`. */
export function roleAllows(role: Role, permission: Permission): boolean {
  return ROLE_PERMISSIONS[role].has(permission);
}
