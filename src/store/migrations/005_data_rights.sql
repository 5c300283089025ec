-- Data rights: who redacted a message and when, and receipts of account erasures.

-- A person may redact their own message: the text becomes a marker, the sealed original and the
-- findings are erased, and these two columns say who did it and when.
ALTER TABLE messages
  ADD COLUMN redacted_at  timestamptz,
  ADD COLUMN redacted_by  uuid REFERENCES users (id) ON DELETE SET NULL;

-- Erasure and export look a person's messages up by author.
CREATE INDEX messages_author_user_idx ON messages (author_user_id) WHERE author_user_id IS NOT NULL;

-- What an erasure removed, so an auditor can see that it happened. No personal data: no user id,
-- no email, no name; the receipt id is what the person was given and what the audit entry names.
CREATE TABLE erasure_receipts (
  id          uuid PRIMARY KEY,
  tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  deleted_at  timestamptz NOT NULL,
  removed     jsonb NOT NULL,
  unlinked    jsonb NOT NULL DEFAULT '{}'::jsonb,
  retained    jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX erasure_receipts_tenant_time_idx ON erasure_receipts (tenant_id, deleted_at DESC);
