// Mask encodings, pure functions with no DOM, so they also run under node
// for the codec tests against the masks crate's vectors
// (crates/masks/tests/data/*.json):
//
// - COCO RLE as pycocotools defines it: `counts` are the lengths of
//   alternating runs over the pixels in column-major order (down each
//   column, then the next column), the first run of unset pixels (0 when
//   the first pixel is set). Its compressed string (`rleToString`) writes
//   each count as little-endian 5-bit groups, one character each
//   (48 + group, bit 0x20 while more follow, sign from the last group's
//   0x10), and from the fourth count on `counts[i] - counts[i - 2]`.
// - Label Studio's brush RLE (`"format": "rle"`): `@thi.ng/rle-pack` over
//   the RGBA bytes of the mask, row-major, a pixel painted where its alpha
//   is nonzero. Only read: edited masks are written as COCO RLE.

/**
 * The compressed string of COCO counts (pycocotools' `rleToString`).
 * @param {ArrayLike<number>} counts
 * @returns {string}
 */
export function countsToString(counts) {
  let out = '';
  for (let i = 0; i < counts.length; i++) {
    // Plain numbers, not 32-bit integers: a delta of two counts can need 33 bits.
    let value = i > 2 ? counts[i] - counts[i - 2] : counts[i];
    for (;;) {
      let group = value & 0x1f;
      value = Math.floor(value / 32); // arithmetic shift: negative deltas stay negative
      const more = group & 0x10 ? value !== -1 : value !== 0;
      if (more) group |= 0x20;
      out += String.fromCharCode(48 + group);
      if (!more) break;
    }
  }
  return out;
}

/** Characters one compressed count may take: 33 bits and a sign (see the masks crate). */
const MAX_CHARS_PER_COUNT = 7;

/**
 * COCO counts from their compressed string (pycocotools' `rleFrString`).
 * Throws on a character outside '0'..'o', a string that ends inside a
 * count, and a count that is negative or over 32 bits.
 * @param {string} text
 * @returns {number[]}
 */
export function countsFromString(text) {
  /** @type {number[]} */
  const counts = [];
  let position = 0;
  while (position < text.length) {
    let value = 0;
    let chars = 0;
    for (;;) {
      if (position >= text.length) throw new Error('the counts string ends inside a count');
      const code = text.charCodeAt(position) - 48;
      if (code < 0 || code > 63) throw new Error(`bad character at ${position} of the counts string`);
      value += (code & 0x1f) * 2 ** (5 * chars);
      position++;
      chars++;
      if (!(code & 0x20)) {
        if (code & 0x10) value -= 2 ** (5 * chars); // sign-extend
        break;
      }
      if (chars === MAX_CHARS_PER_COUNT) throw new Error(`count ${counts.length} is too long`);
    }
    const index = counts.length;
    if (index > 2) value += counts[index - 2];
    if (value < 0 || value > 0xffffffff) throw new Error(`count ${index} is ${value}`);
    counts.push(value);
  }
  return counts;
}

/**
 * Reads big-endian bit fields, most significant bit of each byte first.
 */
class BitReader {
  /** @param {ArrayLike<number>} bytes */
  constructor(bytes) {
    this.bytes = bytes;
    this.position = 0;
    this.end = bytes.length * 8;
  }

  /**
   * The next `bits` (at most 32) bits as a number; throws past the end.
   * @param {number} bits
   */
  read(bits) {
    if (this.position + bits > this.end) throw new Error('the rle ends early');
    let value = 0;
    let left = bits;
    while (left > 0) {
      const byte = this.bytes[this.position >>> 3] & 0xff;
      const used = this.position & 7;
      const take = Math.min(8 - used, left);
      const chunk = (byte >>> (8 - used - take)) & ((1 << take) - 1);
      value = value * (1 << take) + chunk;
      this.position += take;
      left -= take;
    }
    return value;
  }
}

/**
 * The painted pixels of a Label Studio brush RLE on a `width × height`
 * grid, as runs of row-major pixel indexes: `[start, end, start, end, ...]`,
 * in order and not touching. A pixel is painted where its alpha byte is
 * nonzero (as Label Studio shows it and its converter reads it). Throws when
 * the stream does not hold `width × height × 4` values.
 * @param {ArrayLike<number>} rle
 * @param {number} width @param {number} height
 * @returns {number[]}
 */
export function labelStudioRuns(rle, width, height) {
  const input = new BitReader(rle);
  const total = input.read(32);
  const wordBits = input.read(5) + 1;
  const lengthBits = [0, 0, 0, 0].map(() => input.read(4) + 1);
  if (total !== width * height * 4) throw new Error(`the rle holds ${total} values, not ${width * height * 4}`);
  /** @type {number[]} */
  const runs = [];
  /** Add pixels [start, end), merging with the previous run when they touch. @param {number} start @param {number} end */
  const add = (start, end) => {
    if (end <= start) return;
    if (runs.length && runs[runs.length - 1] === start) runs[runs.length - 1] = end;
    else runs.push(start, end);
  };
  let index = 0;
  while (index < total) {
    const repeated = input.read(1) === 1;
    const length = input.read(lengthBits[input.read(2)]) + 1;
    if (index + length > total) throw new Error('an rle block runs past the end');
    if (repeated) {
      // The pixels whose alpha byte (4p + 3) lies in the run.
      if (input.read(wordBits) !== 0) add(Math.floor(index / 4), Math.floor((index + length) / 4));
    } else {
      for (let position = index; position < index + length; position++) {
        const value = input.read(wordBits);
        if (value !== 0 && position % 4 === 3) add((position - 3) / 4, (position + 1) / 4);
      }
    }
    index += length;
  }
  return runs;
}
