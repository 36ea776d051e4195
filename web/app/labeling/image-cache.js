// Decoded images by URL, shared by every workspace on the page, so the next
// task's image (preloaded while the current one is labelled) shows at once;
// and for big images their smaller copies (levels), made once per image, so
// that the first frame of a preloaded image draws from a small copy instead
// of resampling millions of pixels.

/** @typedef {{scale: number, source: CanvasImageSource}} ImageLevel */

/** @type {Map<string, Promise<HTMLImageElement>>} */
const cache = new Map();
/** Least recently used first; a few big images are plenty. */
const LIMIT = 6;

/**
 * Load and decode an image, or return the one already loading or loaded.
 * @param {string} url
 * @returns {Promise<HTMLImageElement>}
 */
export function preloadImage(url) {
  const hit = cache.get(url);
  if (hit) {
    cache.delete(url);
    cache.set(url, hit);
    return hit;
  }
  const loading = new Promise((resolve, reject) => {
    const image = new Image();
    image.decoding = 'async';
    image.onload = () => {
      // decode() makes the first drawImage cheap instead of decoding then.
      image.decode().then(
        () => resolve(image),
        () => resolve(image),
      );
    };
    image.onerror = () => {
      cache.delete(url);
      reject(new Error(`could not load image ${url}`));
    };
    image.src = url;
  });
  cache.set(url, loading);
  while (cache.size > LIMIT) {
    const oldest = cache.keys().next().value;
    if (oldest === undefined) break;
    const evicted = cache.get(oldest);
    cache.delete(oldest);
    // Free the big bitmaps now rather than at some later garbage collection.
    evicted?.then((image) => {
      const made = levelCache.get(image);
      levelCache.delete(image);
      made?.promise.then((levels) => levels.forEach((level) => level.source instanceof ImageBitmap && level.source.close()));
    }, () => {});
  }
  return loading;
}

/** Images with more pixels than this get a decoded bitmap of their own. */
const BITMAP_PIXELS = 4e6;
/** Levels are halved until both sides fit this. */
const SMALLEST_SIDE = 1024;

/** @type {WeakMap<HTMLImageElement, {promise: Promise<ImageLevel[]>, levels: ImageLevel[] | null}>} */
const levelCache = new WeakMap();

/**
 * The image at full size and halved copies down to about 1024 pixels a
 * side, largest first; made once per image and shared (callers must not
 * close the bitmaps: the cache does when the image leaves it).
 * @param {HTMLImageElement} image
 * @returns {Promise<ImageLevel[]>}
 */
export function imageLevels(image) {
  const known = levelCache.get(image);
  if (known) return known.promise;
  /** @type {{promise: Promise<ImageLevel[]>, levels: ImageLevel[] | null}} */
  const entry = { promise: makeLevels(image), levels: null };
  entry.promise.then((levels) => {
    entry.levels = levels;
  });
  levelCache.set(image, entry);
  return entry.promise;
}

/**
 * The levels of an image if they are made already, else null.
 * @param {HTMLImageElement} image
 * @returns {ImageLevel[] | null}
 */
export function readyLevels(image) {
  return levelCache.get(image)?.levels ?? null;
}

/** @param {HTMLImageElement} image @returns {Promise<ImageLevel[]>} */
async function makeLevels(image) {
  let width = image.naturalWidth || image.width;
  let height = image.naturalHeight || image.height;
  let scale = 1;
  // A decoded bitmap of the full image too: the browser may drop an
  // <img>'s decoded pixels and decode again (slowly) on the next zoom in.
  /** @type {CanvasImageSource} */
  let full = image;
  if (width * height > BITMAP_PIXELS) {
    try {
      full = await createImageBitmap(image);
    } catch {
      // Keep drawing from the <img>.
    }
  }
  /** @type {ImageLevel[]} */
  const levels = [{ scale: 1, source: full }];
  let source = /** @type {ImageBitmapSource} */ (full);
  while (width > SMALLEST_SIDE || height > SMALLEST_SIDE) {
    width = Math.max(1, Math.round(width / 2));
    height = Math.max(1, Math.round(height / 2));
    scale /= 2;
    try {
      const bitmap = await createImageBitmap(source, { resizeWidth: width, resizeHeight: height, resizeQuality: 'medium' });
      levels.push({ scale, source: bitmap });
      source = bitmap;
    } catch {
      break;
    }
  }
  return levels;
}
