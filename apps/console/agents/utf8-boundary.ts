/**
 * Streamed output is cut wherever the agent's pipe read ended, which can be inside a UTF-8
 * character. Answering such a slice as a JSON string would turn both halves into U+FFFD, so
 * the console answers up to the last whole character and keeps the rest for the next answer.
 */

/** Length of the sequence a lead byte starts (0 for a continuation byte, 1 for ASCII or a byte that starts none). */
function sequenceLength(byte: number): number {
  if (byte < 0x80) return 1;
  if (byte < 0xc0) return 0;
  if (byte < 0xe0) return 2;
  if (byte < 0xf0) return 3;
  if (byte < 0xf8) return 4;
  return 1;
}

/** `bytes` without a trailing, not yet complete UTF-8 character (invalid bytes are left as they are). */
export function wholeCharacters(bytes: Buffer): Buffer {
  for (let back = 1; back <= Math.min(4, bytes.length); back++) {
    const length = sequenceLength(bytes[bytes.length - back]!);
    if (length === 0) continue;
    return length > back ? bytes.subarray(0, bytes.length - back) : bytes;
  }
  return bytes;
}
