// @ts-check
// The event outbox. Every change worth telling someone about writes a row in `events`,
// from triggers, so it commits or rolls back with the change itself: no code path can
// change an execution without its event, and no statement pays a second round trip.
//
// `tx` is the writing transaction's id. The feed orders by (tx, id) and shows only
// transactions older than every one still running (pg_snapshot_xmin): a sequence number
// alone is handed out at insert, not at commit, so a reader paging by id could step past
// an event whose transaction commits a moment later and never see it.
//
// `relayed_at` is the relay's mark (the event is on BullMQ), `published_at` the fan-out's
// (its deliveries exist) or the relay's for an event no webhook wants. An event relayed
// but not published a minute later is relayed again: its message may have gone with Redis.
// The partial index keeps the relay's worklist read cheap however large the table grows.

const MS_NOW = "date_trunc('milliseconds', clock_timestamp())";

const FUNCTIONS = `
CREATE FUNCTION record_event(kind text, job uuid, execution uuid, body jsonb) RETURNS void
LANGUAGE sql AS $$
  INSERT INTO events (type, job_id, execution_id, payload) VALUES (kind, job, execution, jsonb_strip_nulls(body))
$$;

CREATE FUNCTION job_name(job uuid) RETURNS text LANGUAGE sql STABLE AS $$ SELECT name FROM jobs WHERE id = job $$;

-- An execution's status change; a tick that did not run (SKIPPED, MISSED) is a tick outcome.
CREATE FUNCTION execution_events() RETURNS trigger LANGUAGE plpgsql AS $$
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

-- A job's definition or its start schedule; bookkeeping columns (last run, preflight) say nothing.
CREATE FUNCTION job_events() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  changed text[];
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM record_event('job.created', NEW.id, NULL, jsonb_build_object('jobName', NEW.name, 'version', NEW.version));
    RETURN NULL;
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM record_event('job.deleted', OLD.id, NULL, jsonb_build_object('jobName', OLD.name));
    RETURN NULL;
  END IF;
  SELECT coalesce(array_agg(key ORDER BY key), '{}') INTO changed
    FROM jsonb_each(to_jsonb(NEW)) n JOIN jsonb_each(to_jsonb(OLD)) o USING (key)
   WHERE n.value IS DISTINCT FROM o.value
     AND key IN ('name', 'jar_url', 'entry_class', 'config', 'parallelism', 'enabled', 'cluster', 'admission',
                 'restart_policy', 'savepoint_retention');
  IF cardinality(changed) > 0 THEN
    PERFORM record_event('job.updated', NEW.id, NULL,
      jsonb_build_object('jobName', NEW.name, 'version', NEW.version, 'changed', to_jsonb(changed)));
  END IF;
  IF (NEW.schedule_cron, NEW.schedule_timezone, NEW.schedule_overlap, NEW.schedule_replace, NEW.schedule_start_at,
      NEW.schedule_end_at, NEW.schedule_preflight_minutes)
     IS DISTINCT FROM
     (OLD.schedule_cron, OLD.schedule_timezone, OLD.schedule_overlap, OLD.schedule_replace, OLD.schedule_start_at,
      OLD.schedule_end_at, OLD.schedule_preflight_minutes) THEN
    PERFORM record_event(
      CASE WHEN NEW.schedule_cron IS NULL THEN 'schedule.removed' ELSE 'schedule.set' END, NEW.id, NULL,
      jsonb_build_object('jobName', NEW.name, 'action', 'start', 'cron', NEW.schedule_cron,
                         'timezone', NEW.schedule_timezone, 'overlap', NEW.schedule_overlap));
  END IF;
  RETURN NULL;
END $$;

-- A schedule of a start, stop or savepoint action: created, deleted.
CREATE FUNCTION action_schedule_events() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  row job_schedules;
BEGIN
  row := CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
  IF TG_OP = 'UPDATE' THEN RETURN NULL; END IF;
  PERFORM record_event(CASE WHEN TG_OP = 'INSERT' THEN 'schedule.created' ELSE 'schedule.deleted' END,
    row.job_id, NULL,
    jsonb_build_object('jobName', job_name(row.job_id), 'scheduleId', row.id, 'action', row.action, 'cron', row.cron,
                       'timezone', row.timezone));
  RETURN NULL;
END $$;

-- A tick of an action schedule that did not happen.
CREATE FUNCTION action_tick_events() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  schedule job_schedules;
BEGIN
  IF NEW.outcome NOT IN ('skipped', 'missed') OR NEW.outcome IS NOT DISTINCT FROM (CASE WHEN TG_OP = 'UPDATE' THEN OLD.outcome END) THEN
    RETURN NULL;
  END IF;
  SELECT * INTO schedule FROM job_schedules WHERE id = NEW.schedule_id;
  PERFORM record_event('tick.' || NEW.outcome, schedule.job_id, NULL,
    jsonb_build_object('jobName', job_name(schedule.job_id), 'scheduleId', NEW.schedule_id, 'action', schedule.action,
                       'scheduledFor', NEW.scheduled_for, 'detail', NEW.detail));
  RETURN NULL;
END $$;

-- A savepoint's outcome, and its disposal.
CREATE FUNCTION savepoint_events() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  body jsonb;
BEGIN
  body := jsonb_build_object('jobName', job_name(NEW.job_id), 'savepointId', NEW.id, 'kind', NEW.kind,
                             'cluster', NEW.cluster, 'location', NEW.location, 'error', NEW.error_message);
  IF NEW.status IN ('COMPLETED', 'FAILED')
     AND NEW.status IS DISTINCT FROM (CASE WHEN TG_OP = 'UPDATE' THEN OLD.status END) THEN
    PERFORM record_event('savepoint.' || lower(NEW.status), NEW.job_id, NEW.execution_id, body);
  END IF;
  IF TG_OP = 'UPDATE' AND NEW.disposed_at IS NOT NULL AND OLD.disposed_at IS NULL THEN
    PERFORM record_event('savepoint.disposed', NEW.job_id, NEW.execution_id, body);
  END IF;
  RETURN NULL;
END $$;

-- An upgrade asked for, and how it ended.
CREATE FUNCTION upgrade_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.status IS NOT DISTINCT FROM OLD.status THEN RETURN NULL; END IF;
  PERFORM record_event(
    CASE WHEN TG_OP = 'INSERT' THEN 'upgrade.requested' ELSE 'upgrade.' || lower(NEW.status) END,
    NEW.job_id, NEW.to_execution_id,
    jsonb_build_object('jobName', job_name(NEW.job_id), 'upgradeId', NEW.id, 'mode', NEW.mode, 'status', NEW.status,
                       'error', NEW.error_message));
  RETURN NULL;
END $$;

-- A cluster's definition (never its credentials).
CREATE FUNCTION cluster_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND (NEW.url, NEW.auth, NEW.savepoint_dir) IS NOT DISTINCT FROM (OLD.url, OLD.auth, OLD.savepoint_dir) THEN
    RETURN NULL;
  END IF;
  PERFORM record_event('cluster.' || CASE TG_OP WHEN 'INSERT' THEN 'created' WHEN 'UPDATE' THEN 'updated' ELSE 'deleted' END,
    NULL, NULL,
    jsonb_build_object('cluster', CASE WHEN TG_OP = 'DELETE' THEN OLD.name ELSE NEW.name END,
                       'url', CASE WHEN TG_OP = 'DELETE' THEN OLD.url ELSE NEW.url END));
  RETURN NULL;
END $$;

CREATE TRIGGER execution_events AFTER INSERT OR UPDATE OF status ON job_executions
  FOR EACH ROW EXECUTE FUNCTION execution_events();
-- Only writes naming a definition or schedule column: a tick's bookkeeping (last run, preflight) pays nothing.
CREATE TRIGGER job_events AFTER INSERT OR DELETE OR UPDATE OF name, jar_url, entry_class, config, parallelism, enabled,
  cluster, admission, restart_policy, savepoint_retention, schedule_cron, schedule_timezone, schedule_overlap,
  schedule_replace, schedule_start_at, schedule_end_at, schedule_preflight_minutes
  ON jobs FOR EACH ROW EXECUTE FUNCTION job_events();
CREATE TRIGGER action_schedule_events AFTER INSERT OR DELETE ON job_schedules
  FOR EACH ROW EXECUTE FUNCTION action_schedule_events();
CREATE TRIGGER action_tick_events AFTER INSERT OR UPDATE OF outcome ON schedule_ticks
  FOR EACH ROW EXECUTE FUNCTION action_tick_events();
CREATE TRIGGER savepoint_events AFTER INSERT OR UPDATE OF status, disposed_at ON savepoints
  FOR EACH ROW EXECUTE FUNCTION savepoint_events();
CREATE TRIGGER upgrade_events AFTER INSERT OR UPDATE OF status ON upgrades
  FOR EACH ROW EXECUTE FUNCTION upgrade_events();
CREATE TRIGGER cluster_events AFTER INSERT OR UPDATE OR DELETE ON clusters
  FOR EACH ROW EXECUTE FUNCTION cluster_events();
`;

