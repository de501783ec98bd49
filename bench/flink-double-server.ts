// The Flink test double as its own process, so benchmarks measure our processes, not it.
import { FlinkTestDouble } from '@flink-orchestrator/flink-test-double';

const flink = new FlinkTestDouble({
  timing: {
    initializeMs: Number(process.env.DOUBLE_INITIALIZE_MS ?? 20),
    finishMs: Number(process.env.DOUBLE_FINISH_MS ?? 1),
  },
});

const fail = (error: unknown) => {
  process.stderr.write(`flink double: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
};

flink.start().then((url) => process.stdout.write(`FLINK_URL=${url}\n`), fail);
process.on('SIGTERM', () => {
  flink.stop().then(() => process.exit(0), fail);
});
