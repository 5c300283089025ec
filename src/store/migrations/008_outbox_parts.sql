-- Long replies go out in parts (platform limits); the outbox remembers how many were sent, and
-- the pacing slot already booked for the next one, so a retry never resends or double-books.
ALTER TABLE outbox
  ADD COLUMN parts_sent integer NOT NULL DEFAULT 0 CHECK (parts_sent >= 0),
  ADD COLUMN next_slot_at timestamptz;
