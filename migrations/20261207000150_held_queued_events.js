// @ts-check
// An execution inserted QUEUED is not yet known to run: its submit message may never reach
// the queue (Redis refuses it), and then the execution is discarded. Its `execution.queued`
// event is written `held`, hidden from the feed and the relay, until the message is known to
// be on the queue: released by whoever enqueued it, by the reconciler that re-sends it, or by
// the execution's first status change (a worker got the message). A discard removes the
// execution with its held event, so a refused start tells no one anything.
//
// A released event takes the releasing transaction's id as `tx`: a feed reader whose cursor
// has passed the inserting transaction still reads it.

/** The trigger as 20261202000008 wrote it, with the hold and the release. */
const HELD = `
CREATE OR REPLACE FUNCTION execution_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.status IS NOT DISTINCT FROM OLD.status THEN RETURN NULL; END IF;
  -- A status change means a worker got the message: nothing is held any longer.
  IF TG_OP = 'UPDATE' AND OLD.status = 'QUEUED' THEN
    UPDATE events SET held = false, tx = pg_current_xact_id() WHERE held AND execution_id = NEW.id;
  END IF;
  INSERT INTO events (type, job_id, execution_id, payload, held) VALUES (
    CASE WHEN NEW.status IN ('SKIPPED', 'MISSED') THEN 'tick.' ELSE 'execution.' END || lower(NEW.status),
    NEW.job_id, NEW.id,
    jsonb_strip_nulls(jsonb_build_object(
      'jobName', job_name(NEW.job_id), 'status', NEW.status,
      'previousStatus', CASE WHEN TG_OP = 'UPDATE' THEN OLD.status END,
      'trigger', NEW.trigger, 'cluster', NEW.cluster, 'flinkJobId', NEW.flink_job_id,
      'scheduledFor', NEW.scheduled_for, 'error', NEW.error_message, 'restartOf', NEW.restart_of,
      'upgradeId', NEW.upgrade_id)),
    TG_OP = 'INSERT' AND NEW.status = 'QUEUED');
  RETURN NULL;
END $$;
`;

const ORIGINAL = `
CREATE OR REPLACE FUNCTION execution_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.status IS NOT DISTINCT FROM OLD.status THEN RETURN NULL; END IF;
  PERFORM record_event(
    CASE WHEN NEW.status IN ('SKIPPED', 'MISSED') THEN 'tick.' ELSE 'execution.' END || lower(NEW.status),
    NEW.job_id, NEW.id,
    jsonb_build_object(
      'jobName', job_name(NEW.job_id), 'status', NEW.status,
      'previousStatus', CASE WHEN TG_OP = 'UPDATE' THEN OLD.status END,
      'trigger', NEW.trigger, 'cluster', NEW.cluster, 'flinkJobId', NEW.flink_job_id,
      'scheduledFor', NEW.scheduled_for, 'error', NEW.error_message, 'restartOf', NEW.restart_of,
      'upgradeId', NEW.upgrade_id));
  RETURN NULL;
END $$;
`;

/** @param {import('knex').Knex} knex */
exports.up = async function up(knex) {
  await knex.raw('ALTER TABLE events ADD COLUMN held boolean NOT NULL DEFAULT false');
  // Held events are few and short-lived: the release and the discard find them by execution.
  await knex.raw('CREATE INDEX events_held_idx ON events (execution_id) WHERE held');
  await knex.raw(HELD);
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.raw(ORIGINAL);
  await knex.raw('DROP INDEX IF EXISTS events_held_idx');
  await knex.raw('ALTER TABLE events DROP COLUMN IF EXISTS held');
};