const TRIGGERS = [
  ['execution_events', 'job_executions'],
  ['job_events', 'jobs'],
  ['action_schedule_events', 'job_schedules'],
  ['action_tick_events', 'schedule_ticks'],
  ['savepoint_events', 'savepoints'],
  ['upgrade_events', 'upgrades'],
  ['cluster_events', 'clusters'],
];

/** @param {import('knex').Knex} knex */
exports.up = async function up(knex) {
  await knex.raw(`
    CREATE TABLE events (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      tx xid8 NOT NULL DEFAULT pg_current_xact_id(),
      type text NOT NULL,
      occurred_at timestamptz NOT NULL DEFAULT ${MS_NOW},
      job_id uuid,
      execution_id uuid,
      payload jsonb NOT NULL DEFAULT '{}',
      relayed_at timestamptz,
      published_at timestamptz
    )`);
  await knex.raw('CREATE INDEX events_feed_idx ON events (tx, id)');
  await knex.raw('CREATE INDEX events_job_feed_idx ON events (job_id, tx, id) WHERE job_id IS NOT NULL');
  await knex.raw('CREATE INDEX events_unpublished_idx ON events (id) WHERE published_at IS NULL');
  await knex.raw('CREATE INDEX events_occurred_at_idx ON events (occurred_at)');
  await knex.raw(FUNCTIONS);
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  for (const [name, table] of TRIGGERS) await knex.raw(`DROP TRIGGER IF EXISTS ${name} ON ${table}`);
  for (const [name] of TRIGGERS) await knex.raw(`DROP FUNCTION IF EXISTS ${name}()`);
  await knex.raw('DROP FUNCTION IF EXISTS job_name(uuid)');
  await knex.raw('DROP FUNCTION IF EXISTS record_event(text, uuid, uuid, jsonb)');
  await knex.raw('DROP TABLE IF EXISTS events');
};
