import { execFile } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, writeSync, ftruncateSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { ROOT, round, startProcess, type Benchmark } from '../lib';

const run = promisify(execFile);

export const jarStreamingBenchmark: Benchmark = async (ctx) => {
  const size = ctx.quick ? 64 * 2 ** 20 : 2 ** 30;
  const dir = path.join(ROOT, 'bench', 'tmp', 'big');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'big.jar');
  // A zip's first bytes, then a sparse file: the size is real, the disk use is not.
  const fd = openSync(file, 'w');
  writeSync(fd, Buffer.from([0x50, 0x4b, 0x03, 0x04]));
  ftruncateSync(fd, size);
  closeSync(fd);
  const data = await startProcess('data-processor', ['scripts/serve-jars.js', dir, '0'], {}, /DATA_PROCESSOR_URL=/);
  const sink = await startProcess('upload-sink', ['bench/upload-sink.js'], {}, /SINK_URL=/);
  const url = `${/DATA_PROCESSOR_URL=(\S+)/.exec(data.output())?.[1]}/big.jar`;
  const sinkUrl = /SINK_URL=(\S+)/.exec(sink.output())?.[1] as string;
  try {
    ctx.log(`5: ${size / 2 ** 20} MiB JAR, curl pipe baseline then our download → upload`);
    const curlStart = process.hrtime.bigint();
    await run(
      'bash',
      [
        '-c',
        // curl cannot stream stdin as a multipart part (7.88 buffers it, and refuses 1 GiB), so
        // the baseline streams the same bytes as a raw chunked POST: a pipe with no spooling.
        `curl -sf '${url}' | curl -sf -X POST -H 'Content-Type: application/java-archive' -T - '${sinkUrl}/jars/upload' > /dev/null`,
      ],
      { maxBuffer: 1024 * 1024 },
    );
    const curlSeconds = Number(process.hrtime.bigint() - curlStart) / 1e9;
    const { stdout } = await run(
      process.execPath,
      ['--expose-gc', '--conditions=source', '--require', 'tsx/cjs', 'bench/jar-transfer.ts', url, sinkUrl],
      {
        cwd: ROOT,
        maxBuffer: 1024 * 1024,
      },
    );
    const ours = JSON.parse(stdout) as { seconds: number; rssBeforeMiB: number; rssPeakMiB: number };
    const growth = ours.rssPeakMiB - ours.rssBeforeMiB;
    const mib = size / 2 ** 20;
    return [
      {
        id: 5.1,
        name: `JAR streaming ${mib} MiB: worker RSS growth`,
        value: round(growth, 1),
        unit: 'MiB',
        baseline: round(ours.rssBeforeMiB, 1),
        ratio: null,
        target: '≤ 64 MiB growth',
        met: growth <= 64,
      },
      {
        id: 5.2,
        name: `JAR streaming ${mib} MiB: download → upload throughput`,
        value: round(mib / ours.seconds, 1),
        unit: 'MiB/s',
        baseline: round(mib / curlSeconds, 1),
        ratio: round(curlSeconds / ours.seconds, 3),
        target: '≥ 0.5× curl download piped to upload',
        met: curlSeconds / ours.seconds >= 0.5,
      },
    ];
  } finally {
    await data.stop();
    await sink.stop();
    rmSync(dir, { recursive: true, force: true });
  }
};
