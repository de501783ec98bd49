import { inflateRawSync } from 'node:zlib';

/** CRC-32 (IEEE), which zip entries carry; Node 20 has no zlib.crc32. */
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

export function crc32(data: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = (CRC_TABLE[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** Reads one entry of a zip archive through its central directory; null if absent. */
export function readZipEntry(zip: Buffer, name: string): Buffer | null {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) return null;
  const entries = zip.readUInt16LE(eocd + 10);
  let offset = zip.readUInt32LE(eocd + 16);
  for (let i = 0; i < entries && offset + 46 <= zip.length; i++) {
    const method = zip.readUInt16LE(offset + 10);
    const compressed = zip.readUInt32LE(offset + 20);
    const nameLength = zip.readUInt16LE(offset + 28);
    const extraLength = zip.readUInt16LE(offset + 30);
    const commentLength = zip.readUInt16LE(offset + 32);
    const localHeader = zip.readUInt32LE(offset + 42);
    const entryName = zip.toString('utf8', offset + 46, offset + 46 + nameLength);
    if (entryName === name) {
      const dataStart = localHeader + 30 + zip.readUInt16LE(localHeader + 26) + zip.readUInt16LE(localHeader + 28);
      const data = zip.subarray(dataStart, dataStart + compressed);
      return method === 8 ? inflateRawSync(data) : Buffer.from(data);
    }
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return null;
}

/** The entry class Flink would pick: `program-class` first, then `Main-Class`. */
export function manifestEntryClass(jar: Buffer): string | null {
  const raw = readZipEntry(jar, 'META-INF/MANIFEST.MF')?.toString('utf8');
  if (!raw) return null;
  // Manifest lines are wrapped at 72 bytes; a continuation line starts with one space.
  const manifest = raw.replace(/\r?\n /g, '');
  const attribute = (key: string) => new RegExp(`^${key}:[ \\t]*(\\S+)`, 'mi').exec(manifest)?.[1] ?? null;
  return attribute('program-class') ?? attribute('Main-Class');
}
