-- The audit log becomes append-only and hash-chained; tenants get retention periods.
--
-- Chains. Rows are chained per (tenant, category): `chain` is '<tenant uuid|system>/<category>'.
-- Each row carries its position `seq` (1, 2, … per chain), `prev_hash` (the previous row's hash, or
-- 64 zeros for the first) and `hash` = SHA-256 over the canonical serialization below. One chain per
-- tenant and category keeps appends of different tenants from waiting on each other, and lets
-- retention prune each chain from its oldest end (security events live 1 year, access events
-- 90 days) without holes: the hash of the last pruned row is kept in audit_anchor, where
-- verification starts. audit_chain_head records each chain's last row, so a removed tail shows too.
--
-- Canonical serialization (mirrored in src/security/audit-chain.ts; a test checks they agree):
--   'switchboard-audit-v1' followed by, for each field in order, '|' and either '~' (NULL) or
--   '<octet length>:<utf-8 text>': prev_hash, id, tenant_id, category, seq, at (UTC,
--   YYYY-MM-DDTHH:MI:SS.uuuuuuZ), actor_type, actor_id, action, target_type, target_id, ip,
--   user_agent, details (jsonb's own text form, which is deterministic for a stored value).
--
-- The hash is computed here, in a BEFORE INSERT trigger, so every insert (appendAudit with the pool
-- or inside a transaction, or plain SQL) is chained in the inserting transaction. The trigger locks
-- the chain's head row (FOR UPDATE) until that transaction ends: appends to one chain serialize and
-- cannot fork (UNIQUE (chain, seq) is the second line).

CREATE TABLE audit_chain_head (
  chain       text PRIMARY KEY,
  tenant_id   uuid,
  category    text NOT NULL CHECK (category IN ('security', 'access')),
  last_seq    bigint NOT NULL CHECK (last_seq >= 0),
  last_id     bigint,
  last_hash   text NOT NULL CHECK (last_hash ~ '^[0-9a-f]{64}$'),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Where verification of a pruned chain starts: the last pruned row's position and hash.
CREATE TABLE audit_anchor (
  chain        text PRIMARY KEY,
  tenant_id    uuid,
  category     text NOT NULL CHECK (category IN ('security', 'access')),
  anchor_seq   bigint NOT NULL CHECK (anchor_seq >= 1),
  anchor_id    bigint NOT NULL,
  anchor_hash  text NOT NULL CHECK (anchor_hash ~ '^[0-9a-f]{64}$'),
  pruned_rows  bigint NOT NULL DEFAULT 0,
  pruned_at    timestamptz NOT NULL
);

-- Audit rows outlive their tenant: the spine's FK would rewrite tenant_id (ON DELETE SET NULL) on
-- a chained row, which the chain would then report as tampering.
ALTER TABLE audit_log DROP CONSTRAINT IF EXISTS audit_log_tenant_id_fkey;

ALTER TABLE audit_log
  ADD COLUMN category   text,
  ADD COLUMN chain      text,
  ADD COLUMN seq        bigint,
  ADD COLUMN prev_hash  text,
  ADD COLUMN hash       text;

-- Access events (reads and exports of data) are kept 90 days; everything else, including actions
-- this function has never heard of, is a security event kept 1 year (the longer period is the
-- safe default). docs/security/audit-and-retention.md lists the rules.
CREATE FUNCTION audit_category(p_action text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
    WHEN p_action ~ '^(auth|2fa|pii|api_key|rate_limit|admin|retention|keys)\.' THEN 'security'
    WHEN p_action ~ '^(export|audit\.(read|list|export|view))'
      OR p_action ~ '(^|\.)(read|list|view|export|download)(s|ed)?(_[a-z0-9_]*)?$' THEN 'access'
    ELSE 'security'
  END
$$;

CREATE FUNCTION audit_field(p_value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN p_value IS NULL THEN '~' ELSE octet_length(p_value)::text || ':' || p_value END
$$;

CREATE FUNCTION audit_time_text(p_at timestamptz) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
$$;

CREATE FUNCTION audit_row_hash(
  p_prev_hash text, p_id bigint, p_tenant_id uuid, p_category text, p_seq bigint, p_at timestamptz,
  p_actor_type text, p_actor_id text, p_action text, p_target_type text, p_target_id text,
  p_ip text, p_user_agent text, p_details jsonb
) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT encode(sha256(convert_to(
    'switchboard-audit-v1'
    || '|' || audit_field(p_prev_hash)
    || '|' || audit_field(p_id::text)
    || '|' || audit_field(p_tenant_id::text)
    || '|' || audit_field(p_category)
    || '|' || audit_field(p_seq::text)
    || '|' || audit_field(audit_time_text(p_at))
    || '|' || audit_field(p_actor_type)
    || '|' || audit_field(p_actor_id)
    || '|' || audit_field(p_action)
    || '|' || audit_field(p_target_type)
    || '|' || audit_field(p_target_id)
    || '|' || audit_field(p_ip)
    || '|' || audit_field(p_user_agent)
    || '|' || audit_field(p_details::text),
    'UTF8')), 'hex')
$$;

-- Backfill: chain the rows written before this migration, per chain in id order.
DO $$
DECLARE
  r record;
  v_chain text;
  v_seq bigint := 0;
  v_prev text;
  v_hash text;
  v_category text;
BEGIN
  FOR r IN
    SELECT a.*, audit_category(a.action) AS cat,
           coalesce(a.tenant_id::text, 'system') || '/' || audit_category(a.action) AS ch
    FROM audit_log a ORDER BY ch, a.id
  LOOP
    IF v_chain IS DISTINCT FROM r.ch THEN
      IF v_chain IS NOT NULL THEN
        INSERT INTO audit_chain_head (chain, tenant_id, category, last_seq, last_id, last_hash)
        SELECT v_chain, tenant_id, category, seq, id, hash FROM audit_log WHERE chain = v_chain AND seq = v_seq;
      END IF;
      v_chain := r.ch;
      v_seq := 0;
      v_prev := repeat('0', 64);
    END IF;
    v_seq := v_seq + 1;
    v_category := r.cat;
    v_hash := audit_row_hash(v_prev, r.id, r.tenant_id, v_category, v_seq, r.at, r.actor_type, r.actor_id,
                             r.action, r.target_type, r.target_id, r.ip, r.user_agent, r.details);
    UPDATE audit_log SET category = v_category, chain = r.ch, seq = v_seq, prev_hash = v_prev, hash = v_hash
    WHERE id = r.id;
    v_prev := v_hash;
  END LOOP;
  IF v_chain IS NOT NULL THEN
    INSERT INTO audit_chain_head (chain, tenant_id, category, last_seq, last_id, last_hash)
    SELECT v_chain, tenant_id, category, seq, id, hash FROM audit_log WHERE chain = v_chain AND seq = v_seq;
  END IF;
END
$$;

ALTER TABLE audit_log
  ALTER COLUMN category SET NOT NULL,
  ALTER COLUMN chain SET NOT NULL,
  ALTER COLUMN seq SET NOT NULL,
  ALTER COLUMN prev_hash SET NOT NULL,
  ALTER COLUMN hash SET NOT NULL,
  -- The trigger stamps the time after taking the chain lock, so `at` follows chain order.
  ALTER COLUMN at DROP DEFAULT,
  ADD CONSTRAINT audit_log_category_check CHECK (category IN ('security', 'access')),
  ADD CONSTRAINT audit_log_hash_check CHECK (hash ~ '^[0-9a-f]{64}$' AND prev_hash ~ '^[0-9a-f]{64}$'),
  ADD CONSTRAINT audit_log_chain_seq_key UNIQUE (chain, seq);

-- Chains and stamps every new row. SECURITY DEFINER: an application role needs only INSERT on
-- audit_log, never UPDATE on the head table.
CREATE FUNCTION audit_log_chain() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  v_head record;
BEGIN
  NEW.category := audit_category(NEW.action);
  NEW.chain := coalesce(NEW.tenant_id::text, 'system') || '/' || NEW.category;
  NEW.details := coalesce(NEW.details, '{}'::jsonb);
  SELECT last_seq, last_hash INTO v_head FROM audit_chain_head WHERE chain = NEW.chain FOR UPDATE;
  IF NOT FOUND THEN
    INSERT INTO audit_chain_head (chain, tenant_id, category, last_seq, last_hash)
    VALUES (NEW.chain, NEW.tenant_id, NEW.category, 0, repeat('0', 64))
    ON CONFLICT (chain) DO NOTHING;
    SELECT last_seq, last_hash INTO STRICT v_head FROM audit_chain_head WHERE chain = NEW.chain FOR UPDATE;
  END IF;
  NEW.at := coalesce(NEW.at, clock_timestamp());
  NEW.seq := v_head.last_seq + 1;
  NEW.prev_hash := v_head.last_hash;
  NEW.hash := audit_row_hash(NEW.prev_hash, NEW.id, NEW.tenant_id, NEW.category, NEW.seq, NEW.at, NEW.actor_type,
                             NEW.actor_id, NEW.action, NEW.target_type, NEW.target_id, NEW.ip, NEW.user_agent,
                             NEW.details);
  UPDATE audit_chain_head SET last_seq = NEW.seq, last_id = NEW.id, last_hash = NEW.hash, updated_at = clock_timestamp()
  WHERE chain = NEW.chain;
  RETURN NEW;
END
$$;
CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_chain();

-- Append-only: no UPDATE, no TRUNCATE, and DELETE only from audit_prune(), which sets a
-- transaction-local flag. Against a role that may set that flag itself this is a guard rail, not a
-- wall; the wall is REVOKE UPDATE, DELETE, TRUNCATE for a separate application role (see the docs),
-- and what gets past both is caught by the hash chain.
CREATE FUNCTION audit_log_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND current_setting('switchboard.audit_prune', true) = 'on' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_guard BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_guard();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_guard();

-- A chain head only moves forward and is never removed; anchors change only through audit_prune().
CREATE FUNCTION audit_chain_head_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.last_seq > OLD.last_seq THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION '% on audit_chain_head refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_chain_head_guard BEFORE UPDATE OR DELETE ON audit_chain_head
  FOR EACH ROW EXECUTE FUNCTION audit_chain_head_guard();
CREATE TRIGGER audit_chain_head_no_truncate BEFORE TRUNCATE ON audit_chain_head
  FOR EACH STATEMENT EXECUTE FUNCTION audit_chain_head_guard();

CREATE FUNCTION audit_anchor_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('INSERT', 'UPDATE') AND current_setting('switchboard.audit_prune', true) = 'on' THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION '% on audit_anchor refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_anchor_guard BEFORE INSERT OR UPDATE OR DELETE ON audit_anchor
  FOR EACH ROW EXECUTE FUNCTION audit_anchor_guard();
CREATE TRIGGER audit_anchor_no_truncate BEFORE TRUNCATE ON audit_anchor
  FOR EACH STATEMENT EXECUTE FUNCTION audit_anchor_guard();

-- Retention for the audit log: removes up to p_limit rows from the oldest end of one chain, all
-- older than p_cutoff and contiguous from the start (a younger row stops the prune, so a chain never
-- gets a hole), and moves the anchor to the last removed row. Returns how many rows went.
-- SECURITY DEFINER: the only way an application role without DELETE can remove audit rows.
CREATE FUNCTION audit_prune(p_chain text, p_cutoff timestamptz, p_limit integer, p_now timestamptz) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  v_stop bigint;
  v_last record;
  v_count integer;
BEGIN
  IF p_limit IS NULL OR p_limit < 1 OR p_limit > 100000 THEN
    RAISE EXCEPTION 'audit_prune: limit out of range' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  -- One pruner per chain at a time, so an anchor never moves backwards.
  PERFORM pg_advisory_xact_lock(hashtextextended('switchboard.audit_prune:' || p_chain, 0));
  -- The first row young enough to stay; walking the (chain, seq) index from the old end.
  SELECT seq INTO v_stop FROM audit_log WHERE chain = p_chain AND at >= p_cutoff ORDER BY seq LIMIT 1;
  SELECT seq, id, hash, tenant_id, category INTO v_last FROM (
    SELECT seq, id, hash, tenant_id, category FROM audit_log
    WHERE chain = p_chain AND (v_stop IS NULL OR seq < v_stop)
    ORDER BY seq LIMIT p_limit
  ) doomed ORDER BY seq DESC LIMIT 1;
  IF NOT FOUND THEN
    RETURN 0;
  END IF;
  PERFORM set_config('switchboard.audit_prune', 'on', true);
  DELETE FROM audit_log WHERE chain = p_chain AND seq <= v_last.seq;
  GET DIAGNOSTICS v_count = ROW_COUNT;
  INSERT INTO audit_anchor (chain, tenant_id, category, anchor_seq, anchor_id, anchor_hash, pruned_rows, pruned_at)
  VALUES (p_chain, v_last.tenant_id, v_last.category, v_last.seq, v_last.id, v_last.hash, v_count, p_now)
  ON CONFLICT (chain) DO UPDATE
    SET anchor_seq = EXCLUDED.anchor_seq, anchor_id = EXCLUDED.anchor_id, anchor_hash = EXCLUDED.anchor_hash,
        pruned_rows = audit_anchor.pruned_rows + EXCLUDED.pruned_rows, pruned_at = EXCLUDED.pruned_at
    WHERE audit_anchor.anchor_seq < EXCLUDED.anchor_seq;
  PERFORM set_config('switchboard.audit_prune', 'off', true);
  RETURN v_count;
END
$$;

-- Retention periods per tenant (days). Originals of PII messages go sooner than the messages.
ALTER TABLE tenants
  ADD COLUMN retention_days integer NOT NULL DEFAULT 90 CHECK (retention_days BETWEEN 1 AND 3650),
  ADD COLUMN pii_retention_days integer NOT NULL DEFAULT 30 CHECK (pii_retention_days BETWEEN 1 AND 3650);

-- The retention job's scans, oldest first per tenant.
CREATE INDEX messages_tenant_created_idx ON messages (tenant_id, created_at);
CREATE INDEX messages_sealed_created_idx ON messages (tenant_id, created_at) WHERE original_sealed IS NOT NULL;
CREATE INDEX inbound_events_terminal_idx ON inbound_events (tenant_id, received_at)
  WHERE status IN ('answered', 'ignored', 'failed');
