// Decoded images by URL, shared by every workspace on the page, so the next
// task's image (preloaded while the current one is labelled) shows at once.

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
    cache.delete(oldest);
  }
  return loading;
}
