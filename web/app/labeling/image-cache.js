// Decoded images by URL, shared by every workspace on the page, so the next
// task's image (preloaded while the current one is labelled) shows at once;
// and for big images their smaller copies (levels), made once per image, so
// that the first frame of a preloaded image draws from a small copy instead
// of resampling millions of pixels. Big images are decoded and halved in a
// worker (image-worker.js) where they can be fetched there, so the page
// stays responsive while a 100-megapixel image is made ready.

/** @typedef {{scale: number, source: CanvasImageSource}} ImageLevel */

/** @type {Map<string, Promise<HTMLImageElement>>} */
const cache = new Map();
/** Least recently used first; a few big images are plenty. */
const LIMIT = 6;
/** Pixels of the images kept (their levels hold about 1.3 times as many), beyond the two used last. */
const PIXEL_LIMIT = 150e6;
/** Images the browser decoded ahead (`decode()` refuses very big ones): drawing those is quick. @type {WeakSet<HTMLImageElement>} */
const decoded = new WeakSet();
/** Sizes of the images in the cache, for its pixel limit. @type {Map<string, number>} */
const pixelsOf = new Map();

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
      pixelsOf.set(url, image.naturalWidth * image.naturalHeight);
      // decode() makes the first drawImage cheap instead of decoding then.
      image.decode().then(
        () => {
          decoded.add(image);
          resolve(image);
        },
        () => resolve(image),
      );
      evict();
    };
    image.onerror = () => {
      cache.delete(url);
      reject(new Error(`could not load image ${url}`));
    };
    image.src = url;
  });
  cache.set(url, loading);
  evict();
  return loading;
}

/**
 * Whether drawing an image at full size is quick: it is small, or the
 * browser decoded it ahead. Else the first drawImage decodes it on the
 * page's thread (1.3 s for 12000×9000 on a 2-core machine): better wait for
 * its levels, which the worker makes.
 * @param {HTMLImageElement} image
 */
export function quickToDraw(image) {
  return decoded.has(image) || (image.naturalWidth || image.width) * (image.naturalHeight || image.height) <= BITMAP_PIXELS;
}

/** Drop the least recently used images over the count or pixel limits, but never the two used last. */
function evict() {
  const total = () => [...cache.keys()].reduce((sum, url) => sum + (pixelsOf.get(url) ?? 0), 0);
  while (cache.size > LIMIT || (cache.size > 2 && total() > PIXEL_LIMIT)) {
    const oldest = cache.keys().next().value;
    if (oldest === undefined) break;
    const evicted = cache.get(oldest);
    cache.delete(oldest);
    pixelsOf.delete(oldest);
    // Free the big bitmaps now rather than at some later garbage collection.
    evicted?.then((image) => {
      const made = levelCache.get(image);
      levelCache.delete(image);
      made?.promise.then((levels) => levels.forEach((level) => level.source instanceof ImageBitmap && level.source.close()));
    }, () => {});
  }
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

/**
 * The levels of an image: made in the worker when it can fetch the image,
 * else here from the decoded <img>.
 * @param {HTMLImageElement} image @returns {Promise<ImageLevel[]>}
 */
async function makeLevels(image) {
  const width = image.naturalWidth || image.width;
  const height = image.naturalHeight || image.height;
  if (width * height > BITMAP_PIXELS) {
    const levels = await levelsInWorker(image.currentSrc || image.src).catch(() => null);
    if (levels && levels[0].source.width === width && levels[0].source.height === height) return levels;
    levels?.forEach((level) => level.source.close());
  }
  return levelsHere(image);
}

/** @type {Worker | null} */
let worker = null;
let nextRequest = 0;
/** @typedef {{scale: number, source: ImageBitmap}} BitmapLevel */
/** Requests to the worker waiting for their answer. @type {Map<number, {resolve: (levels: BitmapLevel[]) => void, reject: (error: Error) => void}>} */
const requests = new Map();

/**
 * Decode and halve an image in the worker. Fails where the worker cannot
 * fetch it (another origin, a blob: or data: address the page's CSP keeps
 * from `fetch`) or cannot start.
 * @param {string} url @returns {Promise<BitmapLevel[]>}
 */
function levelsInWorker(url) {
  const absolute = new URL(url, location.href);
  if (absolute.origin !== location.origin) return Promise.reject(new Error('not this origin'));
  if (!worker) {
    worker = new Worker(new URL('./image-worker.js', import.meta.url));
    worker.onmessage = ({ data }) => {
      const request = requests.get(data.id);
      requests.delete(data.id);
      if (data.error) request?.reject(new Error(data.error));
      else request?.resolve(data.levels);
    };
  }
  const id = nextRequest++;
  return new Promise((resolve, reject) => {
    requests.set(id, { resolve, reject });
    worker?.postMessage({ id, url: absolute.href, smallest: SMALLEST_SIDE });
  });
}

/** The levels made on this thread, from the <img>. @param {HTMLImageElement} image @returns {Promise<ImageLevel[]>} */
async function levelsHere(image) {
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
