// @ts-check
// Write amplification (issue 25), the events and the executions.
//
// An event no webhook wants is written already published: the relay used to read it and
// write `published_at` a moment later, one more row version (and its index entries) per
// event for nothing. The "wanted" predicate is now one SQL function, used by this trigger,
// the relay's worklist and the fan-out alike. The trigger reads `webhooks` when the event
// is inserted: a webhook gets the events written from its creation on (one committed while
// the event's statement runs may miss that one event), as the relay did to within its pass.
//
// `job_executions_status_idx` (status, updated_at) goes: it was the reconciler's, and the
// reconciler reads active executions only, which `job_executions_active_idx` holds (at most
// one per job). Without `updated_at` in an index, an update that changes no indexed column
// (the run request, the observer's Flink state) can be HOT, and fillfactor 80 leaves each
// page room for the new row versions of its executions.

const WANTS = `
CREATE FUNCTION webhook_wants(w webhooks, kind text, job uuid) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
  SELECT w.enabled AND (w.job_id IS NULL OR w.job_id = job) AND EXISTS (
    SELECT 1 FROM unnest(w.events) p
     WHERE p = '*' OR p = kind OR (right(p, 2) = '.*' AND starts_with(kind, left(p, -1))))
$$;

CREATE FUNCTION event_published_unless_wanted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.published_at IS NULL AND NOT EXISTS (SELECT 1 FROM webhooks w WHERE webhook_wants(w, NEW.type, NEW.job_id)) THEN
    NEW.published_at := clock_timestamp();
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER event_published_unless_wanted BEFORE INSERT ON events
  FOR EACH ROW EXECUTE FUNCTION event_published_unless_wanted();
`;

/** @param {import('knex').Knex} knex */
exports.up = async function up(knex) {
  await knex.raw(WANTS);
  await knex.raw('DROP INDEX IF EXISTS job_executions_status_idx');
  await knex.raw('ALTER TABLE job_executions SET (fillfactor = 80)');
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.raw('ALTER TABLE job_executions RESET (fillfactor)');
  await knex.raw('CREATE INDEX IF NOT EXISTS job_executions_status_idx ON job_executions (status, updated_at)');
  await knex.raw('DROP TRIGGER IF EXISTS event_published_unless_wanted ON events');
  await knex.raw('DROP FUNCTION IF EXISTS event_published_unless_wanted()');
  await knex.raw('DROP FUNCTION IF EXISTS webhook_wants(webhooks, text, uuid)');
};
