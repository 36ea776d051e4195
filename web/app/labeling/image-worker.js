// Decodes a big image and makes its halved copies off the main thread, so
// that opening or preloading a 100-megapixel image does not freeze the
// page for seconds: the image cache (image-cache.js) sends an image's
// address, this worker fetches it (the same origin only, as the app's
// Content-Security-Policy allows), decodes it with createImageBitmap and
// halves it until both sides fit `smallest`, and hands the bitmaps back
// (transferred, not copied). A plain script: no imports, so any browser
// with workers runs it.

/** This worker's scope: `self` is typed as a window here. */
const scope = /** @type {{postMessage: (message: unknown, transfer?: Transferable[]) => void}} */ (/** @type {unknown} */ (self));

/** @param {MessageEvent<{id: number, url: string, smallest: number}>} event */
self.onmessage = async (event) => {
  const { id, url, smallest } = event.data;
  try {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`${response.status} for ${url}`);
    let source = await createImageBitmap(await response.blob());
    const levels = [{ scale: 1, source }];
    let { width, height } = source;
    let scale = 1;
    while (width > smallest || height > smallest) {
      width = Math.max(1, Math.round(width / 2));
      height = Math.max(1, Math.round(height / 2));
      scale /= 2;
      source = await createImageBitmap(source, { resizeWidth: width, resizeHeight: height, resizeQuality: 'medium' });
      levels.push({ scale, source });
    }
    scope.postMessage({ id, levels }, levels.map((level) => level.source));
  } catch (error) {
    scope.postMessage({ id, error: String(error) });
  }
};
