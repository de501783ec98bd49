// @ts-check
// Webhooks and their deliveries. A delivery is one event for one webhook: unique, so a
// fan-out repeated after a crash makes no second one. `failing_since` is when the webhook's
// current run of failures began; past the retry window the webhook is disabled and
// `disabled_reason` says why. `secret` signs deliveries and is never read back by the API.

const MS_NOW = "date_trunc('milliseconds', clock_timestamp())";

/** @param {import('knex').Knex} knex */
exports.up = async function up(knex) {
  await knex.schema.createTable('webhooks', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('url').notNullable();
    t.specificType('events', 'text[]').notNullable();
    t.uuid('job_id').references('id').inTable('jobs').onDelete('CASCADE');
    t.text('format').notNullable().defaultTo('json');
    t.text('secret');
    t.boolean('enabled').notNullable().defaultTo(true);
    t.text('disabled_reason');
    t.timestamp('failing_since', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.raw(MS_NOW));
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.raw(MS_NOW));
    t.index(['created_at', 'id'], 'webhooks_created_at_id_idx');
  });
  await knex.raw("ALTER TABLE webhooks ADD CONSTRAINT webhooks_format_check CHECK (format IN ('json', 'slack'))");

  await knex.schema.createTable('webhook_deliveries', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('webhook_id').notNullable().references('id').inTable('webhooks').onDelete('CASCADE');
    t.bigInteger('event_id').notNullable().references('id').inTable('events').onDelete('CASCADE');
    t.text('status').notNullable().defaultTo('PENDING');
    t.integer('attempts').notNullable().defaultTo(0);
    t.integer('status_code');
    t.integer('duration_ms');
    t.text('last_error');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.raw(MS_NOW));
    t.timestamp('last_attempt_at', { useTz: true });
    t.timestamp('delivered_at', { useTz: true });
    t.unique(['webhook_id', 'event_id']);
  });
  await knex.raw(
    "ALTER TABLE webhook_deliveries ADD CONSTRAINT webhook_deliveries_status_check CHECK (status IN ('PENDING', 'DELIVERED', 'FAILED'))",
  );
  await knex.raw(
    'CREATE INDEX webhook_deliveries_newest_idx ON webhook_deliveries (webhook_id, created_at DESC, id DESC)',
  );
  await knex.raw('CREATE INDEX webhook_deliveries_event_idx ON webhook_deliveries (event_id)');
  // The sweep's worklist: deliveries whose queue message may have been lost with Redis.
  await knex.raw(
    "CREATE INDEX webhook_deliveries_pending_idx ON webhook_deliveries (created_at) WHERE status = 'PENDING'",
  );
  // A webhook disabled for failing is an event too: another webhook or the feed can tell someone.
  await knex.raw(`
    CREATE FUNCTION webhook_events() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF OLD.enabled AND NOT NEW.enabled AND NEW.disabled_reason IS NOT NULL THEN
        PERFORM record_event('webhook.disabled', NEW.job_id, NULL,
          jsonb_build_object('webhookId', NEW.id, 'url', NEW.url, 'reason', NEW.disabled_reason));
      END IF;
      RETURN NULL;
    END $$;
    CREATE TRIGGER webhook_events AFTER UPDATE OF enabled ON webhooks FOR EACH ROW EXECUTE FUNCTION webhook_events();
  `);
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.raw('DROP TRIGGER IF EXISTS webhook_events ON webhooks');
  await knex.raw('DROP FUNCTION IF EXISTS webhook_events()');
  await knex.schema.dropTableIfExists('webhook_deliveries');
  await knex.schema.dropTableIfExists('webhooks');
};
