import { crc32 } from './zip';

function entry(name: string, data: Buffer): { local: Buffer; central: (offset: number) => Buffer } {
  const nameBytes = Buffer.from(name, 'utf8');
  const crc = crc32(data);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(10, 4); // version needed
  local.writeUInt16LE(0, 8); // stored
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(data.length, 22);
  local.writeUInt16LE(nameBytes.length, 26);
  return {
    local: Buffer.concat([local, nameBytes, data]),
    central: (offset) => {
      const c = Buffer.alloc(46);
      c.writeUInt32LE(0x02014b50, 0);
      c.writeUInt16LE(20, 4);
      c.writeUInt16LE(10, 6);
      c.writeUInt32LE(crc, 16);
      c.writeUInt32LE(data.length, 20);
      c.writeUInt32LE(data.length, 24);
      c.writeUInt16LE(nameBytes.length, 28);
      c.writeUInt32LE(offset, 42);
      return Buffer.concat([c, nameBytes]);
    },
  };
}

/** One manifest attribute, wrapped at 72 bytes as the JAR spec asks (continuations start with a space). */
function manifestLine(text: string): string {
  const chunks = [text.slice(0, 72)];
  for (let i = 72; i < text.length; i += 71) chunks.push(` ${text.slice(i, i + 71)}`);
  return chunks.map((c) => `${c}\r\n`).join('');
}

/**
 * A small valid JAR (a zip with a manifest naming `mainClass`), for tests. `extraBytes`
 * pads it with a filler entry, to make downloads take a while.
 */
export function buildTestJar(mainClass: string, extraBytes = 0): Buffer {
  const manifest = `${manifestLine('Manifest-Version: 1.0')}${manifestLine(`Main-Class: ${mainClass}`)}\r\n`;
  const files: [string, Buffer][] = [['META-INF/MANIFEST.MF', Buffer.from(manifest, 'utf8')]];
  if (extraBytes > 0) files.push(['filler.bin', Buffer.alloc(extraBytes, 0x2a)]);
  const parts: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, data] of files) {
    const e = entry(name, data);
    centrals.push(e.central(offset));
    parts.push(e.local);
    offset += e.local.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, directory, end]);
}
