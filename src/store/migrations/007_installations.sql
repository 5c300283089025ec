-- Platform installations: which bot / workspace install received a message, and its credentials
-- (bot tokens, refresh tokens) sealed by the vault (AAD: installations|credentials_sealed|<id>).
CREATE TABLE installations (
  id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id           uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  platform            text NOT NULL,
  -- The platform's id of the install: Slack team (or enterprise) id, Discord application id, Telegram bot id.
  external_id         text NOT NULL CHECK (length(external_id) BETWEEN 1 AND 200),
  name                text NOT NULL DEFAULT '' CHECK (length(name) <= 200),
  bot_user_id         text,
  credentials_sealed  bytea,
  status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  UNIQUE (platform, external_id)
);
CREATE INDEX installations_tenant_idx ON installations (tenant_id, platform);

-- Platform identities linked to tenant users, so participant rules apply to platform conversations.
CREATE TABLE platform_identities (
  platform          text NOT NULL,
  installation_id   text NOT NULL,
  platform_user_id  text NOT NULL,
  user_id           uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  linked_at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (platform, installation_id, platform_user_id)
);
CREATE INDEX platform_identities_user_idx ON platform_identities (user_id);
