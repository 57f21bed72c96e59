/**
 * Reads a zip archive (a .vsix) from its central directory (PKWARE APPNOTE 6.3.9, §4.3): entry names,
 * and the bytes of stored or deflated entries. Enough for inspecting packages; no zip64.
 */
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';

export interface ZipArchive {
  names: string[];
  read(name: string): Buffer;
  /** The Unix permission bits the archiver recorded (the high half of the external attributes), 0 when none. */
  mode(name: string): number;
}

export function readZip(file: string): ZipArchive {
  const data = fs.readFileSync(file);
  // End of central directory record: signature 0x06054b50, at most 64 KiB of comment after it.
  let end = data.length - 22;
  while (end >= Math.max(0, data.length - 22 - 0xffff) && data.readUInt32LE(end) !== 0x06054b50) end--;
  if (end < 0 || data.readUInt32LE(end) !== 0x06054b50) throw new Error(`${file}: not a zip archive`);
  const count = data.readUInt16LE(end + 10);
  let at = data.readUInt32LE(end + 16);
  const entries = new Map<string, { method: number; compressedSize: number; localHeader: number; mode: number }>();
  for (let i = 0; i < count; i++) {
    if (data.readUInt32LE(at) !== 0x02014b50) throw new Error(`${file}: bad central directory entry ${i}`);
    const method = data.readUInt16LE(at + 10);
    const compressedSize = data.readUInt32LE(at + 20);
    const nameLength = data.readUInt16LE(at + 28);
    const extraLength = data.readUInt16LE(at + 30);
    const commentLength = data.readUInt16LE(at + 32);
    const mode = (data.readUInt32LE(at + 38) >>> 16) & 0o777;
    const localHeader = data.readUInt32LE(at + 42);
    entries.set(data.toString('utf8', at + 46, at + 46 + nameLength), { method, compressedSize, localHeader, mode });
    at += 46 + nameLength + extraLength + commentLength;
  }
  const entry = (name: string) => {
    const found = entries.get(name);
    if (!found) throw new Error(`${file}: no entry ${name}`);
    return found;
  };
  return {
    names: [...entries.keys()],
    mode: (name) => entry(name).mode,
    read(name) {
      const { localHeader, compressedSize, method } = entry(name);
      const start = localHeader + 30 + data.readUInt16LE(localHeader + 26) + data.readUInt16LE(localHeader + 28);
      const bytes = data.subarray(start, start + compressedSize);
      if (method === 0) return Buffer.from(bytes);
      if (method === 8) return zlib.inflateRawSync(bytes);
      throw new Error(`${file}: ${name} uses compression method ${method}`);
    },
  };
}

/** Writes every entry under `prefix` into `directory` (the prefix removed) with its recorded mode, as VS Code installs a vsix. */
export function extractZip(archive: ZipArchive, prefix: string, directory: string): void {
  for (const name of archive.names) {
    if (!name.startsWith(prefix) || name.endsWith('/')) continue;
    const target = `${directory}/${name.slice(prefix.length)}`;
    fs.mkdirSync(target.slice(0, target.lastIndexOf('/')), { recursive: true });
    fs.writeFileSync(target, archive.read(name), { mode: archive.mode(name) || 0o644 });
  }
}
