/** Go's os.PathError text for a failed open: "open /x: no such file or directory". */
export function openError(file: string, err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const why: Record<string, string> = {
    ENOENT: 'no such file or directory',
    EACCES: 'permission denied',
    EISDIR: 'is a directory',
    ENOTDIR: 'not a directory',
    EROFS: 'read-only file system',
  };
  return `open ${file}: ${(e.code && why[e.code]) || e.message}`;
}
