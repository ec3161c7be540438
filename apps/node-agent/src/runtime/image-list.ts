import type Docker from 'dockerode';

/** Upstream refreshes its image cache on this period (pkg/kubelet/images/image_gc_manager.go). */
export const IMAGE_LIST_REFRESH_MS = 5 * 60_000;

/**
 * The engine's image list, cached as the kubelet's imageManager caches it for the node status
 * (image_gc_manager.go imageCache / GetImageList): the status sync reads it every few seconds,
 * but it changes only when this agent pulls or removes an image, so it is read again after
 * one of those (`invalidate`) or once `refreshMs` passed (an image another client pulled).
 */
export class ImageList {
  private cached: { at: number; images: Promise<Docker.ImageInfo[]> } | undefined;

  constructor(
    private readonly docker: Pick<Docker, 'listImages'>,
    private readonly o: { refreshMs?: number; now?: () => number } = {},
  ) {}

  list(): Promise<Docker.ImageInfo[]> {
    const now = (this.o.now ?? Date.now)();
    if (this.cached && now - this.cached.at < (this.o.refreshMs ?? IMAGE_LIST_REFRESH_MS))
      return this.cached.images;
    const images = this.docker.listImages();
    const entry = { at: now, images };
    this.cached = entry;
    // A failed read is not a list to keep.
    images.catch(() => {
      if (this.cached === entry) this.cached = undefined;
    });
    return images;
  }

  /**
   * The engine's images changed (a pull, a removal): the next `list` reads them again; a read
   * under way now may have missed the change, and is dropped with the rest.
   */
  invalidate(): void {
    this.cached = undefined;
  }
}
